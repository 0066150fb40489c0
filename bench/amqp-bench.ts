/**
 * AMQP 0-9-1 benchmarks (issues 4 and 7): Courier's AMQP port against RabbitMQ's, with one load generator.
 *
 *   npm run bench -- amqp-transient amqp-persistent amqp-backlog [--against=rabbitmq] [--quick]
 *   node dist/bench/amqp-bench.js --scenario=amqp-transient|amqp-persistent|amqp-backlog [--against=rabbitmq]
 *        [--quick] [--runs=N] [--messages=N] [--no-courier] [--keep] [--cpu-prof] [--quiet-wait=S]
 *
 * The load generator is a publisher process and a consumer process speaking AMQP over plain sockets
 * with pre-encoded frames (bench/load/amqp-*.ts), so no client library sits between the figures and
 * the brokers. 1 KiB bodies, to the default exchange, one queue, consumer prefetch 1,000 with one
 * `multiple` ack per socket read.
 *
 * - amqp-transient: non-durable queue, delivery mode 1, no confirms: publish -> consume throughput.
 * - amqp-persistent: durable queue, delivery mode 2, publisher confirms (window 1,000) while the consumer
 *   drains: durable throughput, a message counted once delivered; confirms come after fsync in Courier.
 * - amqp-backlog: 1,000,000 (--quick 100,000) persistent messages confirmed into a durable queue with
 *   nobody consuming; the broker's RSS after 5 s at rest; then one consumer drains the queue.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { AMQP_CONSUMER_SCRIPT, type AmqpConsumerConfig, type AmqpConsumerReport } from './load/amqp-consumer.js';
import { AMQP_PUBLISHER_SCRIPT, type AmqpEndpoint, type AmqpPublisherConfig, type AmqpPublisherReport } from './load/amqp-publisher.js';
import { PeakRssSampler, type ProcessTreeProbe } from './load/proc-stat.js';
import { summariseCpuProfiles } from './lib/cpu-profile.js';
import { coresText, measureRun, RESOURCE_COLUMNS, resourcesText } from './lib/measured-run.js';
import { describeMachine, machineLine } from './lib/machine.js';
import { publishResult, type SummaryRow, type Verdict } from './lib/result.js';
import { COURIER, caseTable, failures, ratio, recordDetails, runRounds, spreads, summaryRows, type Column, type RunResult } from './lib/rounds.js';
import { formatInteger, formatMegabytes, formatNumber } from './lib/table.js';
import { cores, parseScenarioOptions, withTimeout, withWorkers, type ScenarioOptions } from './lib/workers.js';
import type { RunningBroker } from './peers/broker.js';
import { courierLauncher } from './peers/courier.js';
import { PEER_LAUNCHERS } from './peers/registry.js';

const SCENARIOS = ['amqp-transient', 'amqp-persistent', 'amqp-backlog'] as const;
type Scenario = (typeof SCENARIOS)[number];

const RESULTS_DIRECTORY = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const BODY_BYTES = 1024;
const PREFETCH = 1000;
const CONFIRM_WINDOW = 1000;
/** Both brokers take guest/guest from loopback with their defaults. */
const CREDENTIALS = { user: 'guest', password: 'guest', vhost: '/' };
const REST_SECONDS = 5;
const RUN_TIMEOUT_MS = 600_000;

interface AmqpCase {
  readonly id: string;
  readonly title: string;
  readonly kind: 'throughput' | 'backlog';
  readonly durableQueue: boolean;
  readonly persistent: boolean;
  readonly confirms: boolean;
  readonly messages: number;
}

function casesOf(scenario: Scenario, quick: boolean, messages: number | undefined): AmqpCase {
  switch (scenario) {
    case 'amqp-transient':
      return { id: 'transient-1kib', title: 'AMQP transient, 1 KiB, 1 -> 1, prefetch 1,000', kind: 'throughput', durableQueue: false, persistent: false, confirms: false, messages: messages ?? (quick ? 50_000 : 500_000) };
    case 'amqp-persistent':
      return { id: 'persistent-confirms-1kib', title: 'AMQP persistent + confirms, durable queue, 1 KiB, 1 -> 1, prefetch 1,000', kind: 'throughput', durableQueue: true, persistent: true, confirms: true, messages: messages ?? (quick ? 30_000 : 300_000) };
    case 'amqp-backlog':
      return { id: 'backlog-1kib', title: `AMQP backlog of ${formatInteger(messages ?? (quick ? 100_000 : 1_000_000))} persistent 1 KiB messages`, kind: 'backlog', durableQueue: true, persistent: true, confirms: true, messages: messages ?? (quick ? 100_000 : 1_000_000) };
  }
}

