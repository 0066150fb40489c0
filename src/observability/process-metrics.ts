import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import type { ExpositionWriter } from './exposition.js';
import { writeFamily } from './metric-catalog.js';

const NANOS_PER_SECOND = 1e9;
const MICROS_PER_SECOND = 1e6;

/**
 * CPU, memory and event-loop delay of this process, read when scraped. The event-loop figures cover the
 * time since the previous scrape (the delay histogram is reset after each), so two scrapers see shorter
 * windows each.
 */
export class ProcessMetrics {
  private readonly loopDelay: IntervalHistogram;
  private readonly resolutionNanos: number;
  private closed = false;

  constructor(resolutionMs = 10) {
    // The monitor's timer is unref'd: it does not keep the process alive, but close() stops it.
    this.loopDelay = monitorEventLoopDelay({ resolution: resolutionMs });
    this.resolutionNanos = resolutionMs * 1e6;
    this.loopDelay.enable();
  }

  write(writer: ExpositionWriter): void {
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    writeFamily(writer, 'process_cpu_seconds_total', [['', (cpu.user + cpu.system) / MICROS_PER_SECOND]]);
    writeFamily(writer, 'process_resident_memory_bytes', [['', memory.rss]]);
    writeFamily(writer, 'process_start_time_seconds', [['', Math.round(performance.timeOrigin) / 1000]]);
    writeFamily(writer, 'nodejs_heap_used_bytes', [['', memory.heapUsed]]);
    writeFamily(writer, 'nodejs_external_memory_bytes', [['', memory.external]]);
    if (this.closed) return;
    const delay = this.loopDelay;
    // Each sample is the whole interval between two ticks of the monitor's timer: the delay is what
    // exceeds the timer's own resolution.
    const lag = (nanos: number): number =>
      delay.count === 0 || !Number.isFinite(nanos) ? 0 : Math.max(0, nanos - this.resolutionNanos) / NANOS_PER_SECOND;
    writeFamily(writer, 'nodejs_eventloop_lag_seconds', [['', lag(delay.mean)]]);
    writeFamily(writer, 'nodejs_eventloop_lag_p99_seconds', [['', lag(delay.percentile(99))]]);
    writeFamily(writer, 'nodejs_eventloop_lag_max_seconds', [['', lag(delay.max)]]);
    delay.reset();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.loopDelay.disable();
  }
}
