/**
 * Connection scale (issue 7): broker RSS with 10,000 idle MQTT connections, Courier against its peers.
 *
 *   npm run bench -- mqtt-connections [--against=mosquitto,aedes,rabbitmq,nats] [--quick]
 *   node dist/bench/connections-bench.js [--against=...] [--quick] [--runs=N] [--connections=N]
 *        [--processes=N] [--no-courier] [--keep] [--quiet-wait=S]
 *
 * Per run: the broker's RSS at rest (fresh, nothing connected); `--processes` load processes (4), each
 * started under `ulimit -n 65536` by a shell wrapper (or the hard limit, when that is lower and may not
 * be raised), open their share of the connections (clean
 * session, keep-alive off, 100 handshakes in flight per process) and report once every one is
 * CONNACKed; the broker is sampled 2 s later (RSS, and the CPU seconds it spent accepting them); then
 * every connection disconnects and the RSS is sampled again 2 s after. Medians of 3 rounds (--quick: 1
 * round of 2,000 connections).
 */
import { IDLE_CONNECTIONS_SCRIPT, type IdleConnectionsConfig, type IdleConnectionsReport } from './load/mqtt-idle-connections.js';
import { PeakRssSampler, type ProcessTreeProbe } from './load/proc-stat.js';
import { WorkerProcess } from './load/worker-process.js';
import { describeMachine, machineLine } from './lib/machine.js';
import { publishResult, type Verdict } from './lib/result.js';
import { caseTable, failures, recordDetails, runRounds, summaryRows, type Column, type RunResult } from './lib/rounds.js';
import { formatInteger, formatMegabytes, formatNumber } from './lib/table.js';
import type { RunningBroker } from './peers/broker.js';
import { courierLauncher } from './peers/courier.js';
import { PEER_LAUNCHERS } from './peers/registry.js';
import { withTimeout } from './lib/workers.js';

const SETTLE_MS = 2_000;
const CONCURRENCY = 100;
const FD_LIMIT = 65_536;
const CONNECT_TIMEOUT_MS = 300_000;

interface Options {
  readonly quick: boolean;
  readonly runs: number;
  readonly connections: number;
  readonly processes: number;
  readonly against: readonly string[];
  readonly courier: boolean;
  readonly keep: boolean;
  readonly quietWaitSeconds: number;
}

const USAGE = 'usage: connections-bench [--against=PEER,...] [--quick] [--runs=N] [--connections=N] [--processes=N] [--no-courier] [--keep] [--quiet-wait=SECONDS]';

function usage(problem: string): never {
  console.error(`connections-bench: ${problem}\n${USAGE}`);
  process.exit(2);
}

