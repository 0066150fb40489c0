/**
 * Builds outgoing AMQP 0-9-1 frames into one buffer per batch: method frames, content (a header frame
 * and body frames split at frame-max, §4.2.6), heartbeats and the protocol header. A session writes
 * whatever one turn of the event loop produces, then hands `take()` to the socket in a single write.
 *
 * Each call is all-or-nothing: when a value cannot be encoded, or a frame would exceed frame-max, the
 * partial frames are removed again and an AmqpCodecError is thrown, so the batch stays well formed.
 */
import { encodeContentHeader, encodeMethod } from './amqp-definitions.generated.js';
import type { AmqpMethod, ContentClassId, ContentProperties } from './amqp-definitions.generated.js';
import { encodeError } from './codec-error.js';
import { PROTOCOL_HEADER } from './frame-reader.js';
import { FRAME_OVERHEAD, WireWriter } from './wire-writer.js';

const TYPE_BODY = 3;
const TYPE_HEARTBEAT = 8;
const CLASS_BASIC = 60;
const HEARTBEAT_FRAME = new Uint8Array([TYPE_HEARTBEAT, 0, 0, 0, 0, 0, 0, 0xce]);

export interface FrameWriterOptions {
  /** Negotiated frame-max in octets, frame overhead included; 0 means no limit. Default 4096. */
  frameMax?: number;
  /** Size of the buffers batches are written into. */
  slabSize?: number;
}

export class FrameWriter {
  private readonly out: WireWriter;
  private frameMaxValue = 0;

  constructor(options: FrameWriterOptions = {}) {
    this.out = new WireWriter(options.slabSize);
    this.setFrameMax(options.frameMax ?? 4096);
  }

  get frameMax(): number {
    return this.frameMaxValue;
  }

  setFrameMax(frameMax: number): void {
    if (frameMax !== 0 && frameMax <= FRAME_OVERHEAD) throw encodeError(`frame-max ${frameMax} leaves no room for a payload`);
    this.frameMaxValue = frameMax;
  }

  /** Octets written since the last `take()`. */
  get length(): number {
    return this.out.length;
  }

  /** Everything written since the last call, as one view (empty when nothing was written). */
  take(): Uint8Array {
    return this.out.take();
  }

  protocolHeader(): void {
    this.out.bytes(PROTOCOL_HEADER);
  }

  heartbeat(): void {
    this.out.bytes(HEARTBEAT_FRAME);
  }

  method(channel: number, method: AmqpMethod): void {
    const start = this.out.mark();
    encodeMethod(channel, method, this.out);
    this.checkFrameSize(start, method.name);
  }

  /** A content header frame, then the body in as many body frames as frame-max requires (none if empty). */
  content(channel: number, properties: ContentProperties, body: Uint8Array, classId: ContentClassId = CLASS_BASIC): void {
    const start = this.out.mark();
    encodeContentHeader(channel, classId, body.byteLength, properties, this.out);
    this.checkFrameSize(start, 'content header');
    const chunkSize = this.frameMaxValue === 0 ? body.byteLength : this.frameMaxValue - FRAME_OVERHEAD;
    if (body.byteLength === 0) return;
    const frames = Math.ceil(body.byteLength / chunkSize);
    this.out.ensure(body.byteLength + frames * FRAME_OVERHEAD);
    for (let at = 0; at < body.byteLength; at += chunkSize) {
      const frame = this.out.beginFrame(TYPE_BODY, channel);
      this.out.bytes(body.subarray(at, Math.min(at + chunkSize, body.byteLength)));
      this.out.endFrame(frame);
    }
  }

  /** A content-carrying method (basic.publish, deliver, return, get-ok) with its header and body frames. */
  methodWithContent(channel: number, method: AmqpMethod, properties: ContentProperties, body: Uint8Array): void {
    const start = this.out.mark();
    try {
      this.method(channel, method);
      this.content(channel, properties, body);
    } catch (error) {
      this.out.truncate(start);
      throw error;
    }
  }

  private checkFrameSize(start: number, what: string): void {
    const size = this.out.mark() - start;
    if (this.frameMaxValue !== 0 && size > this.frameMaxValue) {
      this.out.truncate(start);
      throw encodeError(`${what} frame of ${size} octets exceeds frame-max ${this.frameMaxValue}`);
    }
  }
}
