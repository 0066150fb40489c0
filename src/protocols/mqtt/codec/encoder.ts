/**
 * Packets to bytes. The packets of the message path (PUBLISH without properties, the acknowledgements,
 * PINGRESP) are framed here directly, one allocation each; every other packet, and any packet carrying
 * 5.0 properties, goes through mqtt-packet's generator. A property test checks that both produce the
 * same bytes for every packet the fast path takes.
 */
import { generate, type Packet } from 'mqtt-packet';
import type { ProtocolVersion } from './connect-sniff.js';

const PACKET_TYPE = { publish: 3, puback: 4, pubrec: 5, pubrel: 6, pubcomp: 7 } as const;
const PINGRESP = Buffer.from([0xd0, 0x00]);

export function encodePacket(packet: Packet, version: ProtocolVersion): Buffer {
  return encodeFast(packet, version) ?? generate(packet, { protocolVersion: version });
}

/** The bytes of a packet the fast path frames, or undefined for mqtt-packet to do it. */
export function encodeFast(packet: Packet, version: ProtocolVersion): Buffer | undefined {
  switch (packet.cmd) {
    case 'publish':
      return encodePublish(packet, version);
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp': {
      if (hasProperties(packet.properties)) return undefined;
      // 5.0: a success without properties is sent without its reason code (3.4.2.1), as 3.1.1 frames it.
      // (Without a reason code at all mqtt-packet writes a 0x00 code and an empty property list: left to it.)
      if (version === 5 && packet.reasonCode !== 0) return undefined;
      const id = packet.messageId ?? 0;
      const out = Buffer.allocUnsafe(4);
      // [MQTT-3.6.1-1]: PUBREL's fixed-header flags are 0010.
      out[0] = (PACKET_TYPE[packet.cmd] << 4) | (packet.cmd === 'pubrel' ? 0x02 : 0);
      out[1] = 2;
      out[2] = id >> 8;
      out[3] = id & 0xff;
      return out;
    }
    case 'pingresp':
      return Buffer.from(PINGRESP);
    default:
      return undefined;
  }
}

function encodePublish(packet: Packet & { cmd: 'publish' }, version: ProtocolVersion): Buffer | undefined {
  return encodePublishInto(packet, version, true);
}

/**
 * The bytes of a PUBLISH the fast path frames up to its payload, or undefined for mqtt-packet to do it:
 * the caller writes the payload after it, so a large body goes to the socket as it is, shared by every
 * subscriber it is delivered to, instead of being copied into each one's packet.
 */
export function encodePublishHeader(packet: Packet & { cmd: 'publish' }, version: ProtocolVersion): Buffer | undefined {
  return encodePublishInto(packet, version, false);
}

function encodePublishInto(packet: Packet & { cmd: 'publish' }, version: ProtocolVersion, withPayload: boolean): Buffer | undefined {
  if (version === 5 && hasProperties(packet.properties)) return undefined;
  const topic = packet.topic;
  if (typeof topic !== 'string' || topic.length === 0) return undefined;
  const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
  const qos = packet.qos;
  const topicBytes = Buffer.byteLength(topic);
  const remaining = 2 + topicBytes + (qos > 0 ? 2 : 0) + (version === 5 ? 1 : 0) + payload.length;
  if (remaining > 268_435_455) return undefined;
  const out = Buffer.allocUnsafe(1 + varIntLength(remaining) + remaining - (withPayload ? 0 : payload.length));
  out[0] = 0x30 | (packet.dup ? 0x08 : 0) | (qos << 1) | (packet.retain ? 0x01 : 0);
  let at = writeVarInt(out, 1, remaining);
  out[at++] = topicBytes >> 8;
  out[at++] = topicBytes & 0xff;
  at += out.write(topic, at, 'utf8');
  if (qos > 0) {
    const id = packet.messageId ?? 0;
    out[at++] = id >> 8;
    out[at++] = id & 0xff;
  }
  if (version === 5) out[at++] = 0; // property length: none
  if (withPayload) out.set(payload, at);
  return out;
}

function hasProperties(properties: object | undefined): boolean {
  if (properties === undefined) return false;
  for (const key in properties) {
    if ((properties as Record<string, unknown>)[key] !== undefined) return true;
  }
  return false;
}

function varIntLength(value: number): number {
  return value < 128 ? 1 : value < 16_384 ? 2 : value < 2_097_152 ? 3 : 4;
}

function writeVarInt(out: Buffer, at: number, value: number): number {
  let rest = value;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    out[at++] = byte;
  } while (rest > 0);
  return at;
}
