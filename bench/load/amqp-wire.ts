/**
 * A minimal AMQP 0-9-1 encoder and frame reader for the load generator, written from the spec
 * (amqp0-9-1.pdf §4.2 framing, the XML's method and property layouts), independent of Courier's codec so
 * a bug there cannot cancel out here. Only what the benchmark sends is encoded; incoming frames are
 * parsed in place, without copying, and only the methods the benchmark waits for are decoded.
 */

export const FRAME_METHOD = 1;
export const FRAME_HEADER = 2;
export const FRAME_BODY = 3;
export const FRAME_HEARTBEAT = 8;
const FRAME_END = 0xce;

export const PROTOCOL_HEADER: Buffer = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);

/** class-id << 16 | method-id, for the switch in a frame handler. */
export const M = {
  connectionStart: (10 << 16) | 10,
  connectionTune: (10 << 16) | 30,
  connectionOpenOk: (10 << 16) | 41,
  connectionClose: (10 << 16) | 50,
  connectionCloseOk: (10 << 16) | 51,
  channelOpenOk: (20 << 16) | 11,
  channelClose: (20 << 16) | 40,
  queueDeclareOk: (50 << 16) | 11,
  queueDeleteOk: (50 << 16) | 41,
  basicQosOk: (60 << 16) | 11,
  basicConsumeOk: (60 << 16) | 21,
  basicDeliver: (60 << 16) | 60,
  basicAck: (60 << 16) | 80,
  basicNack: (60 << 16) | 120,
  confirmSelectOk: (85 << 16) | 11,
} as const;

/** A growable writer for method arguments. */
class Args {
  private buffer = Buffer.allocUnsafe(256);
  private length = 0;

