/**
 * Finds and damages the files of a queue's log the way a failing disk or a torn write would. Knows only
 * what an operator could learn from docs: a log is a directory of `<20-digit base offset>.log` segment
 * files holding frames `[u32 length][u32 crc][length bytes]` (see src/storage/file/record-format.ts).
 */
import { open, readFile, readdir, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { RECORD_HEADER_BYTES } from '../../src/storage/file/record-format.js';

const SEGMENT_FILE = /^\d{20}\.log$/;

/** Directories under the log store's root (one per log). */
export async function logDirectories(logsRoot: string): Promise<string[]> {
  const entries = await readdir(logsRoot, { withFileTypes: true });
  return entries.filter((entry) => entry.isDirectory()).map((entry) => join(logsRoot, entry.name)).sort();
}

/** Segment files of one log directory, in offset order. */
export async function segmentFiles(logDirectory: string): Promise<string[]> {
  const names = await readdir(logDirectory);
  return names.filter((name) => SEGMENT_FILE.test(name)).sort().map((name) => join(logDirectory, name));
}

export function segmentBaseOffset(path: string): number {
  return Number(/(\d{20})\.log$/.exec(path)![1]);
}

export interface Frame {
  /** Byte position of the frame in the segment. */
  readonly start: number;
  readonly size: number;
  /** Log offset of the record (the segment's base plus its index, for an undamaged segment). */
  readonly offset: number;
  /** Byte position of the payload. */
  readonly payloadStart: number;
}

/** The frames of an undamaged segment, walking the length fields. */
export async function framesOf(segment: string): Promise<Frame[]> {
  const bytes = await readFile(segment);
  const base = segmentBaseOffset(segment);
  const frames: Frame[] = [];
  let position = 0;
  while (position + 8 <= bytes.length) {
    const size = 8 + bytes.readUInt32LE(position);
    if (position + size > bytes.length) throw new Error(`${segment} ends inside a frame at byte ${position}`);
    frames.push({ start: position, size, offset: base + frames.length, payloadStart: position + RECORD_HEADER_BYTES });
    position += size;
  }
  if (position !== bytes.length) throw new Error(`${segment} has ${bytes.length - position} stray bytes at the end`);
  return frames;
}

export async function truncateFile(path: string, length: number): Promise<void> {
  await truncate(path, length);
}

/** Inverts one bit of the byte at `position`. */
export async function flipBit(path: string, position: number, bit = 3): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, position);
    byte[0] = byte[0]! ^ (1 << bit);
    await handle.write(byte, 0, 1, position);
  } finally {
    await handle.close();
  }
}
