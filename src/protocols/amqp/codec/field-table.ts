/**
 * AMQP field tables and arrays with the type tags RabbitMQ uses (its errata to AMQP 0-9-1 §4.2.5.5,
 * which differ from the published grammar: `s` is a signed 16-bit integer, not a short string).
 *
 * Decoding, to values shaped like the core's HeaderValue (the codec does not import core; a test checks
 * the two types stay interchangeable):
 *   t -> boolean                      b, B, s, u, I, i, f, d -> number
 *   l, L -> signed 64-bit (RabbitMQ reads both as signed): number when a safe integer, else bigint
 *   T -> seconds since the epoch as a number (bigint beyond 2^53); the timestamp tag is not kept
 *        (readFieldTableTags reports the tags, for arguments that depend on them)
 *   D -> number: unscaled value / 10^scale (the decimal tag is not kept)
 *   S -> string when the octets are valid UTF-8, else Uint8Array (binary data in a longstr survives)
 *   x -> Uint8Array   A -> array   F -> table   V -> null
 * Binary values are copies, so a decoded table never pins the socket chunk it came from.
 * Keys are decoded leniently (malformed UTF-8 becomes U+FFFD, cut back to 255 octets if that made the key
 * longer): they are carried along, not acted on, and a bad key should not close the connection.
 *
 * Encoding uses few, widely read tags (I for every int32, where amqplib picks the narrowest of b, s, I):
 *   integer number in int32 -> I     other safe integer -> l     any other number (and -0) -> d
 *   bigint in int64 -> l, in [2^63, 2^64) -> T (the one unsigned 64-bit tag RabbitMQ reads as such),
 *   beyond -> d (lossy)     string -> S     boolean -> t
 *   Uint8Array -> x     null -> V     array -> A     object -> F
 * `undefined` entries of a table are skipped; `undefined` in an array is written as V.
 * So every value this module decodes re-encodes to the same value, though T, D and narrow integer tags
 * come back as I, l or d, and an S holding non-UTF-8 octets comes back as x.
 */
import { encodeError, syntaxError } from './codec-error.js';
import { WireReader } from './wire-reader.js';
import { WireWriter } from './wire-writer.js';

export type FieldValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | Uint8Array
  | FieldValue[]
  | FieldTable;

export interface FieldTable {
  [name: string]: FieldValue;
}

/** Nesting of tables and arrays accepted; bounds recursion on hostile input and cyclic values. */
export const MAX_FIELD_DEPTH = 64;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const TAG_t = 0x74;

/** Reads a field table: a 32-bit size, then name/value pairs filling exactly that many octets. */
export function readFieldTable(reader: WireReader): FieldTable {
  return readTableBody(reader, 0);
}

/**
 * Reads a field table and returns the type tag of each entry (its last one, for a repeated name): what
 * decoding does not keep, for the few arguments whose meaning depends on it (a T `x-stream-offset` is a
 * point in time, an integer one an offset).
 */
export function readFieldTableTags(reader: WireReader): Map<string, number> {
  const size = reader.long();
  reader.need(size);
  const end = reader.pos + size;
  const inner = new WireReader(reader.bytes, reader.pos, end);
  const tags = new Map<string, number>();
  while (inner.pos < end) {
    const name = inner.shortStrLenient();
    inner.need(1);
    tags.set(name, inner.bytes[inner.pos]!);
    readValue(inner, 0);
  }
  reader.pos = end;
  return tags;
}

/** Writes a field table: a 32-bit size, then the name/value pairs. */
export function writeFieldTable(writer: WireWriter, table: FieldTable): void {
  writeTableBody(writer, table, 0);
}

/** A table on its own (size prefix included), e.g. for tests or for stored arguments. */
export function encodeFieldTable(table: FieldTable): Uint8Array {
  const writer = new WireWriter(256);
  writeFieldTable(writer, table);
  return writer.take();
}

/** Decodes exactly one table (size prefix included) filling `bytes`. */
export function decodeFieldTable(bytes: Uint8Array): FieldTable {
  const reader = new WireReader(bytes);
  const table = readFieldTable(reader);
  reader.expectEnd();
  return table;
}

function readTableBody(reader: WireReader, depth: number): FieldTable {
  if (depth >= MAX_FIELD_DEPTH) throw syntaxError(`field tables nested deeper than ${MAX_FIELD_DEPTH}`);
  const size = reader.long();
  reader.need(size);
  const end = reader.pos + size;
  const inner = new WireReader(reader.bytes, reader.pos, end);
  const table: FieldTable = {};
  while (inner.pos < end) {
    const name = inner.shortStrLenient();
    const value = readValue(inner, depth);
    setEntry(table, name, value);
  }
  reader.pos = end;
  return table;
}

