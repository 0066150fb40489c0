/**
 * A bounds-checked cursor over AMQP wire data (big-endian, AMQP 0-9-1 §4.2.5). Every read past the end
 * raises FRAME_ERROR, never a RangeError, so decoders fail only with the codec's typed errors.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { frameError } from './codec-error.js';

const TWO_POW_32 = 0x1_0000_0000;
const MAX_SAFE_HIGH_WORD = 0x1f_ffff; // high 32 bits of Number.MAX_SAFE_INTEGER

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export class WireReader {
  readonly bytes: Buffer;
  pos: number;
  readonly end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.byteLength) {
    this.bytes = asBuffer(bytes);
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  need(count: number): void {
    if (this.end - this.pos < count) {
      throw frameError(`truncated: ${count} more octets needed, ${this.end - this.pos} left`);
    }
  }

  /** Trailing octets after the last field mean the frame is not what it claims to be. */
  expectEnd(): void {
    if (this.pos !== this.end) throw frameError(`${this.end - this.pos} unexpected octets after the last field`);
  }

  octet(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  short(): number {
    this.need(2);
    const b = this.bytes;
    const p = this.pos;
    this.pos = p + 2;
    return (b[p]! << 8) | b[p + 1]!;
  }

  long(): number {
    this.need(4);
    const b = this.bytes;
    const p = this.pos;
    this.pos = p + 4;
    return b[p]! * 0x100_0000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  /**
   * An unsigned 64-bit integer as a number. Values above 2^53 lose precision; none that Courier acts on
   * can reach that (delivery tags and sizes are bounded far below), and it keeps bigint off the hot path.
   */
  longlong(): number {
    const high = this.long();
    const low = this.long();
    return high * TWO_POW_32 + low;
  }

  /** An unsigned 64-bit integer, exact: a number when it is a safe integer, else a bigint. */
  uint64Exact(): number | bigint {
    this.need(8);
    const high = this.bytes.readUInt32BE(this.pos);
    if (high <= MAX_SAFE_HIGH_WORD) return this.longlong();
    const value = this.bytes.readBigUInt64BE(this.pos);
    this.pos += 8;
    return value;
  }

  /** A signed 64-bit integer, exact: a number when it is a safe integer, else a bigint. */
  int64Exact(): number | bigint {
    this.need(8);
    const value = this.bytes.readBigInt64BE(this.pos);
    this.pos += 8;
    return value >= -9007199254740991n && value <= 9007199254740991n ? Number(value) : value;
  }

  int8(): number {
    this.need(1);
    return this.bytes.readInt8(this.pos++);
  }

  int16(): number {
    this.need(2);
    const value = this.bytes.readInt16BE(this.pos);
    this.pos += 2;
    return value;
  }

  int32(): number {
    this.need(4);
    const value = this.bytes.readInt32BE(this.pos);
    this.pos += 4;
    return value;
  }

  float32(): number {
    this.need(4);
    const value = this.bytes.readFloatBE(this.pos);
    this.pos += 4;
    return value;
  }

  float64(): number {
    this.need(8);
    const value = this.bytes.readDoubleBE(this.pos);
    this.pos += 8;
    return value;
  }

  /**
   * A short string that names something the broker acts on (queue, exchange, routing key, consumer
   * tag...). Malformed UTF-8 is FRAME_ERROR, as RabbitMQ's "Malformed UTF-8 in shortstr".
   */
  shortStr(): string {
    const length = this.octet();
    return this.utf8(length, true) as string;
  }

  /**
   * A short string that is only carried along (content properties, field-table keys): malformed UTF-8
   * becomes U+FFFD instead of closing the connection. Replacements take three octets, so the result is
   * cut back to 255 octets when needed: whatever is decoded must encode again.
   */
  shortStrLenient(): string {
    const length = this.octet();
    const value = this.utf8(length, false);
    if (typeof value === 'string') return value;
    return fitShortStr(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8'));
  }

  /** A long string as bytes, copied so the value does not keep the received chunk alive. */
  longStrBytes(): Uint8Array {
    const length = this.long();
    return this.copyBytes(length);
  }

  copyBytes(length: number): Uint8Array {
    this.need(length);
    const start = this.pos;
    this.pos = start + length;
    return new Uint8Array(this.bytes.subarray(start, start + length));
  }

  /**
   * `length` octets as a string when they are valid UTF-8. Otherwise FRAME_ERROR when `strict`, or the
   * octets themselves (copied) when not.
   */
  utf8(length: number, strict: boolean): string | Uint8Array {
    this.need(length);
    const b = this.bytes;
    const start = this.pos;
    const end = start + length;
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (b[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      this.pos = end;
      return b.toString('latin1', start, end);
    }
    const view = b.subarray(start, end);
    if (isUtf8(view)) {
      this.pos = end;
      return b.toString('utf8', start, end);
    }
    if (strict) throw frameError('malformed UTF-8 in shortstr');
    this.pos = end;
    return new Uint8Array(view);
  }
}

/** Drops trailing code points until the UTF-8 form fits a short string. */
function fitShortStr(text: string): string {
  let octets = Buffer.byteLength(text, 'utf8');
  let end = text.length;
  while (octets > 255) {
    const code = text.codePointAt(end - 1)!;
    // A low surrogate ends a pair: step back over both halves.
    const isPair = end >= 2 && code >= 0xdc00 && code <= 0xdfff;
    const point = isPair ? text.codePointAt(end - 2)! : code;
    octets -= point < 0x80 ? 1 : point < 0x800 ? 2 : point < 0x10000 ? 3 : 4;
    end -= isPair ? 2 : 1;
  }
  return text.slice(0, end);
}
