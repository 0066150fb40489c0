/**
 * The few MQTT 3.1.1 packets the load generator needs, encoded by hand. A client library would cost more
 * CPU per message than some of the brokers it measures (shared/PEER-BASELINE.md: mqtt.js saturated its
 * core first), so publishers pre-encode their PUBLISH frames once and copy them, and subscribers parse
 * frames in place without building packet objects. This is bench code, kept apart from Courier's own
 * codec on purpose: the load generator must not share a bug with the broker it measures.
 */

export const PACKET_CONNACK = 2;
export const PACKET_PUBLISH = 3;
export const PACKET_PUBACK = 4;
export const PACKET_SUBACK = 9;

export const DISCONNECT_FRAME: Buffer = Buffer.from([0xe0, 0x00]);

/** Bytes the variable-length "remaining length" field takes for `length`. */
export function remainingLengthBytes(length: number): number {
  if (length < 0 || length > 268_435_455) throw new RangeError(`MQTT remaining length out of range: ${length}`);
  if (length < 128) return 1;
  if (length < 16_384) return 2;
  if (length < 2_097_152) return 3;
  return 4;
}

function writeRemainingLength(target: Buffer, offset: number, length: number): number {
  let value = length;
  let position = offset;
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    target[position++] = byte;
  } while (value > 0);
  return position;
}

function frame(firstByte: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(1 + remainingLengthBytes(body.length) + body.length);
  out[0] = firstByte;
  const start = writeRemainingLength(out, 1, body.length);
  body.copy(out, start);
  return out;
}

function utf8String(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const out = Buffer.allocUnsafe(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

export interface ConnectOptions {
  readonly clientId: string;
  readonly cleanSession: boolean;
  /** 0 turns keep-alive off, so an idle benchmark connection needs no PINGREQ. */
  readonly keepAliveSeconds: number;
  readonly username?: string;
  readonly password?: string;
}

export function encodeConnect(options: ConnectOptions): Buffer {
  let flags = options.cleanSession ? 0x02 : 0;
  if (options.username !== undefined) flags |= 0x80;
  if (options.password !== undefined) flags |= 0x40;
  const header = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, flags, options.keepAliveSeconds >> 8, options.keepAliveSeconds & 0xff]);
  const parts = [header, utf8String(options.clientId)];
  if (options.username !== undefined) parts.push(utf8String(options.username));
  if (options.password !== undefined) parts.push(utf8String(options.password));
  return frame(0x10, Buffer.concat(parts));
}

export function encodeSubscribe(packetId: number, filter: string, qos: 0 | 1): Buffer {
  const id = Buffer.from([packetId >> 8, packetId & 0xff]);
  return frame(0x82, Buffer.concat([id, utf8String(filter), Buffer.from([qos])]));
}

export function encodePuback(packetId: number): Buffer {
  return Buffer.from([0x40, 0x02, packetId >> 8, packetId & 0xff]);
}

/** Where the parts of a PUBLISH frame sit, so a template can be copied and patched per message. */
export interface PublishLayout {
  readonly frameLength: number;
  /** Offset of the two packet-id bytes, or -1 at QoS 0. */
  readonly packetIdOffset: number;
  readonly payloadOffset: number;
}

export function encodePublish(topic: string, payload: Buffer, qos: 0 | 1, packetId: number): { frame: Buffer; layout: PublishLayout } {
  const topicBytes = utf8String(topic);
  const idLength = qos > 0 ? 2 : 0;
  const remaining = topicBytes.length + idLength + payload.length;
  const out = Buffer.allocUnsafe(1 + remainingLengthBytes(remaining) + remaining);
  out[0] = 0x30 | (qos << 1);
  let position = writeRemainingLength(out, 1, remaining);
  topicBytes.copy(out, position);
  position += topicBytes.length;
  const packetIdOffset = qos > 0 ? position : -1;
  if (qos > 0) {
    out.writeUInt16BE(packetId, position);
    position += 2;
  }
  payload.copy(out, position);
  return { frame: out, layout: { frameLength: out.length, packetIdOffset, payloadOffset: position } };
}

/**
 * Called once per complete frame: `header` is its first byte (type << 4 | flags); the variable header and
 * payload are `data[start, end)`. `data` is only valid during the call.
 */
export type FrameHandler = (header: number, data: Buffer, start: number, end: number) => void;

/**
 * Splits a byte stream into MQTT frames. Frames wholly inside one chunk are handed over as offsets into
 * that chunk; only a frame cut by a chunk boundary costs a copy.
 */
export class FrameReader {
  private pending: Buffer | undefined;

  push(chunk: Buffer, onFrame: FrameHandler): void {
    let data = chunk;
    if (this.pending) {
      data = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let offset = 0;
    const length = data.length;
    while (offset < length) {
      if (length - offset < 2) break;
      let remaining = 0;
      let multiplier = 1;
      let position = offset + 1;
      let complete = false;
      for (let i = 0; i < 4 && position < length; i++) {
        const byte = data[position++]!;
        remaining += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
        if (i === 3) throw new RangeError('malformed MQTT remaining length');
      }
      if (!complete || position + remaining > length) break;
      onFrame(data[offset]!, data, position, position + remaining);
      offset = position + remaining;
    }
    if (offset < length) this.pending = Buffer.from(data.subarray(offset));
  }
}

/** The parts of a PUBLISH frame the subscriber needs, read in place. */
export interface PublishView {
  qos: number;
  packetId: number;
  payloadStart: number;
}

export function readPublish(header: number, data: Buffer, start: number, into: PublishView): void {
  const qos = (header >> 1) & 0x03;
  const topicLength = data.readUInt16BE(start);
  let position = start + 2 + topicLength;
  let packetId = 0;
  if (qos > 0) {
    packetId = data.readUInt16BE(position);
    position += 2;
  }
  into.qos = qos;
  into.packetId = packetId;
  into.payloadStart = position;
}