const USAGE = `usage: amqp-bench --scenario=${SCENARIOS.join('|')} [--against=rabbitmq] [--quick] [--runs=N] [--messages=N] [--no-courier] [--keep] [--cpu-prof] [--quiet-wait=SECONDS]`;

/** The shared scenario options (lib/workers.ts), plus which AMQP scenario. */
function parseOptions(argv: readonly string[]): ScenarioOptions & { readonly scenario: Scenario } {
  const isScenario = (arg: string): boolean => arg.startsWith('--scenario=');
  const options = parseScenarioOptions(argv.filter((arg) => !isScenario(arg)), USAGE, (peer) => PEER_LAUNCHERS.has(peer));
  const named = argv.find(isScenario)?.slice('--scenario='.length);
  const scenario = SCENARIOS.find((name) => name === named);
  if (!scenario) {
    console.error(`amqp-bench: name a scenario: --scenario=${SCENARIOS.join('|')}\n${USAGE}`);
    process.exit(2);
  }
  return { ...options, scenario };
}

function endpointOf(broker: RunningBroker): AmqpEndpoint {
  const port = broker.ports.amqp;
  if (port === undefined) throw new Error(`${broker.name} has no AMQP listener`);
  return { host: broker.host, port, ...CREDENTIALS };
}

async function runThroughput(broker: RunningBroker, probe: ProcessTreeProbe, testCase: AmqpCase, tag: string): Promise<RunResult> {
  const endpoint = endpointOf(broker);
  const queue = `bench-${tag}`;
  return withWorkers(async (spawn) => {
    const consumerConfig: AmqpConsumerConfig = { ...endpoint, label: `consumer-${tag}`, queue, durableQueue: testCase.durableQueue, prefetch: PREFETCH, bodyBytes: BODY_BYTES, expected: testCase.messages, idleMs: 5_000, consumeOnGo: false };
    const consumer = spawn<AmqpConsumerReport>(AMQP_CONSUMER_SCRIPT, consumerConfig, 'consumer');
    await withTimeout(consumer.ready, 30_000, 'consumer connecting');
    const publisherConfig: AmqpPublisherConfig = { ...endpoint, label: `publisher-${tag}`, queue, durableQueue: testCase.durableQueue, persistent: testCase.persistent, confirms: testCase.confirms, bodyBytes: BODY_BYTES, messages: testCase.messages, window: CONFIRM_WINDOW };
    const publisher = spawn<AmqpPublisherReport>(AMQP_PUBLISHER_SCRIPT, publisherConfig, 'publisher');
    await withTimeout(publisher.ready, 30_000, 'publisher connecting');

    const { published, consumed, resources } = await measureRun(probe, publisher, consumer, RUN_TIMEOUT_MS);
    const seconds = (consumed.lastNs - published.startNs) / 1e9;
    return {
      ok: true,
      metrics: {
        deliveredPerSecond: consumed.received / seconds,
        publishedPerSecond: published.sent / ((published.endNs - published.startNs) / 1e9),
        seconds,
        delivered: consumed.received,
        lost: Math.max(0, testCase.messages - consumed.received),
        badBodies: consumed.badBodies,
        ...resources(seconds),
      },
    };
  });
}

