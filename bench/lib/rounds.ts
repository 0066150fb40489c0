/**
 * Rounds of runs against Courier and its peers, for scenarios whose figures are a flat set of named
 * numbers (AMQP, connection scale). As in the MQTT scenarios: each round starts every broker in turn
 * (Courier first), fresh in a temp dir, runs every case against it once and stops it by pid, so one
 * broker runs at a time; before each run it waits for a quiet machine. Medians and spreads over rounds.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrokerLauncher, Protocol, RunningBroker } from '../peers/broker.js';
import { ProcessTreeProbe, waitForQuietMachine, type QuietWait } from '../load/proc-stat.js';
import { relativeSpread, spreadOf, type Spread } from '../load/stats.js';
import type { SummaryRow } from './result.js';
import { formatNumber, formatTable } from './table.js';

export const COURIER = 'courier';
/** A machine busier than this (cores, the idle broker included) is not quiet enough to start a run on. */
const QUIET_BUSY_CORES = 0.4;

export interface RunResult {
  readonly ok: boolean;
  readonly error?: string;
  readonly metrics: Readonly<Record<string, number>>;
}

export interface RoundCase {
  readonly id: string;
  readonly title: string;
}

export interface BrokerRecord {
  readonly name: string;
  version: string;
  settings: readonly string[];
  readonly skipped: string | undefined;
  startError: string | undefined;
  readonly runs: Map<string, RunResult[]>;
  readonly quiet: Map<string, QuietWait[]>;
}

export interface RoundOptions<C extends RoundCase> {
  readonly protocol: Protocol;
  readonly launchers: readonly BrokerLauncher[];
  readonly cases: readonly C[];
  readonly runs: number;
  /** Before each run, wait up to this long for the machine to be quiet (0: don't). */
  readonly quietWaitSeconds: number;
  readonly keep: boolean;
  runOne(broker: RunningBroker, probe: ProcessTreeProbe, testCase: C, tag: string): Promise<RunResult>;
  line(testCase: C, result: RunResult): string;
}

