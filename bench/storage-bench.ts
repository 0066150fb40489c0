/**
 * Storage benchmark (issue 2): disk fsync rate, group-commit throughput, and the 1,000,000-message backlog.
 *
 *   npm run bench -- storage [--quick]
 *   node dist/bench/storage-bench.js [--quick] [--messages=N] [--seconds=S] [--dir=PATH] [--cold-recovery] [--keep]
 *
 * Every measurement runs in a child process of its own, so the RSS reported is that of a process doing
 * only that work, and the kill after the backlog fill is a real SIGKILL:
 *   1. raw fsync rate of the disk under the data dir (4 KiB append + fdatasync, synchronously);
 *   2. appends/s of 1 KiB records into one FileLog, fsync `always` (group commit) and `never`;
 *   3. publish/s of persistent 1 KiB messages into one durable queue through the broker, confirmed after
 *      `durable`, for both policies; records per commit derived from the confirmations they shared;
 *   4. a child publishes the backlog (every message confirmed durable), reports its RSS while holding it,
 *      and is killed with SIGKILL; a second child recovers the broker on that dir (timed) and is killed
 *      too; with --cold-recovery the page cache is dropped (root only) and a third child recovers from
 *      disk; the last recovering child drains the queue checking FIFO order, completeness and bodies.
 * --quick: 100,000 messages and shorter throughput runs. The data dir is removed at the end (--keep
 * leaves it for inspection).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ChildRun, reportToParent, runChild } from './lib/child.js';
import { describeMachine, freeBytes, machineLine } from './lib/machine.js';
import { publishResult, type SummaryRow, type Verdict } from './lib/result.js';
import { formatInteger, formatMegabytes, formatNumber, formatTable, megabytes } from './lib/table.js';
import { fillBacklog, recoverBacklog, type FillParams, type FillResult, type RecoverParams, type RecoverResult } from './storage/backlog.js';
import { measureFsyncRate, type FsyncRateResult } from './storage/fsync-rate.js';
import { measureBrokerPublish, measureLogAppends, type ThroughputParams, type ThroughputResult } from './storage/throughput.js';

const SCRIPT = fileURLToPath(import.meta.url);
const RSS_TARGET_BYTES = 200 * 1024 * 1024;
/** Unconfirmed publishes per producer, as a client with 1,000 outstanding confirms would have. */
const WINDOW = 1000;
/** Publishes issued per event-loop turn: many producers' worth, but not all of the window at once. */
const CHUNK = 100;
const PREFETCH = 1000;
/** Disk per message on top of its 1 KiB body: framing, message encoding, queue state records. */
const BYTES_PER_MESSAGE_ON_DISK = 1300;

interface Options {
  readonly quick: boolean;
  readonly messages: number;
  readonly seconds: number;
  readonly baseDirectory: string;
  readonly coldRecovery: boolean;
  readonly keep: boolean;
}

const USAGE = 'usage: storage-bench [--quick] [--messages=N] [--seconds=S] [--dir=PATH] [--cold-recovery] [--keep]';

function usage(problem: string): never {
  console.error(`storage-bench: ${problem}`);
  console.error(USAGE);
  process.exit(2);
}

function parseOptions(argv: readonly string[]): Options {
  let quick = false;
  let messages: number | undefined;
  let seconds: number | undefined;
  let baseDirectory = tmpdir();
  let coldRecovery = false;
  let keep = false;
  for (const arg of argv) {
    const [name, value] = arg.split('=', 2) as [string, string | undefined];
    if ((name === '--help' || name === '-h') && value === undefined) {
      console.log(USAGE);
      process.exit(0);
    }
    if (name === '--quick' && value === undefined) quick = true;
    else if (name === '--cold-recovery' && value === undefined) coldRecovery = true;
    else if (name === '--keep' && value === undefined) keep = true;
    else if (name === '--messages' && value) messages = Number(value);
    else if (name === '--seconds' && value) seconds = Number(value);
    else if (name === '--dir' && value) baseDirectory = value;
    else usage(`unknown argument ${arg}`);
  }
  messages ??= quick ? 100_000 : 1_000_000;
  seconds ??= quick ? 1.5 : 4;
  if (!Number.isSafeInteger(messages) || messages < 1) usage('--messages must be a positive integer');
  if (!(seconds > 0)) usage('--seconds must be positive');
  return { quick, messages, seconds, baseDirectory, coldRecovery, keep };
}

