/**
 * Incremental AMQP 0-9-1 frame parser: feed it socket chunks with `push`, take events with `next`.
 *
 * A connection starts with the 8-octet protocol header (§4.2.2); then every frame is
 * `type:octet channel:short size:long payload:size frame-end:0xCE` (§4.2.3).
 *
 * Payloads are views: of the pushed chunk when the frame lies inside one chunk (no copy), else of a
 * buffer assembled for that frame alone. They are never overwritten, but a view keeps its chunk alive,
 * so whoever keeps a payload for long (a message body in a queue) should copy it.
 *
 * Errors are AmqpCodecError FRAME_ERROR (501); after one the reader has lost sync with the peer and
 * every later `next()` throws the same error (RabbitMQ: "fatal_frame_error", no more input accepted).
 */
import { AmqpCodecError, frameError } from './codec-error.js';
import { FRAME_END_OCTET } from './wire-writer.js';

/** `AMQP` 0 0 9 1: what we expect, and what we answer an unsupported header with before closing. */
export const PROTOCOL_HEADER: Uint8Array = new Uint8Array([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);

/**
 * RabbitMQ accepts frames up to 8 octets over frame-max, "since quite a few [clients] get it wrong -
 * off-by 1 or 8 (empty frame size) are typical"; so do we.
 */
export const FRAME_SIZE_TOLERANCE = 8;

const FRAME_HEADER_SIZE = 7;
const TYPE_METHOD = 1;
const TYPE_HEADER = 2;
const TYPE_BODY = 3;
const TYPE_HEARTBEAT = 8;
const DEFAULT_FRAME_MAX = 4096; // FRAME-MIN-SIZE: the limit before connection.tune settles one

export interface AmqpFrame {
  readonly kind: 'frame';
  /** 1 method, 2 content header, 3 content body, 8 heartbeat. */
  readonly type: number;
  readonly channel: number;
  readonly payload: Uint8Array;
}

/** The peer sent a protocol header we speak: start the handshake with connection.start. */
export interface ProtocolHeaderAccepted {
  readonly kind: 'protocol-header';
  readonly received: Uint8Array;
}

/** The peer sent another protocol or version: send `reply` (our header), then close the socket (§4.2.2). */
export interface ProtocolHeaderRejected {
  readonly kind: 'protocol-mismatch';
  readonly received: Uint8Array;
  readonly reply: Uint8Array;
}

export type FrameReaderEvent = AmqpFrame | ProtocolHeaderAccepted | ProtocolHeaderRejected;

export interface FrameReaderOptions {
  /** Negotiated frame-max in octets, frame overhead included; 0 means no limit (§4.2.3). Default 4096. */
  frameMax?: number;
  /** Whether the stream starts with the protocol header (true for a server). Default true. */
  expectProtocolHeader?: boolean;
}

type ReaderState = 'protocol-header' | 'frames' | 'closed';

export class FrameReader {
  private state: ReaderState;
  private failure: AmqpCodecError | undefined;
  private maxPayload = 0;
  private readonly chunks: Uint8Array[] = [];
  private offset = 0;
  /** The protocol header or a frame header split across chunks. */
  private readonly pending = new Uint8Array(8);
  private pendingLength = 0;
  /** A frame (header included) split across chunks, being assembled. */
  private partial: Uint8Array | undefined;
  private partialLength = 0;
  private partialType = 0;
  private partialChannel = 0;

  constructor(options: FrameReaderOptions = {}) {
    this.state = options.expectProtocolHeader === false ? 'frames' : 'protocol-header';
    this.setFrameMax(options.frameMax ?? DEFAULT_FRAME_MAX);
  }

  /** Applies a newly negotiated frame-max (after connection.tune-ok) to the frames still to come. */
  setFrameMax(frameMax: number): void {
    this.maxPayload = frameMax === 0 ? 0xffff_ffff : Math.max(0, frameMax - 8 + FRAME_SIZE_TOLERANCE);
  }

  /** Octets received but not yet returned as events. */
  get buffered(): number {
    let total = this.pendingLength + this.partialLength;
    for (const chunk of this.chunks) total += chunk.byteLength;
    return total - this.offset;
  }

  push(chunk: Uint8Array): void {
    if (this.state === 'closed' || this.failure !== undefined || chunk.byteLength === 0) return;
    this.chunks.push(chunk);
  }

  /** The next complete event, or undefined until more octets arrive. */
  next(): FrameReaderEvent | undefined {
    if (this.failure !== undefined) throw this.failure;
    try {
      if (this.state === 'frames') return this.nextFrame();
      if (this.state === 'protocol-header') return this.readProtocolHeader();
      return undefined;
    } catch (error) {
      if (error instanceof AmqpCodecError) {
        this.failure = error;
        this.chunks.length = 0;
        this.offset = 0;
        this.pendingLength = 0;
        this.partial = undefined;
        this.partialLength = 0;
      }
      throw error;
    }
  }

  /** Pushes `chunk` and yields every event that is then complete. */
  *read(chunk: Uint8Array): Generator<FrameReaderEvent, void, undefined> {
    this.push(chunk);
    for (let event = this.next(); event !== undefined; event = this.next()) yield event;
  }

  private readProtocolHeader(): FrameReaderEvent | undefined {
    const header = this.pending;
    while (this.pendingLength < 8) {
      const chunk = this.chunks[0];
      if (chunk === undefined) return undefined;
      const octet = chunk[this.offset]!;
      this.consume(1);
      header[this.pendingLength++] = octet;
      // Not "AMQP": refuse at once rather than wait for eight octets that may never come.
      if (this.pendingLength <= 4 && octet !== PROTOCOL_HEADER[this.pendingLength - 1]) return this.refuse();
    }
    const [, , , , a, b, c, d] = header;
    // 0-9-1, or the 0-9 header (AMQP 1 1 0 9), which RabbitMQ also treats as 0-9-1.
    if ((a === 0 && b === 0 && c === 9 && d === 1) || (a === 1 && b === 1 && c === 0 && d === 9)) {
      this.state = 'frames';
      this.pendingLength = 0;
      return { kind: 'protocol-header', received: header.slice(0, 8) };
    }
    return this.refuse();
  }

  private refuse(): ProtocolHeaderRejected {
    const received = this.pending.slice(0, this.pendingLength);
    this.state = 'closed';
    this.chunks.length = 0;
    this.offset = 0;
    this.pendingLength = 0;
    return { kind: 'protocol-mismatch', received, reply: PROTOCOL_HEADER.slice() };
  }

  private nextFrame(): AmqpFrame | undefined {
    for (;;) {
      if (this.partial !== undefined) return this.fillPartial(this.partial);
      const chunk = this.chunks[0];
      if (chunk === undefined) return undefined;
      const available = chunk.byteLength - this.offset;
      if (this.pendingLength === 0 && available >= FRAME_HEADER_SIZE) {
        const frame = this.frameInChunk(chunk, available);
        if (frame !== undefined) return frame;
      } else {
        // A frame header split across chunks: gather its seven octets first.
        const take = Math.min(FRAME_HEADER_SIZE - this.pendingLength, available);
        this.pending.set(chunk.subarray(this.offset, this.offset + take), this.pendingLength);
        this.pendingLength += take;
        this.consume(take);
        if (this.pendingLength === FRAME_HEADER_SIZE) {
          const p = this.pending;
          this.startPartial(p[0]!, (p[1]! << 8) | p[2]!, readLong(p, 3)).set(p.subarray(0, FRAME_HEADER_SIZE));
          this.partialLength = FRAME_HEADER_SIZE;
          this.pendingLength = 0;
        }
      }
    }
  }

  /** Returns the frame when it lies wholly in `chunk`; else starts assembling it and returns undefined. */
  private frameInChunk(chunk: Uint8Array, available: number): AmqpFrame | undefined {
    const start = this.offset;
    const type = chunk[start]!;
    const channel = (chunk[start + 1]! << 8) | chunk[start + 2]!;
    const size = readLong(chunk, start + 3);
    this.checkHeader(type, channel, size);
    if (available >= size + 8) {
      const end = start + FRAME_HEADER_SIZE + size;
      if (chunk[end] !== FRAME_END_OCTET) throw badFrameEnd(chunk[end]!, type, channel);
      this.consume(size + 8);
      return { kind: 'frame', type, channel, payload: chunk.subarray(start + FRAME_HEADER_SIZE, end) };
    }
    this.startPartial(type, channel, size).set(chunk.subarray(start));
    this.partialLength = available;
    this.consume(available);
    return undefined;
  }

  private startPartial(type: number, channel: number, size: number): Uint8Array {
    this.checkHeader(type, channel, size);
    const partial = new Uint8Array(size + 8);
    this.partial = partial;
    this.partialType = type;
    this.partialChannel = channel;
    return partial;
  }

  private fillPartial(partial: Uint8Array): AmqpFrame | undefined {
    while (this.partialLength < partial.byteLength) {
      const chunk = this.chunks[0];
      if (chunk === undefined) return undefined;
      const take = Math.min(partial.byteLength - this.partialLength, chunk.byteLength - this.offset);
      partial.set(chunk.subarray(this.offset, this.offset + take), this.partialLength);
      this.partialLength += take;
      this.consume(take);
    }
    this.partial = undefined;
    this.partialLength = 0;
    const end = partial.byteLength - 1;
    if (partial[end] !== FRAME_END_OCTET) throw badFrameEnd(partial[end]!, this.partialType, this.partialChannel);
    return {
      kind: 'frame',
      type: this.partialType,
      channel: this.partialChannel,
      payload: partial.subarray(FRAME_HEADER_SIZE, end),
    };
  }

  /** Checked as soon as the seven header octets are in, so an oversized frame is never buffered. */
  private checkHeader(type: number, channel: number, size: number): void {
    if (type !== TYPE_METHOD && type !== TYPE_HEADER && type !== TYPE_BODY && type !== TYPE_HEARTBEAT) {
      throw frameError(`unknown frame type ${type} on channel ${channel}`);
    }
    if (size > this.maxPayload) {
      throw frameError(`frame of type ${type} on channel ${channel} has a ${size}-octet payload, over frame-max`);
    }
    if (type === TYPE_HEARTBEAT && size !== 0) {
      throw frameError(`heartbeat frame with a ${size}-octet payload`);
    }
  }

  private consume(count: number): void {
    this.offset += count;
    const chunk = this.chunks[0];
    if (chunk !== undefined && this.offset >= chunk.byteLength) {
      this.chunks.shift();
      this.offset = 0;
    }
  }
}

function readLong(bytes: Uint8Array, at: number): number {
  return bytes[at]! * 0x100_0000 + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
}

function badFrameEnd(octet: number, type: number, channel: number): AmqpCodecError {
  return frameError(
    `frame of type ${type} on channel ${channel} ends with 0x${octet.toString(16).padStart(2, '0')}, not 0xce`,
  );
}
