/**
 * Figures across runs (median and spread), the printed tables, Courier/peer ratios, and who was
 * saturated: a process at about one core is (each load process and Courier, Mosquitto and Aedes are
 * single-threaded), and so is the machine when everything adds up to about two cores.
 */
import type { LatencySummary } from '../load/stats.js';
import { relativeSpread, spreadOf, type Spread } from '../load/stats.js';
import { formatInteger, formatMegabytes, formatNumber, formatTable } from '../lib/table.js';
import type { MqttCase } from './cases.js';
import type { RunFigures } from './run-case.js';

export const COURIER = 'courier';
const BUSY_CORE = 0.85;
const MACHINE_CORES_BUSY = 1.8;

export interface BrokerRuns {
  readonly broker: string;
  readonly version: string;
  /** Why it did not run at all (not installed, adapter not built, failed to start). */
  readonly skipped?: string;
  readonly runs: readonly RunFigures[];
}

export interface Aggregate {
  readonly completedRuns: number;
  readonly failedRuns: number;
  readonly errors: readonly string[];
  readonly delivered: Spread;
  readonly published: Spread;
  readonly lost: number;
  readonly badBodies: number;
  readonly brokerCores: Spread;
  readonly publisherCores: Spread;
  readonly subscriberCores: Spread;
  readonly busiestSubscriberCores: Spread;
  readonly machineCores: Spread;
  readonly stealCores: Spread;
  readonly brokerPeakRssBytes: number;
  readonly latencyFromDue?: Readonly<Record<keyof LatencySummary, Spread>>;
  readonly latencyFromWrite?: Readonly<Record<keyof LatencySummary, Spread>>;
  readonly lateSends: number;
  readonly windowStalls: number;
}

function latencySpread(summaries: readonly LatencySummary[]): Record<keyof LatencySummary, Spread> | undefined {
  if (summaries.length === 0) return undefined;
  const keys: (keyof LatencySummary)[] = ['count', 'p50', 'p90', 'p99', 'p999', 'max', 'mean'];
  return Object.fromEntries(keys.map((key) => [key, spreadOf(summaries.map((summary) => summary[key]))])) as Record<keyof LatencySummary, Spread>;
}

export function aggregate(runs: readonly RunFigures[]): Aggregate {
  const ok = runs.filter((run) => run.ok);
  const fromDue = ok.flatMap((run) => (run.latencyFromDue ? [run.latencyFromDue] : []));
  const fromWrite = ok.flatMap((run) => (run.latencyFromWrite ? [run.latencyFromWrite] : []));
  const dueSpread = latencySpread(fromDue);
  const writeSpread = latencySpread(fromWrite);
  return {
    completedRuns: ok.length,
    failedRuns: runs.length - ok.length,
    errors: runs.flatMap((run) => (run.error ? [run.error] : [])),
    delivered: spreadOf(ok.map((run) => run.deliveredPerSecond)),
    published: spreadOf(ok.map((run) => run.publishedPerSecond)),
    lost: ok.reduce((sum, run) => sum + run.lost, 0),
    badBodies: ok.reduce((sum, run) => sum + run.badBodies, 0),
    brokerCores: spreadOf(ok.map((run) => run.brokerCores)),
    publisherCores: spreadOf(ok.map((run) => run.publisherCores)),
    subscriberCores: spreadOf(ok.map((run) => run.subscriberCores)),
    busiestSubscriberCores: spreadOf(ok.map((run) => run.busiestSubscriberCores)),
    machineCores: spreadOf(ok.map((run) => run.machineCores)),
    stealCores: spreadOf(ok.map((run) => run.stealCores)),
    brokerPeakRssBytes: Math.max(0, ...ok.map((run) => run.brokerPeakRssBytes)),
    ...(dueSpread ? { latencyFromDue: dueSpread } : {}),
    ...(writeSpread ? { latencyFromWrite: writeSpread } : {}),
    lateSends: ok.reduce((sum, run) => sum + (run.lateSends ?? 0), 0),
    windowStalls: ok.reduce((sum, run) => sum + (run.windowStalls ?? 0), 0),
  };
}

