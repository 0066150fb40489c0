import { BrokerError } from '../core/errors.js';
import type { Logger, MetricLabels, Metrics } from '../core/ports.js';
import { writeBrokerMetrics, type BrokerStatsSource } from './broker-metrics.js';
import { ExpositionWriter, formatValue, labelPairs, sanitizeMetricName, type MetricType } from './exposition.js';
import { helpFor, metricCatalog } from './metric-catalog.js';
import { ProcessMetrics } from './process-metrics.js';

/** Upper bounds in seconds, from 100 µs (an in-memory hop) to 10 s (a stalled disk). */
export const defaultBuckets: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export interface MetricsRegistryOptions {
  /** Histogram bucket upper bounds, ascending; `+Inf` is implied. Defaults to defaultBuckets. */
  readonly buckets?: readonly number[];
  /** CPU, memory and event-loop metrics of this process (default true; starts an event-loop monitor). */
  readonly processMetrics?: boolean;
  /** Told once per name when a metric is reported as two different types (the second kind is dropped). */
  readonly logger?: Logger;
}

interface ScalarSeries {
  readonly pairs: string;
  value: number;
}

interface HistogramSeries {
  readonly pairs: string;
  /** Observations per bucket, not cumulative: an observation touches one slot. */
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

interface Family<S> {
  /** The exposed name: sanitized, and for counters ending in `_total`. */
  readonly name: string;
  readonly type: MetricType;
  readonly series: Map<string, S>;
  /**
   * The core reuses one label object per queue or stream for every message: a lookup by identity finds
   * the series without building its key. Label objects must therefore not be mutated after first use
   * (MetricLabels is readonly).
   */
  readonly byIdentity: WeakMap<MetricLabels, S>;
  unlabelled: S | undefined;
}

type ScalarFamily = Family<ScalarSeries> & { readonly type: 'counter' | 'gauge' };
type HistogramFamily = Family<HistogramSeries> & { readonly type: 'histogram' };
type AnyFamily = ScalarFamily | HistogramFamily;

function validBuckets(buckets: readonly number[]): readonly number[] {
  const ok = buckets.length > 0 && buckets.every((bound, index) => Number.isFinite(bound) && (index === 0 || bound > buckets[index - 1]!));
  if (!ok) {
    throw new BrokerError('INVALID_ARGUMENT', 'histogram buckets must be finite numbers in strictly ascending order', {
      buckets: [...buckets],
    });
  }
  return [...buckets];
}

/**
 * The Metrics port as Prometheus sees it: counters, gauges and histograms aggregated by name and label
 * set, rendered in text exposition format 0.0.4 together with gauges read from the broker and the process
 * at scrape time. The reporting calls are on the message path: a known label object costs two map
 * lookups and no allocation.
 */
export class MetricsRegistry implements Metrics {
  private readonly families = new Map<string, AnyFamily>();
  private readonly buckets: readonly number[];
  private readonly process: ProcessMetrics | undefined;
  private readonly logger: Logger | undefined;
  private readonly conflictsReported = new Set<string>();
  private broker: BrokerStatsSource | undefined;

  constructor(options: MetricsRegistryOptions = {}) {
    this.buckets = validBuckets(options.buckets ?? defaultBuckets);
    this.process = options.processMetrics === false ? undefined : new ProcessMetrics();
    this.logger = options.logger;
  }

  count(name: string, value = 1, labels?: MetricLabels): void {
    // Counters only go up; NaN fails the comparison too.
    if (!(value >= 0) || value === Infinity) return;
    const series = this.scalarSeries(name, 'counter', labels);
    if (series !== undefined) series.value += value;
  }

  gauge(name: string, value: number, labels?: MetricLabels): void {
    const series = this.scalarSeries(name, 'gauge', labels);
    if (series !== undefined) series.value = value;
  }

  observe(name: string, value: number, labels?: MetricLabels): void {
    if (Number.isNaN(value)) return;
    const family = this.family(name, 'histogram');
    if (family === undefined) return;
    const series = this.seriesOf(family, labels);
    const bounds = this.buckets;
    let index = 0;
    while (index < bounds.length && value > bounds[index]!) index++;
    // Past the last bound the observation is only in +Inf, which is the count.
    if (index < bounds.length) series.buckets[index]! += 1;
    series.sum += value;
    series.count += 1;
  }

