/** Resident memory of this process, sampled: the figure a bounded-memory target is judged on. */
import { readFile } from 'node:fs/promises';

export interface MemoryBreakdown {
  readonly rss: number;
  readonly heapTotal: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

export function memoryBreakdown(): MemoryBreakdown {
  const usage = process.memoryUsage();
  return {
    rss: usage.rss,
    heapTotal: usage.heapTotal,
    heapUsed: usage.heapUsed,
    external: usage.external,
    arrayBuffers: usage.arrayBuffers,
  };
}

/** Keeps the highest RSS seen, from a timer and from explicit `sample()` calls on the hot loop. */
export class RssSampler {
  private highest = 0;
  private timer: NodeJS.Timeout | undefined;

  start(intervalMs = 50): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    return this;
  }

  sample(): number {
    const rss = process.memoryUsage.rss();
    if (rss > this.highest) this.highest = rss;
    return rss;
  }

  stop(): number {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
    return this.highest;
  }

  get max(): number {
    return this.highest;
  }
}

/**
 * The kernel's high-water mark of this process's resident set (VmHWM), which also catches spikes between
 * samples. Linux only: undefined elsewhere.
 */
export async function kernelPeakRss(): Promise<number | undefined> {
  try {
    const status = await readFile('/proc/self/status', 'utf8');
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Runs a full garbage collection when the process was started with --expose-gc; says whether it did. */
export async function collectGarbage(): Promise<boolean> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return false;
  gc();
  // A second pass after the event loop turns lets finalizers and weak callbacks release what they hold.
  await new Promise<void>((resolve) => setImmediate(resolve));
  gc();
  return true;
}