// ---------------------------------------------------------------------------------------------------
// Child side: one measurement per process.

type ChildRole = 'fsync' | 'log' | 'broker' | 'fill' | 'recover';

interface FsyncParams {
  readonly directory: string;
  readonly seconds: number;
}

async function runRole(role: ChildRole, params: unknown): Promise<unknown> {
  switch (role) {
    case 'fsync': {
      const { directory, seconds } = params as FsyncParams;
      return measureFsyncRate(directory, seconds);
    }
    case 'log':
      return measureLogAppends(params as ThroughputParams);
    case 'broker':
      return measureBrokerPublish(params as ThroughputParams);
    case 'fill':
      return fillBacklog(params as FillParams);
    case 'recover':
      return recoverBacklog(params as RecoverParams);
  }
}

async function childMain(role: ChildRole, paramsJson: string): Promise<void> {
  const params: unknown = JSON.parse(paramsJson);
  // Never outlive the benchmark: a child left holding a backlog would hold its memory and files too.
  const orphaned = (): never => process.exit(1);
  process.on('disconnect', orphaned);
  await reportToParent(() => runRole(role, params));
  const holds = role === 'fill' || (role === 'recover' && !(params as RecoverParams).drain);
  if (holds && process.exitCode === undefined) {
    // Keep the broker open with its state in memory until the parent's SIGKILL.
    setInterval(() => {}, 60_000);
  } else {
    process.off('disconnect', orphaned);
    process.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------------
// Parent side.

interface ThroughputRun {
  readonly level: 'log' | 'broker';
  readonly fsync: 'always' | 'never';
  readonly result: ThroughputResult;
}

interface BacklogRun {
  readonly fill: FillResult;
  /** The child's resident set as the kernel saw it just before the kill. */
  readonly rssAtKill: number | undefined;
  readonly killSignal: string | null;
  readonly bytesOnDisk: number;
  readonly warm: RecoverResult;
  readonly cold: RecoverResult | undefined;
  readonly coldSkipped: string | undefined;
  readonly drained: RecoverResult;
}

function childArgs(role: ChildRole, params: object): string[] {
  return [`--child=${role}`, `--params=${JSON.stringify(params)}`];
}

const childFlags = { execArgv: ['--expose-gc'] } as const;

async function processRss(pid: number): Promise<number | undefined> {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function directoryBytes(directory: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    total += entry.isDirectory() ? await directoryBytes(path) : (await stat(path)).size;
  }
  return total;
}

/** Drops the page cache so the next recovery reads from the disk (as after a machine restart). Root only. */
async function dropPageCache(): Promise<string | undefined> {
  try {
    await promisify(execFile)('sync');
    await writeFile('/proc/sys/vm/drop_caches', '3\n');
    return undefined;
  } catch (error) {
    return `page cache not dropped (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`;
  }
}

function step(text: string): void {
  console.log(`- ${text}`);
}

async function measureThroughput(work: string, options: Options): Promise<ThroughputRun[]> {
  const runs: ThroughputRun[] = [];
  for (const level of ['log', 'broker'] as const) {
    for (const fsync of ['always', 'never'] as const) {
      const directory = join(work, `${level}-${fsync}`);
      await mkdir(directory);
      const seconds = level === 'broker' ? options.seconds * 1.5 : options.seconds;
      step(`${level === 'log' ? 'FileLog appends' : 'broker publishes'}, fsync ${fsync}, ${seconds} s`);
      const params: ThroughputParams = { directory, fsync, seconds, window: WINDOW, chunk: CHUNK };
      const result = await runChild<ThroughputResult>(SCRIPT, childArgs(level, params), `${level} ${fsync}`, {
        ...childFlags,
        timeoutMs: (seconds + 120) * 1000,
      });
      runs.push({ level, fsync, result });
      await rm(directory, { recursive: true, force: true });
    }
  }
  return runs;
}

async function measureBacklog(work: string, options: Options): Promise<BacklogRun> {
  const directory = join(work, 'backlog');
  const count = options.messages;
  // At least 1,000 messages/s, or something is badly wrong: fail instead of hanging.
  const timeoutMs = (count / 1000 + 120) * 1000;
  step(`backlog: publishing ${formatInteger(count)} persistent 1 KiB messages into one durable queue (fsync always)`);
  const fillParams: FillParams = { directory, count, window: WINDOW, chunk: CHUNK };
  const filler = new ChildRun<FillResult>(SCRIPT, childArgs('fill', fillParams), 'backlog fill', { ...childFlags, timeoutMs });
  const fill = await filler.result;
  const rssAtKill = await processRss(filler.pid);
  const killed = await filler.kill('SIGKILL');
  const bytesOnDisk = await directoryBytes(directory);
  step(`backlog held by pid ${fill.pid}, killed with ${killed.signal ?? `exit ${killed.code ?? '-'}`}; ${formatMegabytes(bytesOnDisk)} on disk`);

  const recoverParams: RecoverParams = { directory, count, drain: false, prefetch: PREFETCH, stallMs: 60_000 };
  step('recovery after kill -9, page cache warm (a process crash)');
  const recoverer = new ChildRun<RecoverResult>(SCRIPT, childArgs('recover', recoverParams), 'recovery', { ...childFlags, timeoutMs });
  const warm = await recoverer.result;
  await recoverer.kill('SIGKILL');

  let coldSkipped: string | undefined;
  if (options.coldRecovery) {
    coldSkipped = await dropPageCache();
    step(coldSkipped ? `cold recovery skipped: ${coldSkipped}` : 'recovery after kill -9, page cache dropped (a machine restart)');
  } else {
    coldSkipped = 'not requested (--cold-recovery)';
  }
  step(`recovery${coldSkipped ? '' : ' (cold)'} and drain with one consumer, prefetch ${PREFETCH}, checking FIFO`);
  const drained = await runChild<RecoverResult>(SCRIPT, childArgs('recover', { ...recoverParams, drain: true }), 'recovery and drain', {
    ...childFlags,
    timeoutMs,
  });
  return {
    fill,
    rssAtKill,
    killSignal: killed.signal,
    bytesOnDisk,
    warm,
    cold: coldSkipped ? undefined : drained,
    coldSkipped,
    drained,
  };
}

function throughputRow(run: ThroughputRun, fsyncRate: number): string[] {
  const what = run.level === 'log' ? 'FileLog append, 1 KiB record' : 'broker publish, persistent 1 KiB, confirmed';
  const r = run.result;
  const perCommit =
    run.fsync === 'always'
      ? `${formatNumber(r.perCommit, 0)} per fdatasync, ${formatInteger(r.commits / r.seconds)} fdatasync/s (disk: ${formatInteger(fsyncRate)})`
      : `${formatNumber(r.perCommit, 0)} per write`;
  return [`${what}, fsync ${run.fsync}`, formatInteger(r.perSecond), '/s', `${perCommit}; CPU ${formatNumber(r.cpuCores, 2)} cores; RSS ${formatMegabytes(r.maxRss)}`];
}

function backlogRows(backlog: BacklogRun): string[][] {
  const { fill, warm, drained } = backlog;
  const drain = drained.drain!;
  const rows: string[][] = [
    ['backlog fill, fsync always, confirmed', formatInteger(fill.perSecond), 'msg/s', `${formatInteger(fill.messages)} in ${formatNumber(fill.seconds, 1)} s, ${formatNumber(fill.messages / fill.commits, 0)} per fdatasync`],
    ['RSS while filling and holding (max sampled)', formatNumber(megabytes(fill.maxRss), 1), 'MB', `kernel peak (VmHWM) ${fill.kernelPeakRss === undefined ? 'n/a' : formatMegabytes(fill.kernelPeakRss)}`],
    [
      'RSS holding the backlog, after full GC',
      formatNumber(megabytes(fill.afterGc.rss), 1),
      'MB',
      `heap used ${formatMegabytes(fill.afterGc.heapUsed)}, external ${formatMegabytes(fill.afterGc.external)}, array buffers ${formatMegabytes(fill.afterGc.arrayBuffers)}${fill.gcForced ? '' : ' (no --expose-gc: GC not forced)'}`,
    ],
    ['RSS at the moment of kill -9 (from /proc)', backlog.rssAtKill === undefined ? 'n/a' : formatNumber(megabytes(backlog.rssAtKill), 1), 'MB', `killed by ${backlog.killSignal ?? 'nothing?'}; ${formatMegabytes(backlog.bytesOnDisk)} on disk`],
    ['recovery after kill -9, page cache warm', formatNumber(warm.openMs, 0), 'ms', `Broker.open; data-dir lock takeover ${formatNumber(warm.lockMs, 1)} ms; ${formatInteger(warm.queueDepth)} messages recovered`],
  ];
  if (backlog.cold) {
    rows.push(['recovery after kill -9, page cache dropped', formatNumber(backlog.cold.openMs, 0), 'ms', `${formatInteger(backlog.cold.queueDepth)} messages recovered, reading the logs from disk`]);
  }
  rows.push(
    ['RSS after recovery', formatNumber(megabytes(drained.afterOpen.rss), 1), 'MB', `after full GC ${formatMegabytes(drained.afterOpenGc.rss)}; max during open ${formatMegabytes(drained.maxRssDuringOpen)}`],
    ['drain, one consumer, prefetch 1000, acked', formatInteger(drain.perSecond), 'msg/s', `${formatInteger(drain.messages)} in ${formatNumber(drain.seconds, 1)} s; CPU ${formatNumber(drain.cpuCores, 2)} cores`],
    ['RSS during the drain (max sampled)', formatNumber(megabytes(drain.maxRss), 1), 'MB', `kernel peak (VmHWM) ${drained.kernelPeakRss === undefined ? 'n/a' : formatMegabytes(drained.kernelPeakRss)}`],
    ['queue log left after drain and close', formatNumber(megabytes(drain.logBytesAfter), 1), 'MB', `queue depth after drain ${drain.depthAfter}`],
  );
  return rows;
}

function verdicts(backlog: BacklogRun, count: number): Verdict[] {
  const { fill, warm, drained } = backlog;
  const drain = drained.drain!;
  const peaks = [
    fill.maxRss,
    fill.kernelPeakRss ?? 0,
    backlog.rssAtKill ?? 0,
    warm.maxRssDuringOpen,
    warm.kernelPeakRss ?? 0,
    drained.maxRssDuringOpen,
    drain.maxRss,
    drained.kernelPeakRss ?? 0,
  ];
  const peak = Math.max(...peaks);
  const fifoProblems: string[] = [];
  if (fill.queueDepth !== count) fifoProblems.push(`queue held ${fill.queueDepth} after the fill`);
  if (warm.queueDepth !== count) fifoProblems.push(`recovered ${warm.queueDepth} messages`);
  if (drained.queueDepth !== count) fifoProblems.push(`recovered ${drained.queueDepth} messages before the drain`);
  if (drain.messages !== count) fifoProblems.push(`drained ${drain.messages}`);
  if (drain.firstViolation) fifoProblems.push(drain.firstViolation);
  if (drain.damagedBodies > 0) fifoProblems.push(`${drain.damagedBodies} damaged bodies`);
  if (drain.redelivered > 0) fifoProblems.push(`${drain.redelivered} flagged redelivered`);
  if (drain.depthAfter !== 0) fifoProblems.push(`${drain.depthAfter} left in the queue`);
  return [
    {
      name: 'rss-under-200mb',
      pass: peak < RSS_TARGET_BYTES,
      detail: `peak RSS ${formatMegabytes(peak)} over fill, hold, recovery and drain of ${formatInteger(count)} messages (target < 200 MB)`,
    },
    {
      name: 'fifo-after-recovery',
      pass: fifoProblems.length === 0,
      detail:
        fifoProblems.length === 0
          ? `all ${formatInteger(count)} confirmed messages recovered after kill -9 and drained once each, in order, intact`
          : fifoProblems.join('; '),
    },
  ];
}

function summaryRows(fsync: FsyncRateResult, throughput: readonly ThroughputRun[], backlog: BacklogRun): SummaryRow[] {
  const rows: SummaryRow[] = [{ metric: 'disk fdatasync rate (4 KiB appends)', value: Math.round(fsync.perSecond), unit: 'syncs/s' }];
  for (const run of throughput) {
    rows.push({
      metric: `${run.level === 'log' ? 'FileLog appends' : 'broker persistent publishes'}, fsync ${run.fsync}`,
      value: Math.round(run.result.perSecond),
      unit: '/s',
    });
  }
  const drain = backlog.drained.drain!;
  rows.push(
    { metric: `backlog fill (${formatInteger(backlog.fill.messages)} msgs)`, value: Math.round(backlog.fill.perSecond), unit: 'msg/s' },
    { metric: 'max RSS holding the backlog', value: Number(megabytes(Math.max(backlog.fill.maxRss, backlog.fill.kernelPeakRss ?? 0)).toFixed(1)), unit: 'MB' },
    { metric: 'recovery after kill -9 (warm cache)', value: Math.round(backlog.warm.openMs), unit: 'ms' },
  );
  if (backlog.cold) rows.push({ metric: 'recovery after kill -9 (cold cache)', value: Math.round(backlog.cold.openMs), unit: 'ms' });
  rows.push(
    { metric: 'drain rate', value: Math.round(drain.perSecond), unit: 'msg/s' },
    { metric: 'max RSS during drain', value: Number(megabytes(Math.max(drain.maxRss, backlog.drained.kernelPeakRss ?? 0)).toFixed(1)), unit: 'MB' },
  );
  return rows;
}

async function parentMain(options: Options): Promise<number> {
  const machine = describeMachine();
  await mkdir(options.baseDirectory, { recursive: true });
  const work = await mkdtemp(join(options.baseDirectory, 'courier-storage-bench-'));
  const cleanup = async (): Promise<void> => {
    if (!options.keep) await rm(work, { recursive: true, force: true });
  };
  const interrupted = (): void => {
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const free = await freeBytes(work);
    const needed = options.messages * BYTES_PER_MESSAGE_ON_DISK + (options.quick ? 1 : 3) * 2 ** 30;
    console.log(`storage benchmark: ${options.quick ? 'quick, ' : ''}${formatInteger(options.messages)}-message backlog, 1 KiB bodies`);
    console.log(`machine: ${machineLine(machine)}`);
    console.log(`data dir: ${work} (${formatNumber(free / 2 ** 30, 1)} GiB free)`);
    if (free < needed) {
      console.error(`storage-bench: needs about ${formatNumber(needed / 2 ** 30, 1)} GiB free under ${options.baseDirectory}; use --dir=PATH or --quick`);
      return 1;
    }

    step('disk fsync rate: 4 KiB append + fdatasync, 2 s');
    const fsyncDirectory = join(work, 'fsync');
    await mkdir(fsyncDirectory);
    const fsync = await runChild<FsyncRateResult>(SCRIPT, childArgs('fsync', { directory: fsyncDirectory, seconds: 2 }), 'fsync rate', {
      timeoutMs: 60_000,
    });
    const throughput = await measureThroughput(work, options);
    const backlog = await measureBacklog(work, options);

    const rows = [
      ['disk fdatasync rate, 4 KiB appends', formatInteger(fsync.perSecond), 'syncs/s', `p50 ${formatNumber(fsync.p50Ms, 3)} ms, p99 ${formatNumber(fsync.p99Ms, 3)} ms`],
      ...throughput.map((run) => throughputRow(run, fsync.perSecond)),
      ...backlogRows(backlog),
    ];
    console.log('');
    console.log(formatTable(['measurement', 'value', 'unit', 'notes'], rows));

    const results = verdicts(backlog, options.messages);
    console.log('');
    for (const verdict of results) console.log(`${verdict.pass ? 'PASS' : 'FAIL'} ${verdict.name}: ${verdict.detail}`);
    await publishResult({
      scenario: 'storage',
      summary: summaryRows(fsync, throughput, backlog),
      verdicts: results,
      details: {
        options: { ...options, window: WINDOW, chunk: CHUNK, prefetch: PREFETCH, bodyBytes: 1024 },
        machine,
        dataDirectory: work,
        fsync,
        throughput,
        backlog,
      },
    });
    return results.every((verdict) => verdict.pass) ? 0 : 1;
  } finally {
    await cleanup();
    if (options.keep) console.log(`data dir kept: ${work}`);
  }
}

const childArg = process.argv.find((arg) => arg.startsWith('--child='));
if (childArg) {
  const paramsArg = process.argv.find((arg) => arg.startsWith('--params=')) ?? '--params={}';
  await childMain(childArg.slice('--child='.length) as ChildRole, paramsArg.slice('--params='.length));
} else {
  process.exitCode = await parentMain(parseOptions(process.argv.slice(2)));
}
