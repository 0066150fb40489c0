/**
 * One measured run of a publisher process and a consumer process against a broker: both get `go`
 * together, the broker's CPU and RSS and the whole machine's CPU are sampled around them, and the
 * resource figures every protocol scenario reports come out the same way for each.
 */
import type { WorkerProcess } from '../load/worker-process.js';
import { PeakRssSampler, sampleMachineCpu, type ProcessTreeProbe } from '../load/proc-stat.js';
import type { Column } from './rounds.js';
import { formatMegabytes, formatNumber } from './table.js';
import { cores, withTimeout } from './workers.js';

/** What every publisher report carries: when it published, and its own CPU. */
export interface PublisherTiming {
  readonly startNs: number;
  readonly endNs: number;
  readonly cpuUserMicros: number;
  readonly cpuSystemMicros: number;
}

/** What every consumer report carries: when it started and last received, and its own CPU. */
export interface ConsumerTiming {
  readonly goNs: number;
  readonly lastNs: number;
  readonly cpuUserMicros: number;
  readonly cpuSystemMicros: number;
}

export interface MeasuredRun<P, C> {
  readonly published: P;
  readonly consumed: C;
  /** Broker CPU and RSS, load-generator and machine cores; the broker's cores over `seconds` of run. */
  readonly resources: (seconds: number) => Record<string, number>;
}

/**
 * Starts `consumer` and `publisher` (both connected), waits for the publisher, tells the consumer it is
 * done, waits for the consumer. `published` sees the publisher's report before the consumer is told.
 */
export async function measureRun<P extends PublisherTiming, C extends ConsumerTiming>(
  probe: ProcessTreeProbe,
  publisher: WorkerProcess<P>,
  consumer: WorkerProcess<C>,
  timeoutMs: number,
  onPublished?: (published: P) => void,
): Promise<MeasuredRun<P, C>> {
  const sampler = new PeakRssSampler(probe);
  const before = await probe.sample();
  const machineBefore = await sampleMachineCpu();
  const machineStartNs = Number(process.hrtime.bigint());
  sampler.start();
  consumer.go();
  publisher.go();
  try {
    const published = await withTimeout(publisher.done, timeoutMs, 'publisher');
    onPublished?.(published);
    consumer.publishersDone();
    const consumed = await withTimeout(consumer.done, timeoutMs, 'consumer');
    const after = await probe.sample();
    const machineAfter = await sampleMachineCpu();
    const machineSeconds = (Number(process.hrtime.bigint()) - machineStartNs) / 1e9;
    const peakRss = await sampler.stop();
    return {
      published,
      consumed,
      resources: (seconds) => ({
        brokerCpuSeconds: after.cpuSeconds - before.cpuSeconds,
        brokerCores: (after.cpuSeconds - before.cpuSeconds) / seconds,
        brokerPeakRssBytes: peakRss,
        publisherCores: cores(published.cpuUserMicros, published.cpuSystemMicros, published.endNs - published.startNs),
        consumerCores: cores(consumed.cpuUserMicros, consumed.cpuSystemMicros, consumed.lastNs - consumed.goNs),
        machineCores: (machineAfter.busySeconds - machineBefore.busySeconds) / machineSeconds,
      }),
    };
  } finally {
    await sampler.stop().catch(() => 0);
  }
}

export const coresText = (value: number): string => formatNumber(value, 2);

/** The table columns of `resources`, after each scenario's own. */
export const RESOURCE_COLUMNS: readonly Column[] = [
  { key: 'brokerCores', header: 'broker cores', format: coresText },
  { key: 'brokerCpuSeconds', header: 'broker CPU s', format: (value) => formatNumber(value, 1) },
  { key: 'publisherCores', header: 'pub cores', format: coresText },
  { key: 'consumerCores', header: 'cons cores', format: coresText },
  { key: 'machineCores', header: 'machine cores', format: coresText },
  { key: 'brokerPeakRssBytes', header: 'broker RSS peak', format: formatMegabytes },
];

/** The progress line's tail for `resources`. */
export function resourcesText(metrics: Readonly<Record<string, number>>): string {
  const get = (key: string): number => metrics[key] ?? Number.NaN;
  return `broker ${coresText(get('brokerCores'))} cores, pub ${coresText(get('publisherCores'))}, cons ${coresText(get('consumerCores'))}, machine ${coresText(get('machineCores'))}, RSS ${formatMegabytes(get('brokerPeakRssBytes'))}`;
}
