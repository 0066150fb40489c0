/**
 * The disk's own rate of small synced writes: append 4 KiB, fdatasync, repeat. A log that syncs once per
 * message cannot confirm more messages per second than this; group commit is how it gets past it.
 * Synchronous calls on purpose: this measures the disk, not the event loop or the libuv thread pool.
 */
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface FsyncRateResult {
  readonly syncs: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export function measureFsyncRate(directory: string, seconds: number): FsyncRateResult {
  const path = join(directory, 'fsync-probe');
  const block = Buffer.alloc(4096, 0x5a);
  const fd = openSync(path, 'w');
  const latencies: number[] = [];
  try {
    // Warm-up: the first syncs of a new file also write its metadata.
    for (let i = 0; i < 20; i++) {
      writeSync(fd, block);
      fdatasyncSync(fd);
    }
    const start = performance.now();
    const end = start + seconds * 1000;
    let now = start;
    while (now < end) {
      writeSync(fd, block);
      fdatasyncSync(fd);
      const after = performance.now();
      latencies.push(after - now);
      now = after;
    }
    const elapsed = (now - start) / 1000;
    latencies.sort((a, b) => a - b);
    return {
      syncs: latencies.length,
      seconds: elapsed,
      perSecond: latencies.length / elapsed,
      p50Ms: latencies[Math.floor(latencies.length * 0.5)] ?? 0,
      p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
    };
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
}