  /** Queues, streams and connections of this broker are read at each render; `undefined` detaches. */
  attachBroker(broker: BrokerStatsSource | undefined): void {
    this.broker = broker;
  }

  /** Every metric in Prometheus text exposition format 0.0.4. */
  render(): string {
    const writer = new ExpositionWriter();
    const families = [...this.families.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const family of families) {
      writer.family(family.name, family.type, helpFor(family.name));
      if (family.type === 'histogram') this.writeHistogram(writer, family);
      else for (const series of family.series.values()) writer.sample(family.name, series.pairs, series.value);
    }
    if (this.broker !== undefined) writeBrokerMetrics(writer, this.broker);
    this.process?.write(writer);
    return writer.text();
  }

  /** Stops the event-loop monitor and lets go of the broker. Reported values stay renderable. */
  close(): void {
    this.process?.close();
    this.broker = undefined;
  }

  private writeHistogram(writer: ExpositionWriter, family: HistogramFamily): void {
    const bucketName = `${family.name}_bucket`;
    for (const series of family.series.values()) {
      const prefix = series.pairs === '' ? '' : `${series.pairs},`;
      let cumulative = 0;
      for (let index = 0; index < this.buckets.length; index++) {
        cumulative += series.buckets[index]!;
        writer.sample(bucketName, `${prefix}le="${formatValue(this.buckets[index]!)}"`, cumulative);
      }
      writer.sample(bucketName, `${prefix}le="+Inf"`, series.count);
      writer.sample(`${family.name}_sum`, series.pairs, series.sum);
      writer.sample(`${family.name}_count`, series.pairs, series.count);
    }
  }

  private scalarSeries(name: string, type: 'counter' | 'gauge', labels: MetricLabels | undefined): ScalarSeries | undefined {
    const family = this.family(name, type);
    return family === undefined ? undefined : this.seriesOf(family, labels);
  }

  private family(name: string, type: 'counter' | 'gauge'): ScalarFamily | undefined;
  private family(name: string, type: 'histogram'): HistogramFamily | undefined;
  private family(name: string, type: MetricType): AnyFamily | undefined {
    const existing = this.families.get(name);
    if (existing !== undefined) return existing.type === type ? existing : this.conflict(name, existing.type, type);
    // Refused before: not worth the checks below on every call.
    if (this.conflictsReported.has(name)) return undefined;
    const exposed = exposedName(name, type);
    const catalogued = metricCatalog.get(exposed);
    if (catalogued !== undefined && catalogued.source !== 'reported') {
      return this.conflict(name, `read at scrape time from the ${catalogued.source}`, type);
    }
    const clash = [...this.families.values()].find((family) => family.name === exposed);
    if (clash !== undefined) return this.conflict(name, `${clash.type} of the same exposed name`, type);
    const family = {
      name: exposed,
      type,
      series: new Map(),
      byIdentity: new WeakMap(),
      unlabelled: undefined,
    } as AnyFamily;
    this.families.set(name, family);
    return family;
  }

  private seriesOf<S>(family: Family<S>, labels: MetricLabels | undefined): S {
    if (labels === undefined) return (family.unlabelled ??= this.seriesByPairs(family, ''));
    const known = family.byIdentity.get(labels);
    if (known !== undefined) return known;
    const series = this.seriesByPairs(family, labelPairs(labels, family.type === 'histogram' ? 'le' : undefined));
    family.byIdentity.set(labels, series);
    return series;
  }

  private seriesByPairs<S>(family: Family<S>, pairs: string): S {
    const existing = family.series.get(pairs);
    if (existing !== undefined) return existing;
    const series = (
      family.type === 'histogram'
        ? ({ pairs, buckets: new Float64Array(this.buckets.length), sum: 0, count: 0 } satisfies HistogramSeries)
        : ({ pairs, value: 0 } satisfies ScalarSeries)
    ) as S;
    family.series.set(pairs, series);
    return series;
  }

  private conflict(name: string, existing: string, attempted: MetricType): undefined {
    if (!this.conflictsReported.has(name)) {
      this.conflictsReported.add(name);
      this.logger?.warn({ metric: name, existing, attempted }, 'metric reported as two different types; the second is dropped');
    }
    return undefined;
  }
}

function exposedName(name: string, type: MetricType): string {
  const sanitized = sanitizeMetricName(name);
  return type === 'counter' && !sanitized.endsWith('_total') ? `${sanitized}_total` : sanitized;
}