async function logTail(workDir: string): Promise<string> {
  const logs = (await readdir(workDir).catch(() => [] as string[])).filter((name) => name.endsWith('.log'));
  const tails = await Promise.all(
    logs.map(async (name) => {
      const text = await readFile(join(workDir, name), 'utf8').catch(() => '');
      return `--- ${name}\n${text.split('\n').slice(-15).join('\n')}`;
    }),
  );
  return tails.join('\n');
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function runRounds<C extends RoundCase>(options: RoundOptions<C>): Promise<BrokerRecord[]> {
  const records: BrokerRecord[] = [];
  for (const launcher of options.launchers) {
    const skipped = launcher.protocols.includes(options.protocol) ? await launcher.unavailable() : `does not speak ${options.protocol.toUpperCase()}`;
    records.push({
      name: launcher.name,
      version: '',
      settings: [],
      skipped,
      startError: undefined,
      runs: new Map(options.cases.map((testCase) => [testCase.id, []])),
      quiet: new Map(options.cases.map((testCase) => [testCase.id, []])),
    });
    if (skipped) console.log(`  ${launcher.name}: skipped, ${skipped}`);
  }
  let current: RunningBroker | undefined;
  const interrupt = (signal: NodeJS.Signals): void => {
    console.error(`bench: ${signal}, stopping ${current?.name ?? 'nothing'}`);
    void (current?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  for (let round = 1; round <= options.runs; round++) {
    for (const [index, launcher] of options.launchers.entries()) {
      const record = records[index]!;
      if (record.skipped || record.startError) continue;
      const workDir = await mkdtemp(join(tmpdir(), `courier-bench-${launcher.name}-`));
      let broker: RunningBroker;
      try {
        broker = await launcher.start(workDir);
      } catch (error) {
        record.startError = `failed to start: ${errorText(error)}`;
        console.log(`  ${launcher.name}: ${record.startError}\n${await logTail(workDir)}`);
        if (!options.keep) await rm(workDir, { recursive: true, force: true });
        continue;
      }
      current = broker;
      record.version = broker.version;
      record.settings = broker.settings;
      try {
        const probe = new ProcessTreeProbe(broker.pid);
        await probe.refresh();
        for (const testCase of options.cases) {
          if (options.quietWaitSeconds > 0) {
            const quiet = await waitForQuietMachine(QUIET_BUSY_CORES, options.quietWaitSeconds * 1000);
            record.quiet.get(testCase.id)!.push(quiet);
            if (!quiet.quiet) console.log(`  (machine still busy after ${options.quietWaitSeconds} s: ${formatNumber(quiet.busyCores, 2)} cores; running anyway)`);
          }
          const tag = `${round}-${testCase.id}-${process.pid}`;
          let result: RunResult;
          try {
            result = await options.runOne(broker, probe, testCase, tag);
          } catch (error) {
            result = { ok: false, error: errorText(error), metrics: {} };
          }
          record.runs.get(testCase.id)!.push(result);
          console.log(`  ${broker.name.padEnd(9)} round ${round}  ${testCase.title}: ${result.ok ? options.line(testCase, result) : `FAILED: ${result.error ?? '?'}`}`);
          if (!result.ok) console.log(await logTail(workDir));
        }
      } finally {
        await broker.stop();
        current = undefined;
        if (!options.keep) await rm(workDir, { recursive: true, force: true });
      }
    }
  }
  process.removeListener('SIGINT', interrupt);
  process.removeListener('SIGTERM', interrupt);
  return records;
}

/** Median and spread of every metric over the completed runs. */
export function spreads(runs: readonly RunResult[]): Record<string, Spread> {
  const ok = runs.filter((run) => run.ok);
  const keys = new Set(ok.flatMap((run) => Object.keys(run.metrics)));
  return Object.fromEntries([...keys].map((key) => [key, spreadOf(ok.map((run) => run.metrics[key] ?? Number.NaN))]));
}

export interface Column {
  readonly key: string;
  readonly header: string;
  readonly format: (value: number) => string;
  /** Print the spread (±%) beside the median. */
  readonly spread?: boolean;
  /** Add a "courier / it" column after this one. */
  readonly ratio?: boolean;
}

export function ratio(numerator: number, denominator: number): number {
  return Number.isFinite(numerator) && Number.isFinite(denominator) && denominator > 0 ? numerator / denominator : Number.NaN;
}

function spreadText(spread: Spread | undefined): string {
  const relative = spread ? relativeSpread(spread) : Number.NaN;
  return Number.isFinite(relative) ? `±${formatNumber(relative * 100, 0)}%` : '-';
}

/** One case: a row per broker with the medians of `columns`, spreads and Courier/peer ratios. */
export function caseTable(testCase: RoundCase, records: readonly BrokerRecord[], columns: readonly Column[]): string {
  const courier = records.find((record) => record.name === COURIER && !record.skipped);
  const courierSpreads = courier ? spreads(courier.runs.get(testCase.id) ?? []) : {};
  const headers = ['broker', 'runs'];
  for (const column of columns) {
    headers.push(column.header);
    if (column.spread) headers.push('spread');
    if (column.ratio) headers.push('courier / it');
  }
  const rows = records.map((record) => {
    const runs = record.runs.get(testCase.id) ?? [];
    const completed = runs.filter((run) => run.ok).length;
    const reason = record.skipped ?? (completed === 0 ? (record.startError ?? runs.find((run) => !run.ok)?.error ?? 'no run') : undefined);
    if (reason) return [record.name, reason];
    const figures = spreads(runs);
    const row = [`${record.name} ${record.version}`, `${completed}${runs.length > completed ? ` (${runs.length - completed} failed)` : ''}`];
    for (const column of columns) {
      const value = figures[column.key]?.median ?? Number.NaN;
      row.push(Number.isFinite(value) ? column.format(value) : '-');
      if (column.spread) row.push(spreadText(figures[column.key]));
      if (column.ratio) {
        const r = ratio(courierSpreads[column.key]?.median ?? Number.NaN, value);
        row.push(record.name === COURIER || !Number.isFinite(r) ? '' : `${formatNumber(r, 2)}x`);
      }
    }
    return row;
  });
  return `${testCase.title}\n${formatTable(headers, rows, 1)}`;
}

/** Summary rows for the dispatcher: each broker's median of `key`, and Courier/peer ratios. */
export function summaryRows(testCase: RoundCase, records: readonly BrokerRecord[], key: string, label: string, unit: string): SummaryRow[] {
  const rows: SummaryRow[] = [];
  const courier = records.find((record) => record.name === COURIER && !record.skipped);
  const courierValue = courier ? (spreads(courier.runs.get(testCase.id) ?? [])[key]?.median ?? Number.NaN) : Number.NaN;
  for (const record of records) {
    if (record.skipped) {
      rows.push({ metric: `${testCase.title}: ${record.name}`, value: record.skipped, unit: '' });
      continue;
    }
    const value = spreads(record.runs.get(testCase.id) ?? [])[key]?.median ?? Number.NaN;
    rows.push({ metric: `${testCase.title}: ${record.name} ${label}`, value: Number.isFinite(value) ? Math.round(value * 10) / 10 : 'no run', unit });
    const r = ratio(courierValue, value);
    if (record.name !== COURIER && Number.isFinite(r)) rows.push({ metric: `${testCase.title}: courier / ${record.name} ${label}`, value: Number(r.toFixed(2)), unit: 'x' });
  }
  return rows;
}

/** Every failure, for the runs-completed verdict. */
export function failures(records: readonly BrokerRecord[]): string[] {
  return records.flatMap((record) => [
    ...(record.startError ? [`${record.name}: ${record.startError}`] : []),
    ...[...record.runs.values()].flat().flatMap((run) => (run.ok ? [] : [`${record.name}: ${run.error ?? 'failed'}`])),
  ]);
}

export function recordDetails(records: readonly BrokerRecord[]): unknown[] {
  return records.map((record) => ({
    name: record.name,
    version: record.version,
    settings: record.settings,
    ...(record.skipped ? { skipped: record.skipped } : {}),
    ...(record.startError ? { startError: record.startError } : {}),
    runs: Object.fromEntries(record.runs),
    medians: Object.fromEntries([...record.runs].map(([id, runs]) => [id, spreads(runs)])),
    quietBeforeRuns: Object.fromEntries(record.quiet),
  }));
}
