/**
 * The binary form of the neutral message in log records. Compact and lossless; never JSON.
 *
 * Layout (format version 1, integers little-endian):
 * ```
 *  0  u8   format version (1)
 *  1  u8   flags: bit 0 persistent, bit 1 headers present (non-empty); other bits must be 0
 *  2  u16  property mask: bit i set when property i of PROPERTY_ORDER is present; bits 12-15 must be 0
 *  4  u32  body length
 *  8  present numeric properties, in order expiration, priority, timestamp (each a tagged number)
 *     exchange (string), routing key (string)
 *     present string properties, in PROPERTY_ORDER; key (varint length + bytes)
 *     headers (varint count, then count x (string name, tagged value)) when flag bit 1 is set
 *     body (exactly `body length` bytes, nothing after it)
 * ```
 * The body length sits at a fixed place and expiration / priority come first, so the recovery scan and
 * expiry checks read them without decoding strings or headers (`readBodyLength`, `readMessageSummary`).
 *
 * Strings: varint(n * 2 + form) then n units. Form 0: n bytes of UTF-8. Form 1: n UTF-16LE code units,
 * used only for strings that are not well-formed Unicode (lone surrogates), which UTF-8 cannot carry.
 *
 * Tagged header values: 0 null, 1 false, 2 true, 3 string, 4 non-negative safe integer (varint),
 * 5 negative safe integer (varint of its magnitude), 6 float64 (every other number, including -0, NaN
 * and integers beyond 2^53), 7 bigint (u8 sign, varint length, magnitude bytes little-endian),
 * 8 bytes (varint length + bytes), 9 array (varint count + values), 10 table (as headers).
 * Varints are unsigned LEB128 of at most 8 bytes (values up to 2^53 - 1), in their shortest form.
 */
import { BrokerError, isBrokerError } from '../errors.js';
import type { HeaderTable, HeaderValue, Message, MessageProperties } from './message.js';

export const MESSAGE_FORMAT_VERSION = 1;

/** Nesting of arrays and tables allowed in headers: bounds recursion when decoding damaged bytes. */
export const MAX_HEADER_DEPTH = 64;

const FIXED_BYTES = 8;
const FLAG_PERSISTENT = 0x01;
const FLAG_HEADERS = 0x02;
const MAX_BODY_BYTES = 0xffff_ffff;

const P_EXPIRATION = 1 << 0;
const P_PRIORITY = 1 << 1;
const P_TIMESTAMP = 1 << 2;
const P_KEY = 1 << 11;
const PROPERTY_MASK = 0x0fff;

/** String properties in wire order; their mask bits are 3 + index. */
const STRING_PROPERTIES = [
  'contentType',
  'contentEncoding',
  'messageId',
  'correlationId',
  'replyTo',
  'userId',
  'appId',
  'type',
] as const satisfies readonly (keyof MessageProperties)[];
const FIRST_STRING_BIT = 3;

const T_NULL = 0;
const T_FALSE = 1;
const T_TRUE = 2;
const T_STRING = 3;
const T_UINT = 4;
const T_NEGINT = 5;
const T_F64 = 6;
const T_BIGINT = 7;
const T_BYTES = 8;
const T_ARRAY = 9;
const T_TABLE = 10;

/** Short ASCII strings are copied by hand: cheaper than a TextEncoder/TextDecoder call and a subarray. */
const SHORT_STRING = 24;
/**
 * Strings up to this length are sized and written by a loop over their code units: cheaper than a call
 * into native code, and every one of them has a one-byte length prefix (63 * 2 < 0x80). Routing keys,
 * exchange names and header names of the message path are mostly such strings.
 */
const LOOP_STRING = 63;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// String.prototype.isWellFormed is in every Node >= 20 but not in the ES2023 lib this project targets.
const isWellFormed = String.prototype as unknown as { isWellFormed: (this: string) => boolean };
function wellFormed(text: string): boolean {
  return isWellFormed.isWellFormed.call(text);
}

// ---------------------------------------------------------------------------------------------------
// Sizing

function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x20_0000) return 3;
  if (value < 0x1000_0000) return 4;
  let size = 4;
  let rest = Math.floor(value / 0x1000_0000);
  while (rest > 0) {
    size += 1;
    rest = Math.floor(rest / 0x80);
  }
  return size;
}

