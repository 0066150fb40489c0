import { statfs } from 'node:fs/promises';
import type { ResourceAlarms } from '../core/flow/resource-alarms.js';
import type { Logger, Metrics } from '../core/ports.js';

export interface DiskSpaceMonitorOptions {
  readonly directory: string;
  /** Free bytes the disk must keep; below it the disk alarm goes on. */
  readonly limitBytes: number;
  readonly alarms: ResourceAlarms;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly intervalMs?: number;
}

const DEFAULT_INTERVAL_MS = 2000;
const DISK_LABELS = { resource: 'disk' } as const;

/**
 * Raises the disk alarm while the data directory's file system has less free space than the limit,
 * as RabbitMQ's disk_free_limit does: a broker that keeps confirming publishes until the disk is full
 * would then fail every write. Polls statfs (cheap, asynchronous) rather than reacting to ENOSPC,
 * because by then a confirm may already be impossible.
 */
export class DiskSpaceMonitor {
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: DiskSpaceMonitorOptions) {}

  /** Checks once (so an alarm is on before listeners accept clients), then every interval. */
  async start(): Promise<void> {
    await this.check();
    if (this.stopped) return;
    this.timer = setInterval(() => {
      this.checking ??= this.check().finally(() => (this.checking = undefined));
    }, this.options.intervalMs ?? DEFAULT_INTERVAL_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.checking;
  }

  private async check(): Promise<void> {
    const { alarms, limitBytes, metrics, logger } = this.options;
    let free: number;
    try {
      const stats = await statfs(this.options.directory);
      free = stats.bavail * stats.bsize;
    } catch (error) {
      // An unreadable statfs must not block publishing on its own; the storage layer reports real I/O errors.
      logger.warn({ err: error, directory: this.options.directory }, 'disk space check failed');
      return;
    }
    metrics.gauge('courier_disk_free_bytes', free);
    const low = free < limitBytes;
    if (low !== alarms.has('disk')) {
      if (low) {
        metrics.count('courier_resource_alarms_total', 1, DISK_LABELS);
        logger.warn({ freeBytes: free, limitBytes }, 'disk alarm on: free space below disk-free-limit, publishers blocked');
      } else logger.info({ freeBytes: free, limitBytes }, 'disk alarm cleared');
      alarms.set('disk', low);
    }
    metrics.gauge('courier_resource_alarm', low ? 1 : 0, DISK_LABELS);
  }
}
