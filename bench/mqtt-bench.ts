/**
 * MQTT benchmarks (issue 7): Courier against its peers, side by side, with one load generator.
 *
 *   npm run bench -- mqtt-qos0 mqtt-qos1 mqtt-latency [--against=mosquitto,aedes,rabbitmq,nats] [--quick]
 *   node dist/bench/mqtt-bench.js --scenario=mqtt-qos0 [--against=...] [--quick] [--runs=N] [--cases=TEXT]
 *        [--no-courier] [--keep]
 *
 * Each round starts every broker in turn (Courier from this checkout first, then the peers, each fresh
 * in a temp dir, on loopback), runs every case of the scenario against it once and stops it by pid, so
 * only one broker runs at a time and slow drift of the shared machine spreads over all of them. Medians
 * come from `--runs` rounds (3; --quick: 1). The load generator is the same for every broker: a
 * publisher process and subscriber processes speaking MQTT 3.1.1 over plain sockets (bench/load/).
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProcessTreeProbe, waitForQuietMachine, type QuietWait } from './load/proc-stat.js';
import { summariseCpuProfiles } from './lib/cpu-profile.js';
import { describeMachine, machineLine } from './lib/machine.js';
import { publishResult, type SummaryRow, type Verdict } from './lib/result.js';
import { formatInteger, formatMegabytes, formatNumber } from './lib/table.js';
import { MQTT_SCENARIOS, casesOf, type MqttCase, type MqttScenario } from './mqtt/cases.js';
import { COURIER, aggregate, latencyTable, throughputTable, type BrokerRuns } from './mqtt/report.js';
import { runCase, type RunFigures } from './mqtt/run-case.js';
import type { BrokerLauncher, RunningBroker } from './peers/broker.js';
import { courierLauncher } from './peers/courier.js';
import { PEER_LAUNCHERS } from './peers/registry.js';

/** A machine busier than this (cores, the idle broker included) is not quiet enough to start a run on. */
const QUIET_BUSY_CORES = 0.4;

// Compiled to dist/bench/: results go to the checkout's bench/results/ (not committed).
const RESULTS_DIRECTORY = fileURLToPath(new URL('../../bench/results/', import.meta.url));

interface Options {
  readonly scenario: MqttScenario;
  readonly quick: boolean;
  readonly runs: number;
  readonly against: readonly string[];
  readonly caseFilter: string | undefined;
  readonly courier: boolean;
  readonly keep: boolean;
  readonly cpuProfile: boolean;
  /** Before each run, wait up to this long for the machine to be quiet (0: don't). */
  readonly quietWaitSeconds: number;
}

const USAGE =
  'usage: mqtt-bench --scenario=mqtt-qos0|mqtt-qos1|mqtt-latency [--against=PEER,...] [--quick] [--runs=N] [--cases=TEXT] [--no-courier] [--keep] [--cpu-prof] [--quiet-wait=SECONDS]';

function usage(problem: string): never {
  console.error(`mqtt-bench: ${problem}\n${USAGE}`);
  process.exit(2);
}

