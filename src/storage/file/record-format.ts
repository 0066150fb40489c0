/**
 * The binary frame of one log record, little-endian:
 *
 *   0  u32  length     bytes after the crc field (17 + payload length)
 *   4  u32  crc        CRC-32 of everything after this field (offset .. end of payload)
 *   8  u64  offset     stored as low and high u32 halves (offsets stay below 2^53)
 *  16  u8   kind       chosen by the log's user
 *  17  f64  timestamp  milliseconds since the epoch, as given at append
 *  25  ...  payload
 *
 * The offset inside the frame lets recovery and resynchronisation check that a record is where it
 * belongs, not only that its bytes are intact.
 */
import { crc32 } from './crc32.js';

export const RECORD_HEADER_BYTES = 25;
/** Bytes covered by the length field besides the payload: offset, kind and timestamp. */
const META_BYTES = 17;
/** Upper bound for one payload; larger length fields are treated as damage, not as a huge record. */
export const MAX_RECORD_PAYLOAD = 256 * 1024 * 1024;
const TWO_POW_32 = 0x1_0000_0000;

export function recordSize(payloadLength: number): number {
  return RECORD_HEADER_BYTES + payloadLength;
}

/**
 * Writes one framed record into `target` at `position`. `scratch` is a caller-owned 17-byte buffer used
 * to checksum the header before the payload without allocating a view per record.
 */
export function writeRecord(
  target: Buffer,
  position: number,
  offset: number,
  kind: number,
  timestamp: number,
  payload: Uint8Array,
  scratch: Buffer,
): void {
  scratch.writeUInt32LE(offset % TWO_POW_32, 0);
  scratch.writeUInt32LE(Math.floor(offset / TWO_POW_32), 4);
  scratch.writeUInt8(kind, 8);
  scratch.writeDoubleLE(timestamp, 9);
  const crc = crc32(payload, crc32(scratch));
  target.writeUInt32LE(META_BYTES + payload.length, position);
  target.writeUInt32LE(crc, position + 4);
  scratch.copy(target, position + 8, 0, META_BYTES);
  target.set(payload, position + RECORD_HEADER_BYTES);
}

/** Outcome of decoding at one position. */
export const DecodeStatus = {
  Ok: 0,
  /** The buffer ends before the record does; read more (or, at the end of the file, a torn tail). */
  Incomplete: 1,
  /** The length field is impossible or the checksum does not match. */
  Invalid: 2,
} as const;
export type DecodeStatus = (typeof DecodeStatus)[keyof typeof DecodeStatus];

/** Reusable result holder, so decoding a record allocates nothing. */
export class DecodedRecord {
  offset = 0;
  kind = 0;
  timestamp = 0;
  payloadStart = 0;
  payloadEnd = 0;
  /** Total frame size in bytes. */
  size = 0;
}

/**
 * Decodes the record starting at `position` in `buffer[0, end)`. On Ok, `out` describes it; on
 * Incomplete, `out.size` holds the frame size when the length field was readable (else 0).
 */
export function decodeRecord(buffer: Buffer, position: number, end: number, out: DecodedRecord): DecodeStatus {
  out.size = 0;
  if (end - position < 8) return DecodeStatus.Incomplete;
  const length = buffer.readUInt32LE(position);
  if (length < META_BYTES || length - META_BYTES > MAX_RECORD_PAYLOAD) return DecodeStatus.Invalid;
  const size = 8 + length;
  out.size = size;
  if (end - position < size) return DecodeStatus.Incomplete;
  const stored = buffer.readUInt32LE(position + 4);
  if (crc32(buffer.subarray(position + 8, position + size)) !== stored) return DecodeStatus.Invalid;
  out.offset = buffer.readUInt32LE(position + 8) + buffer.readUInt32LE(position + 12) * TWO_POW_32;
  out.kind = buffer[position + 16]!;
  out.timestamp = buffer.readDoubleLE(position + 17);
  out.payloadStart = position + RECORD_HEADER_BYTES;
  out.payloadEnd = position + size;
  return DecodeStatus.Ok;
}

/** The offset field of a frame at `position`, without any check; for cheap resynchronisation probes. */
export function peekOffset(buffer: Buffer, position: number): number {
  return buffer.readUInt32LE(position + 8) + buffer.readUInt32LE(position + 12) * TWO_POW_32;
}