function stringSize(text: string): number {
  if (typeof text !== 'string') throw invalid(`expected a string, got ${typeof text}`);
  const length = text.length;
  if (length <= LOOP_STRING) {
    // Counting UTF-8 bytes here beats a call into native code for the short strings most messages hold.
    let bytes = 0;
    for (let i = 0; i < length; i++) {
      const unit = text.charCodeAt(i);
      if (unit < 0x80) bytes += 1;
      else if (unit < 0x800) bytes += 2;
      else if ((unit & 0xfc00) === 0xd800 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        bytes += 4;
        i += 1;
      } else if ((unit & 0xf800) === 0xd800) {
        return varintSize(length * 2 + 1) + length * 2; // a lone surrogate: UTF-16 form
      } else bytes += 3;
    }
    return varintSize(bytes * 2) + bytes;
  }
  if (!wellFormed(text)) return varintSize(length * 2 + 1) + length * 2;
  const bytes = Buffer.byteLength(text, 'utf8');
  return varintSize(bytes * 2) + bytes;
}

function numberSize(value: number): number {
  if (Number.isSafeInteger(value) && !Object.is(value, -0)) return 1 + varintSize(value < 0 ? -value : value);
  return 9;
}

function bigintByteLength(value: bigint): number {
  let magnitude = value < 0n ? -value : value;
  let bytes = 0;
  while (magnitude > 0n) {
    bytes += 1;
    magnitude >>= 8n;
  }
  return bytes;
}

function tableSize(table: HeaderTable, depth: number): number {
  if (depth > MAX_HEADER_DEPTH) throw invalid(`headers nest deeper than ${MAX_HEADER_DEPTH} levels`);
  let count = 0;
  let size = 0;
  for (const name in table) {
    count += 1;
    size += stringSize(name) + valueSize(table[name] as HeaderValue, depth);
  }
  return varintSize(count) + size;
}

function valueSize(value: HeaderValue, depth: number): number {
  switch (typeof value) {
    case 'string':
      return 1 + stringSize(value);
    case 'number':
      return numberSize(value);
    case 'boolean':
      return 1;
    case 'bigint': {
      const length = bigintByteLength(value);
      return 2 + varintSize(length) + length;
    }
    case 'object': {
      if (value === null) return 1;
      if (value instanceof Uint8Array) return 1 + varintSize(value.byteLength) + value.byteLength;
      if (Array.isArray(value)) {
        if (depth + 1 > MAX_HEADER_DEPTH) throw invalid(`headers nest deeper than ${MAX_HEADER_DEPTH} levels`);
        let size = 1 + varintSize(value.length);
        for (const item of value) size += valueSize(item, depth + 1);
        return size;
      }
      const prototype: unknown = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) {
        // A Date, Map or other class instance would silently lose its contents as a table.
        throw invalid(`header value of class ${(value as object).constructor?.name ?? 'unknown'} cannot be stored`);
      }
      return 1 + tableSize(value, depth + 1);
    }
    default:
      throw invalid(`header value of type ${typeof value} cannot be stored`);
  }
}

function hasHeaders(headers: HeaderTable): boolean {
  for (const _name in headers) return true;
  return false;
}

function checkNumber(name: string, value: unknown): number {
  if (typeof value !== 'number') throw invalid(`property ${name} must be a number, got ${typeof value}`);
  return value;
}

/** Exact number of bytes `encodeMessage` produces for this message. */
export function encodedMessageSize(message: Message): number {
  const properties = message.properties;
  let size = FIXED_BYTES + stringSize(message.exchange) + stringSize(message.routingKey);
  if (properties.expiration !== undefined) size += numberSize(checkNumber('expiration', properties.expiration));
  if (properties.priority !== undefined) size += numberSize(checkNumber('priority', properties.priority));
  if (properties.timestamp !== undefined) size += numberSize(checkNumber('timestamp', properties.timestamp));
  for (const name of STRING_PROPERTIES) {
    const value = properties[name];
    if (value !== undefined) size += stringSize(value);
  }
  const key = properties.key;
  if (key !== undefined) {
    if (!(key instanceof Uint8Array)) throw invalid('property key must be a Uint8Array');
    size += varintSize(key.byteLength) + key.byteLength;
  }
  if (hasHeaders(message.headers)) size += tableSize(message.headers, 0);
  const body = message.body;
  if (!(body instanceof Uint8Array)) throw invalid('message body must be a Uint8Array');
  if (body.byteLength > MAX_BODY_BYTES) throw invalid(`message body is larger than ${MAX_BODY_BYTES} bytes`);
  return size + body.byteLength;
}

