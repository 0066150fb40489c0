/**
 * The message path's inbound packets read directly: PUBLISH without 5.0 properties, the four
 * acknowledgements with a bare packet identifier, PINGREQ. Anything else, or anything unusual in
 * these (reserved flags, QoS 3, DUP on QoS 0, packet identifier 0, properties, extra bytes), is left to
 * mqtt-packet's parser, so its checks and errors stay the only ones. A property test checks that both
 * give the same packet for everything this path takes.
 */
import type { Packet } from 'mqtt-packet';
import type { ProtocolVersion } from './connect-sniff.js';

const ACK_COMMANDS = [undefined, undefined, undefined, undefined, 'puback', 'pubrec', 'pubrel', 'pubcomp'] as const;

/** `bytes` is one whole packet (fixed header included), its string fields already checked as UTF-8. */
export function decodeFast(bytes: Buffer, version: ProtocolVersion): Packet | undefined {
  const first = bytes[0]!;
  const type = first >> 4;
  if (type === 3) return decodePublish(bytes, first, version);
  if (type >= 4 && type <= 7) {
    // [MQTT-3.6.1-1]: PUBREL's flags are 0010, the others' 0000; a 5.0 reason code or properties: mqtt-packet.
    if ((first & 0x0f) !== (type === 6 ? 0x02 : 0) || bytes.length !== 4 || bytes[1] !== 2) return undefined;
    const messageId = (bytes[2]! << 8) | bytes[3]!;
    if (messageId === 0) return undefined;
    // mqtt-packet reads the fixed-header flags as usual: PUBREL's 0010 is "QoS 1".
    const packet = { cmd: ACK_COMMANDS[type]!, retain: false, qos: type === 6 ? 1 : 0, dup: false, length: 2, topic: null, payload: null, messageId } as unknown as Packet;
    // mqtt-packet reports the implied success code of a 5.0 acknowledgement without one.
    if (version === 5) (packet as { reasonCode?: number }).reasonCode = 0;
    return packet;
  }
  if (first === 0xc0 && bytes.length === 2) {
    return { cmd: 'pingreq', retain: false, qos: 0, dup: false, length: 0, topic: null, payload: null } as unknown as Packet;
  }
  return undefined;
}

/** The last topic decoded, as bytes and as a string: a publisher mostly repeats its topic. */
let lastTopicBytes = Buffer.alloc(0);
let lastTopic = '';

function topicAt(bytes: Buffer, at: number, length: number): string {
  const last = lastTopicBytes;
  if (last.length === length) {
    let i = 0;
    while (i < length && last[i] === bytes[at + i]) i++;
    if (i === length) return lastTopic;
  }
  lastTopic = bytes.toString('utf8', at, at + length);
  // A copy: the packet's bytes are a view of a socket chunk, which must not be kept alive by this memo.
  lastTopicBytes = Buffer.from(bytes.subarray(at, at + length));
  return lastTopic;
}

function decodePublish(bytes: Buffer, first: number, version: ProtocolVersion): Packet | undefined {
  const qos = (first >> 1) & 0x03;
  const dup = (first & 0x08) !== 0;
  if (qos === 3 || (qos === 0 && dup)) return undefined;
  // Remaining length (a variable byte integer; the framer has checked it is at most four bytes).
  let at = 1;
  let length = 0;
  let multiplier = 1;
  for (;;) {
    const byte = bytes[at++]!;
    length += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) break;
    multiplier *= 128;
  }
  if (at + length !== bytes.length || length < 2) return undefined;
  const topicLength = (bytes[at]! << 8) | bytes[at + 1]!;
  at += 2;
  if (topicLength === 0 || at + topicLength > bytes.length) return undefined;
  const topic = topicAt(bytes, at, topicLength);
  at += topicLength;
  let messageId: number | undefined;
  if (qos > 0) {
    if (at + 2 > bytes.length) return undefined;
    messageId = (bytes[at]! << 8) | bytes[at + 1]!;
    if (messageId === 0) return undefined;
    at += 2;
  }
  if (version === 5) {
    if (at >= bytes.length || bytes[at] !== 0) return undefined;
    at += 1;
  }
  const packet = { cmd: 'publish', retain: (first & 0x01) !== 0, qos, dup, length, topic, payload: bytes.subarray(at) } as Packet & { messageId?: number };
  if (messageId !== undefined) packet.messageId = messageId;
  return packet;
}
