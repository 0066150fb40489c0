/**
 * An append-only output buffer for AMQP wire data (big-endian, AMQP 0-9-1 §4.2.5).
 *
 * Everything written between two `take()` calls comes out as one contiguous view, so a batch of frames
 * goes to the socket in one write without concatenating per-frame buffers. Bytes handed out by `take()`
 * are never overwritten: the writer keeps appending after them in the same slab and moves to a fresh
 * slab when it runs out, leaving the old one to the views still in flight.
 *
 * Positions given to callers (`mark()`) are relative to the current batch, because growing the buffer
 * moves the batch to a new slab.
 */
import { Buffer } from 'node:buffer';
import { encodeError } from './codec-error.js';

const DEFAULT_SLAB_SIZE = 64 * 1024;
const TWO_POW_32 = 0x1_0000_0000;
const TWO_POW_64 = 18446744073709551616;
const EMPTY = Buffer.alloc(0);

export const FRAME_END_OCTET = 0xce;
/** Frame header (type, channel, size) plus the frame-end octet. */
export const FRAME_OVERHEAD = 8;

export class WireWriter {
  private buffer: Buffer = EMPTY;
  private batchStart = 0;
  private pos = 0;
  private readonly slabSize: number;

  constructor(slabSize = DEFAULT_SLAB_SIZE) {
    this.slabSize = slabSize;
  }

  /** Octets written since the last `take()`. */
  get length(): number {
    return this.pos - this.batchStart;
  }

  /** The current position within the batch, for `truncate` and the `patch*` methods. */
  mark(): number {
    return this.pos - this.batchStart;
  }

  /** Drops everything written after `mark`, e.g. a frame whose encoding failed half way. */
  truncate(mark: number): void {
    this.pos = this.batchStart + mark;
  }

  /** The batch written since the last call, as one view; empty when nothing was written. */
  take(): Uint8Array {
    const out = this.buffer.subarray(this.batchStart, this.pos);
    this.batchStart = this.pos;
    // A slab grown for one huge message is not worth keeping for the small ones that follow.
    if (this.buffer.length > this.slabSize * 4) {
      this.buffer = EMPTY;
      this.batchStart = 0;
      this.pos = 0;
    }
    return out;
  }

  ensure(count: number): void {
    if (this.pos + count > this.buffer.length) this.grow(count);
  }

  private grow(count: number): void {
    const used = this.pos - this.batchStart;
    const next = Buffer.allocUnsafe(Math.max(this.slabSize, (used + count) * 2));
    this.buffer.copy(next, 0, this.batchStart, this.pos);
    this.buffer = next;
    this.batchStart = 0;
    this.pos = used;
  }

  octet(value: number): void {
    if ((value & 0xff) !== value) throw encodeError(`octet out of range: ${value}`);
    this.ensure(1);
    this.buffer[this.pos++] = value;
  }

  short(value: number): void {
    if ((value & 0xffff) !== value) throw encodeError(`short out of range: ${value}`);
    this.ensure(2);
    const b = this.buffer;
    const p = this.pos;
    b[p] = value >>> 8;
    b[p + 1] = value & 0xff;
    this.pos = p + 2;
  }

  long(value: number): void {
    if (value >>> 0 !== value) throw encodeError(`long out of range: ${value}`);
    this.ensure(4);
    this.putLong(this.pos, value);
    this.pos += 4;
  }

  /** An unsigned 64-bit integer from a number (integers above 2^53 are written as the double holds them). */
  longlong(value: number): void {
    if (!(value >= 0 && value < TWO_POW_64 && Number.isInteger(value))) {
      throw encodeError(`longlong out of range: ${value}`);
    }
    this.ensure(8);
    this.putLong(this.pos, Math.floor(value / TWO_POW_32));
    this.putLong(this.pos + 4, value % TWO_POW_32);
    this.pos += 8;
  }

  int8(value: number): void {
    this.ensure(1);
    this.buffer.writeInt8(value, this.pos);
    this.pos += 1;
  }

