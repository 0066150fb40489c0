/**
 * The on-disk form of a sealed segment's sparse index. It is a cache: written when a segment is sealed,
 * trusted only when its checksum holds and it describes the segment's current size, and rebuilt from the
 * segment otherwise.
 *
 *   0  u32  magic 'CRIX'     4  u32 version
 *   8  f64  base offset     16  f64 segment bytes covered
 *  24  f64  next offset     32  f64 max timestamp
 *  40  u32  entry count     44  u32 CRC-32 of bytes [0, 44) and the entries
 *  48  entries: f64 offset, f64 position, f64 max timestamp before  (24 bytes each)
 */
import { crc32 } from './crc32.js';
import { SegmentIndex } from './segment-index.js';

const MAGIC = 0x58495243;
const VERSION = 1;
const HEADER_BYTES = 48;
const ENTRY_BYTES = 24;

/** Encodes the index of a segment of `segmentBytes` bytes (records may end earlier after damage). */
export function encodeIndexFile(index: SegmentIndex, segmentBytes: number): Buffer {
  const count = index.entryCount;
  const buffer = Buffer.allocUnsafe(HEADER_BYTES + count * ENTRY_BYTES);
  buffer.writeUInt32LE(MAGIC, 0);
  buffer.writeUInt32LE(VERSION, 4);
  buffer.writeDoubleLE(index.baseOffset, 8);
  buffer.writeDoubleLE(segmentBytes, 16);
  buffer.writeDoubleLE(index.nextOffset, 24);
  buffer.writeDoubleLE(index.maxTimestamp, 32);
  buffer.writeUInt32LE(count, 40);
  let position = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    buffer.writeDoubleLE(index.offsets[i]!, position);
    buffer.writeDoubleLE(index.positions[i]!, position + 8);
    buffer.writeDoubleLE(index.maxTimestampsBefore[i]!, position + 16);
    position += ENTRY_BYTES;
  }
  buffer.writeUInt32LE(checksum(buffer), 44);
  return buffer;
}

function checksum(buffer: Buffer): number {
  return crc32(buffer.subarray(HEADER_BYTES), crc32(buffer.subarray(0, 44)));
}

/**
 * Decodes an index file; undefined when it is damaged, of another version, or does not describe a
 * segment with this base offset and size (the segment changed after the index was written).
 */
export function decodeIndexFile(buffer: Buffer, baseOffset: number, segmentBytes: number): SegmentIndex | undefined {
  if (buffer.length < HEADER_BYTES) return undefined;
  if (buffer.readUInt32LE(0) !== MAGIC || buffer.readUInt32LE(4) !== VERSION) return undefined;
  const count = buffer.readUInt32LE(40);
  if (buffer.length !== HEADER_BYTES + count * ENTRY_BYTES) return undefined;
  if (buffer.readUInt32LE(44) !== checksum(buffer)) return undefined;
  if (buffer.readDoubleLE(8) !== baseOffset || buffer.readDoubleLE(16) !== segmentBytes) return undefined;
  const offsets: number[] = [];
  const positions: number[] = [];
  const maxTimestampsBefore: number[] = [];
  let position = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    offsets.push(buffer.readDoubleLE(position));
    positions.push(buffer.readDoubleLE(position + 8));
    maxTimestampsBefore.push(buffer.readDoubleLE(position + 16));
    position += ENTRY_BYTES;
  }
  return SegmentIndex.fromEntries(
    baseOffset,
    { offsets, positions, maxTimestampsBefore },
    buffer.readDoubleLE(32),
    buffer.readDoubleLE(24),
    segmentBytes,
  );
}