function parseOptions(argv: readonly string[]): Options {
  let scenario: MqttScenario | undefined;
  let quick = false;
  let runs: number | undefined;
  let against: string[] = [];
  let caseFilter: string | undefined;
  let courier = true;
  let keep = false;
  let cpuProfile = false;
  let quietWaitSeconds: number | undefined;
  for (const arg of argv) {
    const [name, value] = arg.split('=', 2) as [string, string | undefined];
    if (name === '--help' || name === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (name === '--scenario' && MQTT_SCENARIOS.includes(value as MqttScenario)) scenario = value as MqttScenario;
    else if (name === '--quick' && value === undefined) quick = true;
    else if (name === '--runs' && value && Number.isInteger(Number(value)) && Number(value) > 0) runs = Number(value);
    else if (name === '--against' && value !== undefined) against = value.split(',').filter(Boolean);
    else if (name === '--cases' && value) caseFilter = value;
    else if (name === '--no-courier' && value === undefined) courier = false;
    else if (name === '--keep' && value === undefined) keep = true;
    else if (name === '--cpu-prof' && value === undefined) cpuProfile = true;
    else if (name === '--quiet-wait' && value && Number(value) >= 0) quietWaitSeconds = Number(value);
    else usage(`unknown argument ${arg}`);
  }
  if (!scenario) usage(`name a scenario: --scenario=${MQTT_SCENARIOS.join('|')}`);
  for (const peer of against) if (!PEER_LAUNCHERS.has(peer)) usage(`unknown peer '${peer}' (${[...PEER_LAUNCHERS.keys()].join(', ')})`);
  return { scenario, quick, runs: runs ?? (quick ? 1 : 3), against, caseFilter, courier, keep, cpuProfile, quietWaitSeconds: quietWaitSeconds ?? (quick ? 0 : 30) };
}

interface BrokerState {
  readonly launcher: BrokerLauncher;
  version: string;
  settings: readonly string[];
  /** Why it never ran (unavailable here). */
  readonly skipped: string | undefined;
  /** Why it stopped running: a start that failed, in any round. */
  startError: string | undefined;
  readonly runs: Map<string, RunFigures[]>;
  readonly quiet: Map<string, QuietWait[]>;
}

function runLine(testCase: MqttCase, figures: RunFigures): string {
  if (!figures.ok) return `FAILED: ${figures.error ?? 'unknown error'}`;
  const load = `broker ${formatNumber(figures.brokerCores, 2)} cores, pub ${formatNumber(figures.publisherCores, 2)}, sub ${formatNumber(figures.subscriberCores, 2)}, machine ${formatNumber(figures.machineCores, 2)} (steal ${formatNumber(figures.stealCores, 2)}), RSS ${formatMegabytes(figures.brokerPeakRssBytes)}`;
  if (testCase.kind === 'latency' && figures.latencyFromDue) {
    const due = figures.latencyFromDue;
    const ms = (micros: number): string => formatNumber(micros / 1000, 3);
    return `p50 ${ms(due.p50)} ms, p99 ${ms(due.p99)} ms, p99.9 ${ms(due.p999)} ms, max ${ms(due.max)} ms (${formatInteger(due.count)} samples, ${formatInteger(figures.lateSends ?? 0)} late sends); ${load}`;
  }
  return `${formatInteger(figures.deliveredPerSecond)} msg/s delivered in ${formatNumber(figures.seconds, 2)} s (lost ${formatInteger(figures.lost)}); ${load}`;
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

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const machine = describeMachine();
  const cases = casesOf(options.scenario, options.quick).filter((testCase) => !options.caseFilter || testCase.id.includes(options.caseFilter) || testCase.title.includes(options.caseFilter));
  if (cases.length === 0) usage(`no case matches '${options.caseFilter ?? ''}'`);
  const profileDirectory = options.cpuProfile ? join(RESULTS_DIRECTORY, `cpu-prof-${options.scenario}-${new Date().toISOString().replace(/[:.]/g, '-')}`) : undefined;
  const courier = courierLauncher('mqtt', profileDirectory ? { cpuProfileDirectory: profileDirectory } : {});
  const launchers = [...(options.courier ? [courier] : []), ...options.against.map((name) => PEER_LAUNCHERS.get(name)!)];
  const states: BrokerState[] = [];
  for (const launcher of launchers) {
    const reason = launcher.protocols.includes('mqtt') ? await launcher.unavailable() : 'does not speak MQTT';
    states.push({ launcher, version: '', settings: [], skipped: reason, startError: undefined, runs: new Map(cases.map((testCase) => [testCase.id, []])), quiet: new Map(cases.map((testCase) => [testCase.id, []])) });
  }

  console.log(`${options.scenario}: ${cases.length} case(s) x ${options.runs} round(s) against ${states.map((state) => state.launcher.name).join(', ')}`);
  console.log(`machine: ${machineLine(machine)}`);
  for (const state of states) if (state.skipped) console.log(`  ${state.launcher.name}: skipped, ${state.skipped}`);

  let current: { broker: RunningBroker; workDir: string } | undefined;
  const interrupt = (signal: NodeJS.Signals): void => {
    console.error(`mqtt-bench: ${signal}, stopping ${current?.broker.name ?? 'nothing'}`);
    void (current?.broker.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  for (let round = 1; round <= options.runs; round++) {
    for (const state of states) {
      if (state.skipped || state.startError) continue;
      const workDir = await mkdtemp(join(tmpdir(), `courier-bench-${state.launcher.name}-`));
      let broker: RunningBroker;
      try {
        broker = await state.launcher.start(workDir);
      } catch (error) {
        state.startError = `failed to start: ${error instanceof Error ? error.message : String(error)}`;
        console.log(`  ${state.launcher.name}: ${state.startError}\n${await logTail(workDir)}`);
        if (!options.keep) await rm(workDir, { recursive: true, force: true });
        continue;
      }
      current = { broker, workDir };
      state.version = broker.version;
      state.settings = broker.settings;
      try {
        const probe = new ProcessTreeProbe(broker.pid);
        await probe.refresh();
        for (const testCase of cases) {
          const tag = `${options.scenario}-${round}-${testCase.id}-${process.pid}`;
          if (options.quietWaitSeconds > 0) {
            const quiet = await waitForQuietMachine(QUIET_BUSY_CORES, options.quietWaitSeconds * 1000);
            state.quiet.get(testCase.id)!.push(quiet);
            if (!quiet.quiet) console.log(`  (machine still busy after ${options.quietWaitSeconds} s: ${formatNumber(quiet.busyCores, 2)} cores; running anyway)`);
          }
          const figures = await runCase(broker, probe, testCase, tag);
          state.runs.get(testCase.id)!.push(figures);
          console.log(`  ${broker.name.padEnd(9)} round ${round}  ${testCase.title}: ${runLine(testCase, figures)}`);
          if (!figures.ok) console.log(await logTail(workDir));
        }
      } finally {
        await broker.stop();
        current = undefined;
        if (!options.keep) await rm(workDir, { recursive: true, force: true });
      }
    }
  }

  const summary: SummaryRow[] = [];
  const verdicts: Verdict[] = [];
  const entriesOf = (testCase: MqttCase): BrokerRuns[] =>
    states.map((state) => {
      const runs = state.runs.get(testCase.id) ?? [];
      const skipped = state.skipped ?? (runs.length === 0 ? state.startError : undefined);
      return { broker: state.launcher.name, version: state.version, ...(skipped ? { skipped } : {}), runs };
    });
  for (const testCase of cases) {
    const entries = entriesOf(testCase);
    console.log(`\n${testCase.kind === 'latency' ? latencyTable(testCase, entries) : throughputTable(testCase, entries)}`);
    const courierRuns = entries.find((entry) => entry.broker === COURIER && !entry.skipped);
    const courierFigures = courierRuns ? aggregate(courierRuns.runs) : undefined;
    for (const entry of entries) {
      if (entry.skipped) {
        summary.push({ metric: `${testCase.title}: ${entry.broker}`, value: entry.skipped, unit: '' });
        continue;
      }
      const figures = aggregate(entry.runs);
      if (testCase.kind === 'latency') {
        const due = figures.latencyFromDue;
        const value = due ? `${formatNumber(due.p50.median / 1000, 3)} / ${formatNumber(due.p99.median / 1000, 3)} / ${formatNumber(due.p999.median / 1000, 3)}` : 'no run';
        summary.push({ metric: `${testCase.title}: ${entry.broker} p50 / p99 / p99.9`, value, unit: 'ms' });
        const courierP99 = courierFigures?.latencyFromDue?.p99.median;
        if (entry.broker !== COURIER && courierP99 !== undefined && due) {
          summary.push({ metric: `${testCase.title}: courier / ${entry.broker} p99`, value: Number((courierP99 / due.p99.median).toFixed(2)), unit: 'x' });
        }
      } else {
        summary.push({ metric: `${testCase.title}: ${entry.broker}`, value: Math.round(figures.delivered.median), unit: 'msg/s' });
        if (entry.broker !== COURIER && courierFigures && figures.delivered.median > 0) {
          summary.push({
            metric: `${testCase.title}: courier / ${entry.broker}`,
            value: Number((courierFigures.delivered.median / figures.delivered.median).toFixed(2)),
            unit: 'x',
          });
        }
      }
    }
    if (testCase.qos === 1 && courierFigures && courierFigures.completedRuns > 0) {
      verdicts.push({
        name: `courier-qos1-complete-${testCase.id}`,
        pass: courierFigures.lost === 0 && courierFigures.badBodies === 0,
        detail: `${formatInteger(courierFigures.lost)} QoS 1 deliveries missing, ${formatInteger(courierFigures.badBodies)} bodies damaged over ${courierFigures.completedRuns} run(s)`,
      });
    }
  }
  const failures = states.flatMap((state) => [
    ...(state.startError ? [`${state.launcher.name}: ${state.startError}`] : []),
    ...[...state.runs.values()].flat().flatMap((run) => (run.ok ? [] : [`${state.launcher.name}: ${run.error ?? 'failed'}`])),
  ]);
  verdicts.push({
    name: 'runs-completed',
    pass: failures.length === 0,
    detail: failures.length === 0 ? 'every broker started and completed every run' : failures.slice(0, 5).join('; '),
  });

  if (profileDirectory) console.log(`\n${await summariseCpuProfiles(profileDirectory, 25)}`);

  await publishResult({
    scenario: options.scenario,
    summary,
    verdicts,
    details: {
      machine,
      options: { ...options },
      ...(profileDirectory ? { cpuProfileDirectory: profileDirectory } : {}),
      cases,
      brokers: states.map((state) => ({
        name: state.launcher.name,
        version: state.version,
        settings: state.settings,
        ...(state.skipped ? { skipped: state.skipped } : {}),
        ...(state.startError ? { startError: state.startError } : {}),
        runs: Object.fromEntries(state.runs),
        quietBeforeRuns: Object.fromEntries(state.quiet),
        aggregate: Object.fromEntries(cases.map((testCase) => [testCase.id, aggregate(state.runs.get(testCase.id) ?? [])])),
      })),
    },
  });
  process.exitCode = verdicts.every((verdict) => verdict.pass) ? 0 : 1;
}

await main();