/** Which processes were busy: a single-threaded one near a core, or the two cores as a whole. */
export function saturation(figures: Aggregate): string {
  const busy: string[] = [];
  if (figures.brokerCores.median >= BUSY_CORE) busy.push('broker');
  if (figures.publisherCores.median >= BUSY_CORE) busy.push('publisher');
  if (figures.busiestSubscriberCores.median >= BUSY_CORE) busy.push('subscriber');
  const total = figures.brokerCores.median + figures.publisherCores.median + figures.subscriberCores.median;
  if (Math.max(total, figures.machineCores.median) >= MACHINE_CORES_BUSY) busy.push('both cores');
  return busy.length > 0 ? busy.join(', ') : '-';
}

const rate = (value: number): string => (Number.isFinite(value) ? formatInteger(value) : '-');
const coresText = (spread: Spread): string => (Number.isFinite(spread.median) ? formatNumber(spread.median, 2) : '-');
const percent = (spread: Spread): string => {
  const relative = relativeSpread(spread);
  return Number.isFinite(relative) ? `±${formatNumber(relative * 100, 0)}%` : '-';
};
const ms = (micros: number): string => (Number.isFinite(micros) ? formatNumber(micros / 1000, micros < 10_000 ? 3 : 1) : '-');

/** `numerator / denominator` as "1.23x", or '-' when either is missing. */
export function ratioText(numerator: number, denominator: number): string {
  return Number.isFinite(numerator) && Number.isFinite(denominator) && denominator > 0 ? `${formatNumber(numerator / denominator, 2)}x` : '-';
}

function skippedRow(entry: BrokerRuns, columns: number): string[] {
  const row = [entry.broker, entry.skipped ?? 'no completed run'];
  while (row.length < columns) row.push('');
  return row;
}

export function throughputTable(testCase: MqttCase, entries: readonly BrokerRuns[]): string {
  const courier = entries.find((entry) => entry.broker === COURIER && !entry.skipped);
  const courierRate = courier ? aggregate(courier.runs).delivered.median : Number.NaN;
  const headers = ['broker', 'delivered msg/s', 'spread', 'courier / it', 'published msg/s', 'lost', 'broker cores', 'pub cores', 'sub cores', 'machine cores', 'broker RSS peak', 'saturated'];
  const rows = entries.map((entry) => {
    const figures = aggregate(entry.runs);
    if (entry.skipped || figures.completedRuns === 0) return skippedRow({ ...entry, skipped: entry.skipped ?? figures.errors[0] ?? 'no run' }, headers.length);
    return [
      `${entry.broker} ${entry.version}`,
      rate(figures.delivered.median),
      `${percent(figures.delivered)} (${figures.completedRuns}${figures.failedRuns > 0 ? `, ${figures.failedRuns} failed` : ''})`,
      entry.broker === COURIER ? '' : ratioText(courierRate, figures.delivered.median),
      rate(figures.published.median),
      formatInteger(figures.lost),
      coresText(figures.brokerCores),
      coresText(figures.publisherCores),
      coresText(figures.subscriberCores),
      coresText(figures.machineCores),
      formatMegabytes(figures.brokerPeakRssBytes),
      saturation(figures),
    ];
  });
  return `${testCase.title}\n${formatTable(headers, rows, 1)}`;
}

export function latencyTable(testCase: MqttCase, entries: readonly BrokerRuns[]): string {
  const courier = entries.find((entry) => entry.broker === COURIER && !entry.skipped);
  const courierP99 = courier ? (aggregate(courier.runs).latencyFromDue?.p99.median ?? Number.NaN) : Number.NaN;
  const headers = ['broker', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'p99 spread', 'courier p99 / its', 'from write p50 / p99 ms', 'late sends', 'broker cores', 'broker RSS peak'];
  const rows = entries.map((entry) => {
    const figures = aggregate(entry.runs);
    const due = figures.latencyFromDue;
    if (entry.skipped || !due) return skippedRow({ ...entry, skipped: entry.skipped ?? figures.errors[0] ?? 'no run' }, headers.length);
    const write = figures.latencyFromWrite;
    return [
      `${entry.broker} ${entry.version}`,
      ms(due.p50.median),
      ms(due.p99.median),
      ms(due.p999.median),
      ms(due.max.median),
      `${percent(due.p99)} (${figures.completedRuns})`,
      entry.broker === COURIER ? '' : ratioText(courierP99, due.p99.median),
      write ? `${ms(write.p50.median)} / ${ms(write.p99.median)}` : '-',
      formatInteger(figures.lateSends),
      coresText(figures.brokerCores),
      formatMegabytes(figures.brokerPeakRssBytes),
    ];
  });
  return `${testCase.title}\n${formatTable(headers, rows, 1)}`;
}