function parseOptions(argv: readonly string[]): Options {
  let quick = false;
  let runs: number | undefined;
  let connections: number | undefined;
  let processes = 4;
  let against: string[] = [];
  let courier = true;
  let keep = false;
  let quietWaitSeconds: number | undefined;
  const positive = (value: string | undefined): number | undefined => (value && Number.isInteger(Number(value)) && Number(value) > 0 ? Number(value) : undefined);
  for (const arg of argv) {
    const [name, value] = arg.split('=', 2) as [string, string | undefined];
    if (name === '--help' || name === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (name === '--quick' && value === undefined) quick = true;
    else if (name === '--runs' && positive(value)) runs = positive(value);
    else if (name === '--connections' && positive(value)) connections = positive(value);
    else if (name === '--processes' && positive(value)) processes = positive(value)!;
    else if (name === '--against' && value !== undefined) against = value.split(',').filter(Boolean);
    else if (name === '--no-courier' && value === undefined) courier = false;
    else if (name === '--keep' && value === undefined) keep = true;
    else if (name === '--quiet-wait' && value && Number(value) >= 0) quietWaitSeconds = Number(value);
    else usage(`unknown argument ${arg}`);
  }
  for (const peer of against) if (!PEER_LAUNCHERS.has(peer)) usage(`unknown peer '${peer}'`);
  return { quick, runs: runs ?? (quick ? 1 : 3), connections: connections ?? (quick ? 2_000 : 10_000), processes, against, courier, keep, quietWaitSeconds: quietWaitSeconds ?? (quick ? 0 : 30) };
}


const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function runOne(options: Options, broker: RunningBroker, probe: ProcessTreeProbe, tag: string): Promise<RunResult> {
  const port = broker.ports.mqtt;
  if (port === undefined) throw new Error(`${broker.name} has no MQTT listener`);
  await sleep(SETTLE_MS);
  const idle = await probe.sample();
  const workers: WorkerProcess<IdleConnectionsReport>[] = [];
  const sampler = new PeakRssSampler(probe, 250);
  sampler.start();
  try {
    for (let index = 0; index < options.processes; index++) {
      const connections = Math.floor(options.connections / options.processes) + (index < options.connections % options.processes ? 1 : 0);
      const config: IdleConnectionsConfig = { host: broker.host, port, clientIdPrefix: `idle-${tag}-${index}`, connections, concurrency: CONCURRENCY };
      workers.push(new WorkerProcess<IdleConnectionsReport>(IDLE_CONNECTIONS_SCRIPT, config, `connections ${index}`, { fdLimit: FD_LIMIT }));
    }
    await withTimeout(Promise.all(workers.map((worker) => worker.ready)), CONNECT_TIMEOUT_MS, 'connecting');
    const connected = await probe.sample();
    await sleep(SETTLE_MS);
    await probe.refresh();
    const held = await probe.sample();
    for (const worker of workers) worker.go();
    const reports = await withTimeout(Promise.all(workers.map((worker) => worker.done)), 60_000, 'reports');
    const peak = await sampler.stop();
    await Promise.all(workers.map((worker) => withTimeout(worker.exited, 60_000, worker.label).catch(() => worker.kill())));
    await sleep(SETTLE_MS);
    const closed = await probe.sample();
    const total = reports.reduce((sum, report) => sum + report.connected, 0);
    const connectSeconds = (Math.max(...reports.map((report) => report.endNs)) - Math.min(...reports.map((report) => report.startNs))) / 1e9;
    const loadCpuSeconds = reports.reduce((sum, report) => sum + (report.cpuUserMicros + report.cpuSystemMicros) / 1e6, 0);
    return {
      ok: true,
      metrics: {
        connections: total,
        idleRssBytes: idle.rssBytes,
        heldRssBytes: held.rssBytes,
        perConnectionBytes: (held.rssBytes - idle.rssBytes) / total,
        peakRssBytes: peak,
        closedRssBytes: closed.rssBytes,
        connectSeconds,
        connectPerSecond: total / connectSeconds,
        // From the broker at rest to 'all CONNACKed' (idle broker time included, a few ms).
        connectBrokerCpuSeconds: connected.cpuSeconds - idle.cpuSeconds,
        heldBrokerCpuSeconds: held.cpuSeconds - connected.cpuSeconds,
        loadCpuSeconds,
        fdLimit: Number(reports[0]?.fdLimit.split('/')[0] ?? Number.NaN),
      },
    };
  } catch (error) {
    await sampler.stop().catch(() => 0);
    await Promise.all(workers.map((worker) => worker.kill()));
    throw error;
  }
}

const COLUMNS: readonly Column[] = [
  { key: 'idleRssBytes', header: 'RSS at rest', format: formatMegabytes },
  { key: 'heldRssBytes', header: 'RSS with connections', format: formatMegabytes, spread: true, ratio: true },
  { key: 'perConnectionBytes', header: 'KiB / connection', format: (value) => formatNumber(value / 1024, 1), ratio: true },
  { key: 'peakRssBytes', header: 'RSS peak', format: formatMegabytes },
  { key: 'closedRssBytes', header: 'RSS after close', format: formatMegabytes },
  { key: 'connectPerSecond', header: 'connects/s', format: formatInteger, spread: true },
  { key: 'connectBrokerCpuSeconds', header: 'broker CPU s (connect)', format: (value) => formatNumber(value, 2) },
  { key: 'heldBrokerCpuSeconds', header: 'broker CPU s (2 s idle)', format: (value) => formatNumber(value, 2) },
  { key: 'loadCpuSeconds', header: 'load CPU s', format: (value) => formatNumber(value, 2) },
  { key: 'fdLimit', header: 'load fd limit', format: formatInteger },
];

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const machine = describeMachine();
  const testCase = { id: `idle-${options.connections}`, title: `${formatInteger(options.connections)} idle MQTT connections (${options.processes} load processes)` };
  const launchers = [...(options.courier ? [courierLauncher('mqtt')] : []), ...options.against.map((name) => PEER_LAUNCHERS.get(name)!)];
  console.log(`mqtt-connections: ${testCase.title}, ${options.runs} round(s) against ${launchers.map((launcher) => launcher.name).join(', ')}`);
  console.log(`machine: ${machineLine(machine)}`);
  const records = await runRounds({
    protocol: 'mqtt',
    launchers,
    cases: [testCase],
    runs: options.runs,
    quietWaitSeconds: options.quietWaitSeconds,
    keep: options.keep,
    runOne: (broker, probe, _case, tag) => runOne(options, broker, probe, tag),
    line: (_case, result) => {
      const m = (key: string): number => result.metrics[key] ?? Number.NaN;
      return `${formatInteger(m('connections'))} connected in ${formatNumber(m('connectSeconds'), 2)} s (${formatInteger(m('connectPerSecond'))}/s); RSS ${formatMegabytes(m('idleRssBytes'))} at rest -> ${formatMegabytes(m('heldRssBytes'))} held (${formatNumber(m('perConnectionBytes') / 1024, 1)} KiB each), ${formatMegabytes(m('closedRssBytes'))} after close; broker CPU ${formatNumber(m('connectBrokerCpuSeconds'), 2)} s, load CPU ${formatNumber(m('loadCpuSeconds'), 2)} s; fd limit ${formatInteger(m('fdLimit'))}`;
    },
  });
  console.log(`\n${caseTable(testCase, records, COLUMNS)}`);
  const failed = failures(records);
  const verdicts: Verdict[] = [{ name: 'runs-completed', pass: failed.length === 0, detail: failed.length === 0 ? 'every broker held every connection in every run' : failed.slice(0, 5).join('; ') }];
  await publishResult({
    scenario: 'mqtt-connections',
    summary: [...summaryRows(testCase, records, 'heldRssBytes', 'RSS held', 'bytes'), ...summaryRows(testCase, records, 'perConnectionBytes', 'per connection', 'bytes')],
    verdicts,
    details: { machine, options: { ...options }, case: testCase, brokers: recordDetails(records) },
  });
  process.exitCode = verdicts.every((verdict) => verdict.pass) ? 0 : 1;
}

await main();