async function runBacklog(broker: RunningBroker, probe: ProcessTreeProbe, testCase: AmqpCase, tag: string): Promise<RunResult> {
  const endpoint = endpointOf(broker);
  const queue = `backlog-${tag}`;
  const idleBefore = await probe.sample();
  const metrics: Record<string, number> = { idleRssBytes: idleBefore.rssBytes };

  // Fill: every message confirmed, nobody consuming.
  await withWorkers(async (spawn) => {
    const publisherConfig: AmqpPublisherConfig = { ...endpoint, label: `filler-${tag}`, queue, durableQueue: true, persistent: true, confirms: true, bodyBytes: BODY_BYTES, messages: testCase.messages, window: CONFIRM_WINDOW };
    const publisher = spawn<AmqpPublisherReport>(AMQP_PUBLISHER_SCRIPT, publisherConfig, 'filler');
    await withTimeout(publisher.ready, 30_000, 'filler connecting');
    const sampler = new PeakRssSampler(probe);
    const before = await probe.sample();
    sampler.start();
    publisher.go();
    try {
      const filled = await withTimeout(publisher.done, RUN_TIMEOUT_MS, 'filler');
      const after = await probe.sample();
      const seconds = (filled.endNs - filled.startNs) / 1e9;
      metrics.fillPerSecond = filled.confirmed / seconds;
      metrics.fillSeconds = seconds;
      metrics.fillBrokerCores = (after.cpuSeconds - before.cpuSeconds) / seconds;
      metrics.fillPublisherCores = cores(filled.cpuUserMicros, filled.cpuSystemMicros, filled.endNs - filled.startNs);
      metrics.fillPeakRssBytes = await sampler.stop();
    } finally {
      await sampler.stop().catch(() => 0);
    }
  });

  // At rest: the publisher gone, nothing consuming.
  await new Promise((resolve) => setTimeout(resolve, REST_SECONDS * 1000));
  const rest = await probe.sample();
  metrics.restRssBytes = rest.rssBytes;

  // Drain: one consumer from `go`.
  await withWorkers(async (spawn) => {
    const consumerConfig: AmqpConsumerConfig = { ...endpoint, label: `drainer-${tag}`, queue, durableQueue: true, prefetch: PREFETCH, bodyBytes: BODY_BYTES, expected: testCase.messages, idleMs: 30_000, consumeOnGo: true };
    const consumer = spawn<AmqpConsumerReport>(AMQP_CONSUMER_SCRIPT, consumerConfig, 'drainer');
    await withTimeout(consumer.ready, 30_000, 'drainer connecting');
    const sampler = new PeakRssSampler(probe);
    const before = await probe.sample();
    sampler.start();
    consumer.go();
    consumer.publishersDone();
    try {
      const drained = await withTimeout(consumer.done, RUN_TIMEOUT_MS, 'drainer');
      const after = await probe.sample();
      const seconds = (drained.lastNs - drained.goNs) / 1e9;
      metrics.drainPerSecond = drained.received / seconds;
      metrics.drainSeconds = seconds;
      metrics.firstDeliveryMs = (drained.firstNs - drained.goNs) / 1e6;
      metrics.drainBrokerCores = (after.cpuSeconds - before.cpuSeconds) / seconds;
      metrics.drainConsumerCores = cores(drained.cpuUserMicros, drained.cpuSystemMicros, drained.lastNs - drained.goNs);
      metrics.drainPeakRssBytes = await sampler.stop();
      metrics.lost = Math.max(0, testCase.messages - drained.received);
      metrics.badBodies = drained.badBodies;
    } finally {
      await sampler.stop().catch(() => 0);
    }
  });
  return { ok: true, metrics };
}

const rate = (value: number): string => formatInteger(value);

const THROUGHPUT_COLUMNS: readonly Column[] = [
  { key: 'deliveredPerSecond', header: 'delivered msg/s', format: rate, spread: true, ratio: true },
  { key: 'publishedPerSecond', header: 'published msg/s', format: rate },
  { key: 'lost', header: 'lost', format: formatInteger },
  ...RESOURCE_COLUMNS,
];

const BACKLOG_COLUMNS: readonly Column[] = [
  { key: 'fillPerSecond', header: 'fill msg/s (confirmed)', format: rate, spread: true, ratio: true },
  { key: 'fillBrokerCores', header: 'fill broker cores', format: coresText },
  { key: 'restRssBytes', header: 'RSS at rest', format: formatMegabytes, spread: true, ratio: true },
  { key: 'drainPerSecond', header: 'drain msg/s', format: rate, spread: true, ratio: true },
  { key: 'firstDeliveryMs', header: 'first delivery ms', format: (value) => formatNumber(value, 0) },
  { key: 'drainBrokerCores', header: 'drain broker cores', format: coresText },
  { key: 'drainConsumerCores', header: 'cons cores', format: coresText },
  { key: 'drainPeakRssBytes', header: 'drain RSS peak', format: formatMegabytes },
  { key: 'lost', header: 'lost', format: formatInteger },
];