  private room(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  octet(value: number): this {
    this.room(1);
    this.buffer[this.length++] = value;
    return this;
  }

  short(value: number): this {
    this.room(2);
    this.buffer.writeUInt16BE(value, this.length);
    this.length += 2;
    return this;
  }

  long(value: number): this {
    this.room(4);
    this.buffer.writeUInt32BE(value, this.length);
    this.length += 4;
    return this;
  }

  longlong(value: number): this {
    this.room(8);
    this.buffer.writeBigUInt64BE(BigInt(value), this.length);
    this.length += 8;
    return this;
  }

  shortstr(value: string): this {
    const bytes = Buffer.from(value, 'utf8');
    if (bytes.length > 255) throw new RangeError(`shortstr longer than 255 bytes: ${value}`);
    this.octet(bytes.length);
    return this.raw(bytes);
  }

  longstr(value: Buffer): this {
    this.long(value.length);
    return this.raw(value);
  }

  /** An empty field table. */
  emptyTable(): this {
    return this.long(0);
  }

  raw(bytes: Buffer): this {
    this.room(bytes.length);
    bytes.copy(this.buffer, this.length);
    this.length += bytes.length;
    return this;
  }

  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

export function frame(type: number, channel: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(8 + payload.length);
  out[0] = type;
  out.writeUInt16BE(channel, 1);
  out.writeUInt32BE(payload.length, 3);
  payload.copy(out, 7);
  out[7 + payload.length] = FRAME_END;
  return out;
}

function method(channel: number, classId: number, methodId: number, build: (args: Args) => Args = (args) => args): Buffer {
  return frame(FRAME_METHOD, channel, build(new Args().short(classId).short(methodId)).bytes());
}

export function encodeStartOk(user: string, password: string): Buffer {
  // Client properties: an empty table; PLAIN response is "\0user\0password" (RFC 4616).
  const response = Buffer.from(`\u0000${user}\u0000${password}`, 'utf8');
  return method(0, 10, 11, (a) => a.emptyTable().shortstr('PLAIN').longstr(response).shortstr('en_US'));
}

export function encodeTuneOk(channelMax: number, frameMax: number): Buffer {
  // Heartbeat 0: the benchmark's connections need no heartbeat frames.
  return method(0, 10, 31, (a) => a.short(channelMax).long(frameMax).short(0));
}

export function encodeConnectionOpen(vhost: string): Buffer {
  return method(0, 10, 40, (a) => a.shortstr(vhost).shortstr('').octet(0));
}

export function encodeConnectionClose(): Buffer {
  return method(0, 10, 50, (a) => a.short(200).shortstr('bench done').short(0).short(0));
}

export function encodeConnectionCloseOk(): Buffer {
  return method(0, 10, 51);
}

export function encodeChannelOpen(channel: number): Buffer {
  return method(channel, 20, 10, (a) => a.shortstr(''));
}

export interface QueueFlags {
  readonly durable: boolean;
  readonly exclusive?: boolean;
  readonly autoDelete?: boolean;
}

export function encodeQueueDeclare(channel: number, queue: string, flags: QueueFlags): Buffer {
  const bits = (flags.durable ? 0x02 : 0) | (flags.exclusive ? 0x04 : 0) | (flags.autoDelete ? 0x08 : 0);
  return method(channel, 50, 10, (a) => a.short(0).shortstr(queue).octet(bits).emptyTable());
}

export function encodeQueueDelete(channel: number, queue: string): Buffer {
  return method(channel, 50, 40, (a) => a.short(0).shortstr(queue).octet(0));
}

export function encodeBasicQos(channel: number, prefetchCount: number): Buffer {
  return method(channel, 60, 10, (a) => a.long(0).short(prefetchCount).octet(0));
}

export function encodeBasicConsume(channel: number, queue: string, consumerTag: string): Buffer {
  // no-local 0, no-ack 0 (explicit acks), exclusive 0, no-wait 0.
  return method(channel, 60, 20, (a) => a.short(0).shortstr(queue).shortstr(consumerTag).octet(0).emptyTable());
}

export function encodeConfirmSelect(channel: number): Buffer {
  return method(channel, 85, 10, (a) => a.octet(0));
}

/** basic.ack with `multiple`; the delivery tag is at `ACK_TAG_OFFSET`, patched per write. */
export function encodeBasicAck(channel: number, deliveryTag: number, multiple: boolean): Buffer {
  return method(channel, 60, 80, (a) => a.longlong(deliveryTag).octet(multiple ? 1 : 0));
}

/** Offset of the 64-bit delivery tag in an `encodeBasicAck` frame: 7 header + 4 class/method. */
export const ACK_TAG_OFFSET = 11;

/**
 * One message as basic.publish + content header + one body frame, to the default exchange with the
 * queue name as routing key; delivery mode 2 (persistent) or 1. The body fits one frame (frame-max).
 */
export function encodePublishFrames(channel: number, routingKey: string, body: Buffer, persistent: boolean): Buffer {
  const publish = method(channel, 60, 40, (a) => a.short(0).shortstr('').shortstr(routingKey).octet(0));
  // Content header: class 60, weight 0, body size, property flags with only delivery-mode (bit 12).
  const header = frame(FRAME_HEADER, channel, new Args().short(60).short(0).longlong(body.length).short(0x1000).octet(persistent ? 2 : 1).bytes());
  return Buffer.concat([publish, header, frame(FRAME_BODY, channel, body)]);
}

/** (type, channel, payload bytes data[start, end)); the buffer is only valid during the call. */
export type AmqpFrameHandler = (type: number, channel: number, data: Buffer, start: number, end: number) => void;

/** Splits a byte stream into frames, in place when a frame lies within one chunk. */
export class AmqpFrameReader {
  private pending: Buffer | undefined;

  push(chunk: Buffer, handler: AmqpFrameHandler): void {
    let data = chunk;
    if (this.pending) {
      data = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let offset = 0;
    while (data.length - offset >= 7) {
      const size = data.readUInt32BE(offset + 3);
      const total = 8 + size;
      if (data.length - offset < total) break;
      if (data[offset + 7 + size] !== FRAME_END) throw new Error(`AMQP frame without frame-end at ${offset}`);
      handler(data[offset]!, data.readUInt16BE(offset + 1), data, offset + 7, offset + 7 + size);
      offset += total;
    }
    if (offset < data.length) this.pending = Buffer.from(data.subarray(offset));
  }
}

/** class-id << 16 | method-id of a method frame's payload. */
export function methodKey(data: Buffer, start: number): number {
  return data.readUInt32BE(start);
}

/** connection.close / channel.close: reply code and text, for error messages. */
export function readClose(data: Buffer, start: number): string {
  const code = data.readUInt16BE(start + 4);
  const length = data[start + 6] ?? 0;
  return `${code} ${data.toString('utf8', start + 7, start + 7 + length)}`;
}

/** connection.tune: channel-max and frame-max the server proposes. */
export function readTune(data: Buffer, start: number): { channelMax: number; frameMax: number } {
  return { channelMax: data.readUInt16BE(start + 4), frameMax: data.readUInt32BE(start + 6) };
}

/** basic.ack / basic.nack from the server (confirms): delivery tag and the multiple bit. */
export function readAck(data: Buffer, start: number, into: { tag: number; multiple: boolean }): void {
  // Tags stay below 2^53 in a benchmark run: the high word times 2^32 plus the low word is exact.
  into.tag = data.readUInt32BE(start + 4) * 0x1_0000_0000 + data.readUInt32BE(start + 8);
  into.multiple = ((data[start + 12] ?? 0) & 1) === 1;
}

/** basic.deliver's delivery tag (after the consumer tag shortstr). */
export function readDeliveryTag(data: Buffer, start: number): number {
  const at = start + 4 + 1 + (data[start + 4] ?? 0);
  return data.readUInt32BE(at) * 0x1_0000_0000 + data.readUInt32BE(at + 4);
}

/** A content header's body size. */
export function readBodySize(data: Buffer, start: number): number {
  return data.readUInt32BE(start + 4) * 0x1_0000_0000 + data.readUInt32BE(start + 8);
}
