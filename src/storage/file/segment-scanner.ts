/**
 * Walks the records of a byte range of a segment file in chunks, verifying each one, and finds the next
 * valid record after damage. Used by recovery, index rebuilding, reads and scans.
 */
import type { FileHandle } from 'node:fs/promises';
import { readFully } from './fs-util.js';
import {
  DecodedRecord,
  DecodeStatus,
  MAX_RECORD_PAYLOAD,
  RECORD_HEADER_BYTES,
  decodeRecord,
  peekOffset,
} from './record-format.js';

export interface ScanRange {
  readonly handle: FileHandle;
  /** Byte position of a record boundary to start at. */
  readonly start: number;
  /** Byte position where the range ends (end of the file or of the written records). */
  readonly end: number;
  /** Offset the record at `start` must have. */
  readonly expectedOffset: number;
  /** Offsets in this segment are below this bound (the next segment's base), Infinity for the last. */
  readonly upperOffset: number;
  /** Bytes to read at a time. */
  readonly chunkBytes: number;
  /** Reused for every chunk when given (records are then views valid only during onRecord). */
  readonly reuse?: Buffer;
}

export interface Damage {
  /** Where the damaged bytes start. */
  readonly position: number;
  /** Offset the damaged record should have had. */
  readonly expectedOffset: number;
  readonly reason: string;
  /** Position of the next valid record, or undefined when nothing valid follows in the range. */
  readonly resumeAt: number | undefined;
}

export interface ScanVisitor {
  /** A valid record whose frame starts at `position`; the frame is in `buffer`. Return false to stop. */
  onRecord(record: DecodedRecord, buffer: Buffer, position: number): boolean;
  onDamage(damage: Damage): void;
}

export interface ScanResult {
  /** Position after the last record visited (or of the record that stopped the scan). */
  readonly position: number;
  /** Offset expected at `position`. */
  readonly nextOffset: number;
  readonly stopped: boolean;
}

function chunkBuffer(range: ScanRange, bytes: number): Buffer {
  if (range.reuse && range.reuse.length >= bytes) return range.reuse;
  return Buffer.allocUnsafe(bytes);
}

export async function scanRange(range: ScanRange, visitor: ScanVisitor): Promise<ScanResult> {
  const decoded = new DecodedRecord();
  let position = range.start;
  let expected = range.expectedOffset;
  let wanted = range.chunkBytes;
  while (position < range.end) {
    const length = Math.min(Math.max(wanted, RECORD_HEADER_BYTES), range.end - position);
    const buffer = chunkBuffer(range, length);
    const filled = await readFully(range.handle, buffer, length, position);
    let at = 0;
    wanted = range.chunkBytes;
    while (at < filled) {
      const status = decodeRecord(buffer, at, filled, decoded);
      if (status === DecodeStatus.Ok && decoded.offset === expected && decoded.offset < range.upperOffset) {
        if (!visitor.onRecord(decoded, buffer, position + at)) {
          return { position: position + at, nextOffset: expected, stopped: true };
        }
        at += decoded.size;
        expected++;
        continue;
      }
      const recordEnd = position + at + decoded.size;
      const moreInRange = filled === length && position + filled < range.end;
      if (status === DecodeStatus.Incomplete && moreInRange && (decoded.size === 0 || recordEnd <= range.end)) {
        // The record continues past this chunk: read again from its start, big enough to hold it.
        wanted = Math.max(range.chunkBytes, decoded.size);
        break;
      }
      const damagedAt = position + at;
      const reason =
        status === DecodeStatus.Incomplete
          ? 'record extends past the end of the segment'
          : status === DecodeStatus.Invalid
            ? 'checksum mismatch or impossible length'
            : `record has offset ${decoded.offset}, expected ${expected}`;
      const hint = decoded.size > 0 && recordEnd < range.end ? recordEnd : undefined;
      const found = await resync(range, damagedAt, expected, hint);
      visitor.onDamage({ position: damagedAt, expectedOffset: expected, reason, resumeAt: found?.position });
      if (!found) return { position: range.end, nextOffset: expected, stopped: false };
      position = found.position;
      expected = found.offset;
      at = -1;
      break;
    }
    if (at >= 0) position += at;
  }
  return { position, nextOffset: expected, stopped: false };
}

/**
 * Finds the first valid record after damage at `damagedAt`: a frame with a correct checksum whose offset
 * lies in [expected, upperOffset). `hint` (where the damaged record would end if its length field is
 * right) is tried first, so a flipped payload bit loses exactly one record.
 */
async function resync(
  range: ScanRange,
  damagedAt: number,
  expected: number,
  hint: number | undefined,
): Promise<{ position: number; offset: number } | undefined> {
  const decoded = new DecodedRecord();
  if (hint !== undefined) {
    const offset = await validRecordAt(range, hint, expected, decoded);
    if (offset !== undefined) return { position: hint, offset };
  }
  const chunkBytes = Math.max(range.chunkBytes, 64 * 1024);
  const buffer = Buffer.allocUnsafe(chunkBytes);
  let chunkStart = damagedAt + 1;
  while (chunkStart + RECORD_HEADER_BYTES <= range.end) {
    const length = Math.min(chunkBytes, range.end - chunkStart);
    const filled = await readFully(range.handle, buffer, length, chunkStart);
    const lastCandidate = filled - RECORD_HEADER_BYTES;
    for (let at = 0; at <= lastCandidate; at++) {
      const frameLength = buffer.readUInt32LE(at);
      if (frameLength < RECORD_HEADER_BYTES - 8 || frameLength - (RECORD_HEADER_BYTES - 8) > MAX_RECORD_PAYLOAD) continue;
      const candidate = chunkStart + at;
      if (candidate + 8 + frameLength > range.end) continue;
      const offset = peekOffset(buffer, at);
      if (offset < expected || offset >= range.upperOffset) continue;
      const status = decodeRecord(buffer, at, filled, decoded);
      if (status === DecodeStatus.Ok) return { position: candidate, offset };
      if (status === DecodeStatus.Incomplete && (await validRecordAt(range, candidate, expected, decoded)) !== undefined) {
        return { position: candidate, offset };
      }
    }
    if (filled < length || chunkStart + filled >= range.end) break;
    // Overlap by a header so a frame straddling two chunks is still seen.
    chunkStart += Math.max(1, lastCandidate + 1);
  }
  return undefined;
}

async function validRecordAt(
  range: ScanRange,
  position: number,
  expected: number,
  decoded: DecodedRecord,
): Promise<number | undefined> {
  if (position + RECORD_HEADER_BYTES > range.end) return undefined;
  const head = Buffer.allocUnsafe(8);
  if ((await readFully(range.handle, head, 8, position)) < 8) return undefined;
  const frameLength = head.readUInt32LE(0);
  const size = 8 + frameLength;
  if (frameLength < RECORD_HEADER_BYTES - 8 || frameLength - (RECORD_HEADER_BYTES - 8) > MAX_RECORD_PAYLOAD) return undefined;
  if (position + size > range.end) return undefined;
  const frame = Buffer.allocUnsafe(size);
  if ((await readFully(range.handle, frame, size, position)) < size) return undefined;
  if (decodeRecord(frame, 0, size, decoded) !== DecodeStatus.Ok) return undefined;
  if (decoded.offset < expected || decoded.offset >= range.upperOffset) return undefined;
  return decoded.offset;
}