  int16(value: number): void {
    this.ensure(2);
    this.buffer.writeInt16BE(value, this.pos);
    this.pos += 2;
  }

  int32(value: number): void {
    this.ensure(4);
    this.buffer.writeInt32BE(value, this.pos);
    this.pos += 4;
  }

  int64(value: bigint): void {
    this.ensure(8);
    this.buffer.writeBigInt64BE(value, this.pos);
    this.pos += 8;
  }

  uint64(value: bigint): void {
    this.ensure(8);
    this.buffer.writeBigUInt64BE(value, this.pos);
    this.pos += 8;
  }

  float64(value: number): void {
    this.ensure(8);
    this.buffer.writeDoubleBE(value, this.pos);
    this.pos += 8;
  }

  bytes(value: Uint8Array): void {
    this.ensure(value.byteLength);
    this.buffer.set(value, this.pos);
    this.pos += value.byteLength;
  }

  /** A short string: one length octet, then at most 255 octets of UTF-8. */
  shortStr(value: string): void {
    const units = value.length;
    // Every UTF-16 unit takes at least one UTF-8 octet, so this cannot fit.
    if (units > 255) throw encodeError(`shortstr longer than 255 octets (${units} characters)`);
    this.ensure(1 + units * 3);
    const b = this.buffer;
    const lengthAt = this.pos;
    let p = lengthAt + 1;
    let i = 0;
    for (; i < units; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) break;
      b[p++] = code;
    }
    if (i < units) p = lengthAt + 1 + b.write(value, lengthAt + 1, 'utf8');
    const length = p - lengthAt - 1;
    if (length > 255) throw encodeError(`shortstr longer than 255 octets (${length})`);
    b[lengthAt] = length;
    this.pos = p;
  }

  /** A long string: a 32-bit length, then the octets (a string is written as UTF-8). */
  longStr(value: Uint8Array | string): void {
    if (typeof value === 'string') {
      const length = Buffer.byteLength(value, 'utf8');
      this.long(length);
      this.ensure(length);
      this.pos += this.buffer.write(value, this.pos, 'utf8');
    } else {
      this.long(value.byteLength);
      this.bytes(value);
    }
  }

  /** Reserves `count` octets to be patched later; returns their mark. */
  reserve(count: number): number {
    this.ensure(count);
    const mark = this.pos - this.batchStart;
    this.pos += count;
    return mark;
  }

  patchShort(mark: number, value: number): void {
    const p = this.batchStart + mark;
    this.buffer[p] = value >>> 8;
    this.buffer[p + 1] = value & 0xff;
  }

  patchLong(mark: number, value: number): void {
    this.putLong(this.batchStart + mark, value);
  }

  /** Starts a frame (AMQP 0-9-1 §4.2.3): type, channel, and a size patched by `endFrame`. */
  beginFrame(type: number, channel: number): number {
    if ((channel & 0xffff) !== channel) throw encodeError(`channel out of range: ${channel}`);
    this.ensure(7);
    const mark = this.pos - this.batchStart;
    const b = this.buffer;
    const p = this.pos;
    b[p] = type;
    b[p + 1] = channel >>> 8;
    b[p + 2] = channel & 0xff;
    this.pos = p + 7;
    return mark;
  }

  /** Completes the frame begun at `mark`: patches its payload size and appends the frame-end octet. */
  endFrame(mark: number): void {
    const size = this.pos - this.batchStart - mark - 7;
    this.putLong(this.batchStart + mark + 3, size);
    this.ensure(1);
    this.buffer[this.pos++] = FRAME_END_OCTET;
  }

  private putLong(p: number, value: number): void {
    const b = this.buffer;
    b[p] = value >>> 24;
    b[p + 1] = (value >>> 16) & 0xff;
    b[p + 2] = (value >>> 8) & 0xff;
    b[p + 3] = value & 0xff;
  }
}