function runLine(testCase: AmqpCase, result: RunResult): string {
  const m = result.metrics;
  const get = (key: string): number => m[key] ?? Number.NaN;
  if (testCase.kind === 'backlog') {
    return `fill ${rate(get('fillPerSecond'))} msg/s (broker ${coresText(get('fillBrokerCores'))} cores), RSS at rest ${formatMegabytes(get('restRssBytes'))}, drain ${rate(get('drainPerSecond'))} msg/s (broker ${coresText(get('drainBrokerCores'))}, consumer ${coresText(get('drainConsumerCores'))}; RSS peak ${formatMegabytes(get('drainPeakRssBytes'))}), lost ${formatInteger(get('lost'))}`;
  }
  return `${rate(get('deliveredPerSecond'))} msg/s delivered in ${formatNumber(get('seconds'), 2)} s (published ${rate(get('publishedPerSecond'))}/s, lost ${formatInteger(get('lost'))}); ${resourcesText(result.metrics)}`;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const machine = describeMachine();
  const testCase = casesOf(options.scenario, options.quick, options.messages);
  const profileDirectory = options.cpuProfile ? join(RESULTS_DIRECTORY, `cpu-prof-${options.scenario}-${new Date().toISOString().replace(/[:.]/g, '-')}`) : undefined;
  const launchers = [...(options.courier ? [courierLauncher('amqp', profileDirectory ? { cpuProfileDirectory: profileDirectory } : {})] : []), ...options.against.map((name) => PEER_LAUNCHERS.get(name)!)];
  console.log(`${options.scenario}: ${testCase.title}, ${options.runs} round(s) against ${launchers.map((launcher) => launcher.name).join(', ')}`);
  console.log(`machine: ${machineLine(machine)}`);

  const records = await runRounds({
    protocol: 'amqp',
    launchers,
    cases: [testCase],
    runs: options.runs,
    quietWaitSeconds: options.quietWaitSeconds,
    keep: options.keep,
    runOne: (broker, probe, which, tag) => (which.kind === 'backlog' ? runBacklog(broker, probe, which, tag) : runThroughput(broker, probe, which, tag)),
    line: runLine,
  });

  console.log(`\n${caseTable(testCase, records, testCase.kind === 'backlog' ? BACKLOG_COLUMNS : THROUGHPUT_COLUMNS)}`);
  const summary: SummaryRow[] =
    testCase.kind === 'backlog'
      ? [
          ...summaryRows(testCase, records, 'fillPerSecond', 'fill', 'msg/s'),
          ...summaryRows(testCase, records, 'restRssBytes', 'RSS at rest', 'bytes'),
          ...summaryRows(testCase, records, 'drainPerSecond', 'drain', 'msg/s'),
        ]
      : summaryRows(testCase, records, 'deliveredPerSecond', 'delivered', 'msg/s');

  const verdicts: Verdict[] = [];
  const courier = records.find((record) => record.name === COURIER && !record.skipped);
  const courierRuns = courier?.runs.get(testCase.id)?.filter((run) => run.ok) ?? [];
  if (courierRuns.length > 0) {
    const lost = courierRuns.reduce((sum, run) => sum + (run.metrics.lost ?? 0) + (run.metrics.badBodies ?? 0), 0);
    verdicts.push({ name: `courier-complete-${testCase.id}`, pass: lost === 0, detail: `${formatInteger(lost)} messages missing or damaged over ${courierRuns.length} run(s)` });
  }
  // Issue 4's target: at least RabbitMQ's throughput, in the transient and the persistent case.
  const rabbit = records.find((record) => record.name === 'rabbitmq' && !record.skipped);
  if (courier && rabbit && testCase.kind === 'throughput') {
    const r = ratio(spreads(courier.runs.get(testCase.id) ?? []).deliveredPerSecond?.median ?? Number.NaN, spreads(rabbit.runs.get(testCase.id) ?? []).deliveredPerSecond?.median ?? Number.NaN);
    if (Number.isFinite(r)) verdicts.push({ name: `courier-at-least-rabbitmq-${testCase.id}`, pass: r >= 1, detail: `Courier / RabbitMQ delivered msg/s = ${formatNumber(r, 2)}x (target >= 1)` });
  }
  const failed = failures(records);
  verdicts.push({ name: 'runs-completed', pass: failed.length === 0, detail: failed.length === 0 ? 'every broker started and completed every run' : failed.slice(0, 5).join('; ') });

  if (profileDirectory) console.log(`\n${await summariseCpuProfiles(profileDirectory, 25)}`);
  await publishResult({ scenario: options.scenario, summary, verdicts, details: { machine, options: { ...options }, case: testCase, ...(profileDirectory ? { cpuProfileDirectory: profileDirectory } : {}), brokers: recordDetails(records) } });
  process.exitCode = verdicts.every((verdict) => verdict.pass) ? 0 : 1;
}

await main();
