/**
 * Opening a log directory: finding its segments, recovering the last one (the only one a crash can leave
 * torn) and loading or rebuilding the sparse indexes of sealed ones.
 */
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BrokerError } from '../../core/errors.js';
import type { CorruptionReport, FsyncPolicy } from '../../core/ports.js';
import { errorCode, ioError, unlinkIfPresent } from './fs-util.js';
import { decodeIndexFile, encodeIndexFile } from './index-file.js';
import { INDEX_SUFFIX, Segment, indexFileName, parseSegmentFileName } from './segment.js';
import { scanRange } from './segment-scanner.js';
import type { Damage } from './segment-scanner.js';
import { SegmentIndex } from './segment-index.js';

export const SCAN_CHUNK_BYTES = 1024 * 1024;

export interface RecoveryConfig {
  readonly name: string;
  readonly directory: string;
  readonly indexIntervalBytes: number;
  readonly onCorruption: (report: CorruptionReport) => void;
}

export function validatePolicy(policy: FsyncPolicy): void {
  if (policy.mode === 'interval' && !(Number.isFinite(policy.intervalMs) && policy.intervalMs >= 0)) {
    throw new BrokerError('INVALID_ARGUMENT', `fsync intervalMs must be a finite number >= 0, got ${policy.intervalMs}`);
  }
}

export async function loadSegments(config: RecoveryConfig): Promise<Segment[]> {
  let names: string[];
  try {
    names = await readdir(config.directory);
  } catch (error) {
    throw ioError(`listing log directory ${config.directory}`, error);
  }
  const bases: number[] = [];
  const indexFiles = new Set<string>();
  for (const fileName of names) {
    const base = parseSegmentFileName(fileName);
    if (base !== undefined) bases.push(base);
    else if (/^\d{20}\.log$/.test(fileName)) {
      throw new BrokerError('STORAGE_CORRUPT', `segment file ${join(config.directory, fileName)} names an offset beyond 2^53`, {
        log: config.name,
      });
    } else if (fileName.endsWith(INDEX_SUFFIX)) indexFiles.add(fileName);
  }
  bases.sort((a, b) => a - b);
  for (const base of bases) indexFiles.delete(indexFileName(base));
  // Index files without their segment are left over from a deletion cut short.
  await Promise.all([...indexFiles].map((fileName) => unlinkIfPresent(join(config.directory, fileName))));
  if (bases.length === 0) {
    const segment = new Segment(config.directory, 0, 0, false);
    segment.index = new SegmentIndex(0, config.indexIntervalBytes);
    return [segment];
  }
  const segments = await Promise.all(
    bases.map(async (base, i) => {
      const segment = new Segment(config.directory, base, 0, true);
      let size: number;
      try {
        const info = await stat(segment.path);
        if (!info.isFile()) {
          throw new BrokerError('STORAGE_CORRUPT', `segment ${segment.path} is not a regular file`, { log: config.name });
        }
        size = info.size;
      } catch (error) {
        if (error instanceof BrokerError) throw error;
        throw ioError(`reading segment ${segment.path}`, error);
      }
      segment.size = size;
      segment.writtenBytes = size;
      segment.hasBeenWritten = true;
      segment.sealed = i < bases.length - 1;
      return segment;
    }),
  );
  return segments;
}

/**
 * Verifies every record of the last segment, the only one that can hold a torn write. Damage followed by
 * valid records is quarantined (reported, skipped by readers); damage with nothing valid after it is a torn
 * or corrupt tail and is truncated away. Returns the log's end offset.
 */
export async function recoverLastSegment(config: RecoveryConfig, segment: Segment): Promise<number> {
  const index = new SegmentIndex(segment.baseOffset, config.indexIntervalBytes);
  segment.index = index;
  if (segment.size === 0) return segment.baseOffset;
  const handle = await segment.acquire();
  if (!handle) return segment.baseOffset;
  let truncateAt: number | undefined;
  try {
    await scanRange(
      {
        handle,
        start: 0,
        end: segment.size,
        expectedOffset: segment.baseOffset,
        upperOffset: Number.POSITIVE_INFINITY,
        chunkBytes: SCAN_CHUNK_BYTES,
        reuse: Buffer.allocUnsafe(SCAN_CHUNK_BYTES),
      },
      {
        onRecord: (record, _buffer, position) => {
          index.observe(record.offset, position, record.timestamp, record.size);
          return true;
        },
        onDamage: (damage) => {
          const action = damage.resumeAt === undefined ? 'truncated' : 'quarantined';
          if (action === 'truncated') truncateAt = damage.position;
          else segment.reportedDamage.add(damage.position);
          reportCorruption(config.onCorruption, {
            log: config.name,
            location: segment.path,
            offset: damage.expectedOffset,
            reason: `${damage.reason} at byte ${damage.position}`,
            action,
            bytes: (damage.resumeAt ?? segment.size) - damage.position,
          });
        },
      },
    );
    if (truncateAt !== undefined) {
      await handle.truncate(truncateAt);
      await handle.datasync();
      segment.size = truncateAt;
      segment.writtenBytes = truncateAt;
    }
  } catch (error) {
    if (error instanceof BrokerError) throw error;
    throw new BrokerError(
      'STORAGE_CORRUPT',
      `cannot recover log ${JSON.stringify(config.name)}: segment ${segment.path} is unreadable (${String(error)})`,
      { log: config.name, location: segment.path },
      { cause: error },
    );
  } finally {
    segment.release();
  }
  // The last segment is written again, so a stale index file must not be trusted later.
  await unlinkIfPresent(segment.indexPath);
  return index.nextOffset;
}

export function reportCorruption(onCorruption: (report: CorruptionReport) => void, corruption: CorruptionReport): void {
  try {
    onCorruption(corruption);
  } catch {
    // A failing observer must not turn a recoverable problem into a crash.
  }
}

/** Reads a sealed segment's index file, or rebuilds it by scanning the segment (and stores it again). */
export async function loadSealedIndex(
  segment: Segment,
  upperOffset: number,
  intervalBytes: number,
  onDamage: (damage: Damage) => void,
): Promise<SegmentIndex | undefined> {
  try {
    const stored = decodeIndexFile(await readFile(segment.indexPath), segment.baseOffset, segment.size);
    if (stored) {
      if (!segment.isRetired) segment.index = stored;
      return segment.index;
    }
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw ioError(`reading index ${segment.indexPath}`, error);
  }
  const handle = await segment.acquire();
  if (!handle) return undefined;
  const index = new SegmentIndex(segment.baseOffset, intervalBytes);
  try {
    await scanRange(
      {
        handle,
        start: 0,
        end: segment.size,
        expectedOffset: segment.baseOffset,
        upperOffset,
        chunkBytes: SCAN_CHUNK_BYTES,
        reuse: Buffer.allocUnsafe(SCAN_CHUNK_BYTES),
      },
      {
        onRecord: (record, _buffer, at) => {
          index.observe(record.offset, at, record.timestamp, record.size);
          return true;
        },
        onDamage,
      },
    );
  } finally {
    segment.release();
  }
  if (segment.isRetired) return undefined;
  segment.index = index;
  try {
    await writeFile(segment.indexPath, encodeIndexFile(index, segment.size));
  } catch {
    // A cache: failing to store it only costs another rebuild.
  }
  return index;
}