function readArrayBody(reader: WireReader, depth: number): FieldValue[] {
  if (depth >= MAX_FIELD_DEPTH) throw syntaxError(`field arrays nested deeper than ${MAX_FIELD_DEPTH}`);
  const size = reader.long();
  reader.need(size);
  const end = reader.pos + size;
  const inner = new WireReader(reader.bytes, reader.pos, end);
  const values: FieldValue[] = [];
  while (inner.pos < end) values.push(readValue(inner, depth));
  reader.pos = end;
  return values;
}

function readValue(reader: WireReader, depth: number): FieldValue {
  const tag = reader.octet();
  switch (tag) {
    case 0x53: // S
      return reader.utf8(reader.long(), false);
    case 0x49: // I
      return reader.int32();
    case TAG_t:
      return reader.octet() !== 0;
    case 0x6c: // l
    case 0x4c: // L
      return reader.int64Exact();
    case 0x46: // F
      return readTableBody(reader, depth + 1);
    case 0x41: // A
      return readArrayBody(reader, depth + 1);
    case 0x62: // b
      return reader.int8();
    case 0x42: // B
      return reader.octet();
    case 0x73: // s
      return reader.int16();
    case 0x75: // u
      return reader.short();
    case 0x69: // i
      return reader.long();
    case 0x66: // f
      return reader.float32();
    case 0x64: // d
      return reader.float64();
    case 0x44: {
      // D: scale octet, then an unsigned 32-bit unscaled value (RabbitMQ's reading)
      const scale = reader.octet();
      const unscaled = reader.long();
      return unscaled / 10 ** scale;
    }
    case 0x54: // T
      return reader.uint64Exact();
    case 0x78: // x
      return reader.copyBytes(reader.long());
    case 0x56: // V
      return null;
    default:
      throw syntaxError(`unknown field-table type tag 0x${tag.toString(16).padStart(2, '0')}`);
  }
}

/** A key named `__proto__` must become an own entry, not replace the table's prototype. */
function setEntry(table: FieldTable, name: string, value: FieldValue): void {
  if (name === '__proto__') {
    Object.defineProperty(table, name, { value, enumerable: true, writable: true, configurable: true });
  } else {
    table[name] = value;
  }
}

function writeTableBody(writer: WireWriter, table: FieldTable, depth: number): void {
  if (depth >= MAX_FIELD_DEPTH) throw encodeError(`field tables nested deeper than ${MAX_FIELD_DEPTH} (a cycle?)`);
  const sizeAt = writer.reserve(4);
  for (const name of Object.keys(table)) {
    const value = table[name];
    if (value === undefined) continue;
    writer.shortStr(name);
    writeValue(writer, value, depth);
  }
  writer.patchLong(sizeAt, writer.mark() - sizeAt - 4);
}

function writeArrayBody(writer: WireWriter, values: readonly FieldValue[], depth: number): void {
  if (depth >= MAX_FIELD_DEPTH) throw encodeError(`field arrays nested deeper than ${MAX_FIELD_DEPTH} (a cycle?)`);
  const sizeAt = writer.reserve(4);
  for (const value of values) {
    if (value === undefined) writer.octet(0x56);
    else writeValue(writer, value, depth);
  }
  writer.patchLong(sizeAt, writer.mark() - sizeAt - 4);
}

function writeValue(writer: WireWriter, value: FieldValue, depth: number): void {
  switch (typeof value) {
    case 'string':
      writer.octet(0x53);
      writer.longStr(value);
      return;
    case 'number':
      writeNumber(writer, value);
      return;
    case 'boolean':
      writer.octet(TAG_t);
      writer.octet(value ? 1 : 0);
      return;
    case 'bigint':
      if (value >= INT64_MIN && value <= INT64_MAX) {
        writer.octet(0x6c);
        writer.int64(value);
      } else if (value > INT64_MAX && value <= UINT64_MAX) {
        // Only a T decodes to such a value; writing it back as T keeps it exact.
        writer.octet(0x54);
        writer.uint64(value);
      } else {
        writer.octet(0x64);
        writer.float64(Number(value));
      }
      return;
    case 'object':
      if (value === null) {
        writer.octet(0x56);
      } else if (value instanceof Uint8Array) {
        writer.octet(0x78);
        writer.long(value.byteLength);
        writer.bytes(value);
      } else if (Array.isArray(value)) {
        writer.octet(0x41);
        writeArrayBody(writer, value, depth + 1);
      } else {
        writer.octet(0x46);
        writeTableBody(writer, value, depth + 1);
      }
      return;
    default:
      throw encodeError(`a ${typeof value} cannot be written to a field table`);
  }
}

function writeNumber(writer: WireWriter, value: number): void {
  if (Object.is(value, -0)) {
    // An integer tag would lose the sign.
    writer.octet(0x64);
    writer.float64(value);
  } else if ((value | 0) === value) {
    writer.octet(0x49);
    writer.int32(value);
  } else if (Number.isSafeInteger(value)) {
    writer.octet(0x6c);
    writer.int64(BigInt(value));
  } else {
    writer.octet(0x64);
    writer.float64(value);
  }
}