// ---------------------------------------------------------------------------------------------------
// Writing: every writer takes the position and returns the next one.

function writeVarint(out: Uint8Array, pos: number, value: number): number {
  while (value >= 0x80) {
    out[pos++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[pos++] = value;
  return pos;
}

function writeString(out: Uint8Array, pos: number, text: string): number {
  if (!wellFormed(text)) {
    const length = text.length;
    pos = writeVarint(out, pos, length * 2 + 1);
    for (let i = 0; i < length; i++) {
      const unit = text.charCodeAt(i);
      out[pos++] = unit & 0xff;
      out[pos++] = unit >>> 8;
    }
    return pos;
  }
  const length = text.length;
  if (length <= LOOP_STRING) {
    let ascii = true;
    for (let i = 0; i < length; i++) {
      if (text.charCodeAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      out[pos++] = length * 2; // < 0x80: a one-byte varint
      for (let i = 0; i < length; i++) out[pos++] = text.charCodeAt(i);
      return pos;
    }
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  pos = writeVarint(out, pos, bytes * 2);
  utf8Encoder.encodeInto(text, out.subarray(pos, pos + bytes));
  return pos + bytes;
}

function writeNumber(out: Uint8Array, pos: number, value: number): number {
  if (Number.isSafeInteger(value) && !Object.is(value, -0)) {
    if (value >= 0) {
      out[pos++] = T_UINT;
      return writeVarint(out, pos, value);
    }
    out[pos++] = T_NEGINT;
    return writeVarint(out, pos, -value);
  }
  out[pos++] = T_F64;
  new DataView(out.buffer, out.byteOffset + pos, 8).setFloat64(0, value, true);
  return pos + 8;
}

function writeBytes(out: Uint8Array, pos: number, bytes: Uint8Array): number {
  pos = writeVarint(out, pos, bytes.byteLength);
  out.set(bytes, pos);
  return pos + bytes.byteLength;
}

function writeTable(out: Uint8Array, pos: number, table: HeaderTable): number {
  let count = 0;
  for (const _name in table) count += 1;
  pos = writeVarint(out, pos, count);
  for (const name in table) {
    pos = writeString(out, pos, name);
    pos = writeValue(out, pos, table[name] as HeaderValue);
  }
  return pos;
}

function writeValue(out: Uint8Array, pos: number, value: HeaderValue): number {
  switch (typeof value) {
    case 'string':
      out[pos++] = T_STRING;
      return writeString(out, pos, value);
    case 'number':
      return writeNumber(out, pos, value);
    case 'boolean':
      out[pos++] = value ? T_TRUE : T_FALSE;
      return pos;
    case 'bigint': {
      out[pos++] = T_BIGINT;
      out[pos++] = value < 0n ? 1 : 0;
      const length = bigintByteLength(value);
      pos = writeVarint(out, pos, length);
      let magnitude = value < 0n ? -value : value;
      for (let i = 0; i < length; i++) {
        out[pos++] = Number(magnitude & 0xffn);
        magnitude >>= 8n;
      }
      return pos;
    }
    default: {
      // Only objects reach here: valueSize refused every other type before the buffer was allocated.
      if (value === null) {
        out[pos++] = T_NULL;
        return pos;
      }
      if (value instanceof Uint8Array) {
        out[pos++] = T_BYTES;
        return writeBytes(out, pos, value);
      }
      if (Array.isArray(value)) {
        out[pos++] = T_ARRAY;
        pos = writeVarint(out, pos, value.length);
        for (const item of value) pos = writeValue(out, pos, item);
        return pos;
      }
      out[pos++] = T_TABLE;
      return writeTable(out, pos, value);
    }
  }
}

/**
 * Encodes a message into one buffer of exactly the right size (measured first). Small results may share
 * an ArrayBuffer with other allocations (Node's buffer pool): hand them to `Log.append`, which copies or
 * writes them, and copy before keeping one for long.
 * Throws BrokerError INVALID_ARGUMENT for values the format cannot hold (a header of type undefined,
 * a function, headers nested deeper than MAX_HEADER_DEPTH, which also catches cycles).
 */
export function encodeMessage(message: Message): Uint8Array {
  const size = encodedMessageSize(message);
  // Node's pooled allocation: a fresh ArrayBuffer per message costs twice the whole encode. Every byte
  // is written below (the size check at the end proves it), so no stale pool memory leaks out.
  const out: Uint8Array = Buffer.allocUnsafe(size);
  const properties = message.properties;
  const headers = hasHeaders(message.headers);
  out[0] = MESSAGE_FORMAT_VERSION;
  out[1] = (message.persistent ? FLAG_PERSISTENT : 0) | (headers ? FLAG_HEADERS : 0);
  let mask = 0;
  if (properties.expiration !== undefined) mask |= P_EXPIRATION;
  if (properties.priority !== undefined) mask |= P_PRIORITY;
  if (properties.timestamp !== undefined) mask |= P_TIMESTAMP;
  for (let i = 0; i < STRING_PROPERTIES.length; i++) {
    if (properties[STRING_PROPERTIES[i] as keyof MessageProperties] !== undefined) mask |= 1 << (FIRST_STRING_BIT + i);
  }
  if (properties.key !== undefined) mask |= P_KEY;
  out[2] = mask & 0xff;
  out[3] = mask >>> 8;
  const bodyLength = message.body.byteLength;
  out[4] = bodyLength & 0xff;
  out[5] = (bodyLength >>> 8) & 0xff;
  out[6] = (bodyLength >>> 16) & 0xff;
  out[7] = bodyLength >>> 24;
  let pos = FIXED_BYTES;
  if (properties.expiration !== undefined) pos = writeNumber(out, pos, properties.expiration);
  if (properties.priority !== undefined) pos = writeNumber(out, pos, properties.priority);
  if (properties.timestamp !== undefined) pos = writeNumber(out, pos, properties.timestamp);
  pos = writeString(out, pos, message.exchange);
  pos = writeString(out, pos, message.routingKey);
  for (const name of STRING_PROPERTIES) {
    const value = properties[name];
    if (value !== undefined) pos = writeString(out, pos, value);
  }
  if (properties.key !== undefined) pos = writeBytes(out, pos, properties.key);
  if (headers) pos = writeTable(out, pos, message.headers);
  out.set(message.body, pos);
  pos += bodyLength;
  if (pos !== size) {
    throw new BrokerError('INTERNAL', `message encoder wrote ${pos} bytes, measured ${size}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Reading

function invalid(message: string): BrokerError {
  return new BrokerError('INVALID_ARGUMENT', `cannot encode message: ${message}`);
}

function corrupt(message: string, offset?: number): BrokerError {
  return new BrokerError(
    'STORAGE_CORRUPT',
    `malformed message record: ${message}`,
    offset === undefined ? undefined : { offset },
  );
}

/** One decode: a cursor over the record. Decoded byte values are views into the record, not copies. */
class Reader {
  pos = FIXED_BYTES;
  private view: DataView | undefined;

  constructor(
    private readonly bytes: Uint8Array,
    readonly end: number,
  ) {}

  u8(): number {
    if (this.pos >= this.end) throw corrupt('truncated', this.pos);
    return this.bytes[this.pos++] as number;
  }

  varint(): number {
    const bytes = this.bytes;
    let result = 0;
    let factor = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) throw corrupt('truncated varint', this.pos);
      const byte = bytes[this.pos++] as number;
      result += (byte & 0x7f) * factor;
      if (byte < 0x80) {
        if (byte === 0 && i > 0) throw corrupt('overlong varint', this.pos - 1);
        if (result > Number.MAX_SAFE_INTEGER) throw corrupt('varint out of range', this.pos - 1);
        return result;
      }
      factor *= 0x80;
    }
    throw corrupt('varint longer than 8 bytes', this.pos);
  }

  take(length: number): number {
    const start = this.pos;
    if (length > this.end - start) throw corrupt(`length ${length} runs past the end`, start);
    this.pos = start + length;
    return start;
  }

  string(): string {
    const prefix = this.varint();
    const units = Math.floor(prefix / 2);
    const bytes = this.bytes;
    if (prefix % 2 === 1) {
      const start = this.take(units * 2);
      let text = '';
      for (let i = 0; i < units; i++) {
        text += String.fromCharCode((bytes[start + 2 * i] as number) | ((bytes[start + 2 * i + 1] as number) << 8));
      }
      return text;
    }
    const start = this.take(units);
    const end = start + units;
    if (units <= SHORT_STRING) {
      let text = '';
      let i = start;
      for (; i < end; i++) {
        const byte = bytes[i] as number;
        if (byte >= 0x80) break;
        text += String.fromCharCode(byte);
      }
      if (i === end) return text;
    }
    try {
      return utf8Decoder.decode(bytes.subarray(start, end));
    } catch (error) {
      throw new BrokerError('STORAGE_CORRUPT', 'malformed message record: invalid UTF-8', { offset: start }, { cause: error });
    }
  }

  bytesView(): Uint8Array {
    const length = this.varint();
    const start = this.take(length);
    return new Uint8Array(this.bytes.buffer, this.bytes.byteOffset + start, length);
  }

  f64(): number {
    const start = this.take(8);
    this.view ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    return this.view.getFloat64(start, true);
  }

  number(): number {
    const tag = this.u8();
    if (tag === T_UINT) return this.varint();
    if (tag === T_NEGINT) {
      const magnitude = this.varint();
      if (magnitude === 0) throw corrupt('negative zero as integer', this.pos - 1);
      return -magnitude;
    }
    if (tag === T_F64) return this.f64();
    throw corrupt(`tag ${tag} where a number belongs`, this.pos - 1);
  }

  table(depth: number): HeaderTable {
    if (depth > MAX_HEADER_DEPTH) throw corrupt('headers nested too deep', this.pos);
    const count = this.varint();
    // Each entry takes at least two bytes: a bound that keeps damaged counts from looping long.
    if (count * 2 > this.end - this.pos) throw corrupt(`header count ${count} exceeds the record`, this.pos);
    const table: HeaderTable = {};
    for (let i = 0; i < count; i++) {
      const name = this.string();
      const value = this.value(depth);
      // A plain assignment of '__proto__' would replace the prototype instead of adding a header.
      if (name === '__proto__') {
        Object.defineProperty(table, name, { value, enumerable: true, writable: true, configurable: true });
      } else {
        table[name] = value;
      }
    }
    return table;
  }

  value(depth: number): HeaderValue {
    const tag = this.u8();
    switch (tag) {
      case T_NULL:
        return null;
      case T_FALSE:
        return false;
      case T_TRUE:
        return true;
      case T_STRING:
        return this.string();
      case T_UINT:
      case T_NEGINT:
      case T_F64:
        this.pos -= 1;
        return this.number();
      case T_BIGINT: {
        const sign = this.u8();
        if (sign > 1) throw corrupt(`bigint sign ${sign}`, this.pos - 1);
        const length = this.varint();
        const start = this.take(length);
        if (length > 0 && this.bytes[start + length - 1] === 0) throw corrupt('bigint with leading zero bytes', start);
        if (length === 0 && sign === 1) throw corrupt('negative zero bigint', start);
        let magnitude = 0n;
        for (let i = length - 1; i >= 0; i--) magnitude = (magnitude << 8n) | BigInt(this.bytes[start + i] as number);
        return sign === 1 ? -magnitude : magnitude;
      }
      case T_BYTES:
        return this.bytesView();
      case T_ARRAY: {
        if (depth + 1 > MAX_HEADER_DEPTH) throw corrupt('headers nested too deep', this.pos);
        const count = this.varint();
        if (count > this.end - this.pos) throw corrupt(`array length ${count} exceeds the record`, this.pos);
        const items: HeaderValue[] = new Array<HeaderValue>(count);
        for (let i = 0; i < count; i++) items[i] = this.value(depth + 1);
        return items;
      }
      case T_TABLE:
        return this.table(depth + 1);
      default:
        throw corrupt(`unknown header value tag ${tag}`, this.pos - 1);
    }
  }
}

interface FixedHeader {
  readonly flags: number;
  readonly mask: number;
  readonly bodyLength: number;
  /** Where the body starts: the record's end minus the body length. */
  readonly bodyStart: number;
}

function readFixed(bytes: Uint8Array): FixedHeader {
  if (!(bytes instanceof Uint8Array)) throw corrupt('not a byte array');
  if (bytes.byteLength < FIXED_BYTES) throw corrupt(`record of ${bytes.byteLength} bytes is shorter than its header`);
  const version = bytes[0] as number;
  if (version !== MESSAGE_FORMAT_VERSION) throw corrupt(`unsupported message format version ${version}`, 0);
  const flags = bytes[1] as number;
  if ((flags & ~(FLAG_PERSISTENT | FLAG_HEADERS)) !== 0) throw corrupt(`unknown flags 0x${flags.toString(16)}`, 1);
  const mask = (bytes[2] as number) | ((bytes[3] as number) << 8);
  if ((mask & ~PROPERTY_MASK) !== 0) throw corrupt(`unknown property bits 0x${mask.toString(16)}`, 2);
  const bodyLength =
    ((bytes[4] as number) | ((bytes[5] as number) << 8) | ((bytes[6] as number) << 16) | ((bytes[7] as number) << 24)) >>> 0;
  const bodyStart = bytes.byteLength - bodyLength;
  if (bodyStart < FIXED_BYTES) throw corrupt(`body length ${bodyLength} exceeds the record`, 4);
  return { flags, mask, bodyLength, bodyStart };
}

/**
 * Decodes a record written by `encodeMessage`. The body, the key and byte header values are views into
 * `bytes` (no copy): the caller must not reuse `bytes` while the message lives. Throws BrokerError
 * STORAGE_CORRUPT, and nothing else, when the bytes are not a well-formed message record.
 */
export function decodeMessage(bytes: Uint8Array): Message {
  try {
    return decodeChecked(bytes);
  } catch (error) {
    if (isBrokerError(error, 'STORAGE_CORRUPT')) throw error;
    throw new BrokerError('STORAGE_CORRUPT', 'malformed message record', undefined, { cause: error });
  }
}

function decodeChecked(bytes: Uint8Array): Message {
  const { flags, mask, bodyLength, bodyStart } = readFixed(bytes);
  // Strings and headers must end exactly where the body begins.
  const reader = new Reader(bytes, bodyStart);
  const properties: MessageProperties = {};
  if (mask & P_EXPIRATION) properties.expiration = reader.number();
  if (mask & P_PRIORITY) properties.priority = reader.number();
  if (mask & P_TIMESTAMP) properties.timestamp = reader.number();
  const exchange = reader.string();
  const routingKey = reader.string();
  for (let i = 0; i < STRING_PROPERTIES.length; i++) {
    if (mask & (1 << (FIRST_STRING_BIT + i))) properties[STRING_PROPERTIES[i] as (typeof STRING_PROPERTIES)[number]] = reader.string();
  }
  if (mask & P_KEY) properties.key = reader.bytesView();
  const headers = flags & FLAG_HEADERS ? reader.table(0) : {};
  if (flags & FLAG_HEADERS && !hasHeaders(headers)) throw corrupt('headers flag set on an empty table', 1);
  if (reader.pos !== bodyStart) throw corrupt(`${bodyStart - reader.pos} unexplained bytes before the body`, reader.pos);
  return {
    exchange,
    routingKey,
    headers,
    properties,
    body: new Uint8Array(bytes.buffer, bytes.byteOffset + bodyStart, bodyLength),
    persistent: (flags & FLAG_PERSISTENT) !== 0,
  };
}

/** Body length of an encoded message, read from its fixed header: O(1), for recovery scans. */
export function readBodyLength(bytes: Uint8Array): number {
  return readFixed(bytes).bodyLength;
}

/** What queues need to decide expiry, priority and size without decoding strings, headers or body. */
export interface MessageSummary {
  readonly persistent: boolean;
  /** Per-message TTL in ms, when set. */
  readonly expiration: number | undefined;
  readonly priority: number | undefined;
  /** Producer timestamp, when set. */
  readonly timestamp: number | undefined;
  readonly bodyLength: number;
}

/** Reads the persistent flag, numeric properties and body length; throws STORAGE_CORRUPT like decode. */
export function readMessageSummary(bytes: Uint8Array): MessageSummary {
  try {
    const { flags, mask, bodyLength, bodyStart } = readFixed(bytes);
    const reader = new Reader(bytes, bodyStart);
    const expiration = mask & P_EXPIRATION ? reader.number() : undefined;
    const priority = mask & P_PRIORITY ? reader.number() : undefined;
    const timestamp = mask & P_TIMESTAMP ? reader.number() : undefined;
    return { persistent: (flags & FLAG_PERSISTENT) !== 0, expiration, priority, timestamp, bodyLength };
  } catch (error) {
    if (isBrokerError(error, 'STORAGE_CORRUPT')) throw error;
    throw new BrokerError('STORAGE_CORRUPT', 'malformed message record', undefined, { cause: error });
  }
}
