import { everyInterval } from '../clock.js';
import type { Clock, Metrics, TimerHandle } from '../ports.js';
import type { ResourceAlarms } from './resource-alarms.js';

export interface TransientMemoryGuardOptions {
  /** The memory alarm goes on above this many bytes and off again below `LOW_WATERMARK` of it. */
  readonly limitBytes: number;
  readonly clock: Clock;
  readonly alarms: ResourceAlarms;
  readonly metrics: Metrics;
  /** Bytes held by every transient queue now; walks the queues, so it is called rarely. */
  readonly measure: () => number;
}

/** Hysteresis: publishers resume only once this share of the limit is free, so they do not flap. */
const LOW_WATERMARK = 0.8;
const SAMPLE_INTERVAL_MS = 100;

/**
 * Bounds the memory transient queues hold (their messages live in memory logs, DESIGN §4). Every stored
 * message adds to a running estimate, which only grows between samples (frees are not seen), so the
 * alarm goes on at once when the limit is crossed and never late; a periodic exact measure corrects the
 * estimate and clears the alarm once consumers drained enough.
 */
export class TransientMemoryGuard {
  private estimate = 0;
  private timer: TimerHandle | undefined;
  private readonly lowBytes: number;

  constructor(private readonly options: TransientMemoryGuardOptions) {
    this.lowBytes = Math.floor(options.limitBytes * LOW_WATERMARK);
  }

  start(): void {
    this.timer = everyInterval(this.options.clock, SAMPLE_INTERVAL_MS, () => this.sample());
  }

  /** One message of `bytes` went into a transient queue. Hot path: an add and a compare. */
  added(bytes: number): void {
    this.estimate += bytes;
    if (this.estimate > this.options.limitBytes && !this.options.alarms.has('memory')) this.sample();
  }

  /** Measures exactly and switches the alarm. */
  sample(): void {
    const bytes = this.options.measure();
    this.estimate = bytes;
    this.options.metrics.gauge('courier_transient_memory_bytes', bytes);
    const alarms = this.options.alarms;
    if (bytes > this.options.limitBytes) {
      if (!alarms.has('memory')) this.options.metrics.count('courier_resource_alarms_total', 1, MEMORY_LABELS);
      alarms.set('memory', true);
    } else if (bytes <= this.lowBytes) alarms.set('memory', false);
    this.options.metrics.gauge('courier_resource_alarm', alarms.has('memory') ? 1 : 0, MEMORY_LABELS);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}

const MEMORY_LABELS = { resource: 'memory' } as const;
