/**
 * STOMP 1.2 throughput (issue 7): Courier's STOMP port against RabbitMQ's STOMP plugin, with one load
 * generator.
 *
 *   npm run bench -- stomp-throughput [--against=rabbitmq] [--quick]
 *   node dist/bench/stomp-bench.js [--against=rabbitmq] [--quick] [--runs=N] [--messages=N] [--no-courier]
 *        [--keep] [--cpu-prof] [--quiet-wait=S]
 *
 * Publish -> consume through one queue (`/queue/bench.<case>`: both brokers declare it durable; messages
 * are not persistent), 1 -> 1, 16 B and 1 KiB bodies. The publisher (bench/load/stomp-publisher.ts) is a
 * process of its own writing pre-encoded SEND frames with a receipt on every 100th and at most 1,000
 * messages not yet covered by a receipt; the consumer (bench/load/stomp-consumer.ts), another process,
 * subscribes with `ack:client` and `prefetch-count:1000` and sends one cumulative ACK per socket read.
 * Counted: messages delivered per second, from `go` to the last MESSAGE.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { STOMP_CONSUMER_SCRIPT, type StompConsumerConfig, type StompConsumerReport } from './load/stomp-consumer.js';
import { STOMP_PUBLISHER_SCRIPT, type StompPublisherConfig, type StompPublisherReport } from './load/stomp-publisher.js';
import type { StompEndpoint } from './load/stomp-wire.js';
import type { ProcessTreeProbe } from './load/proc-stat.js';
import { summariseCpuProfiles } from './lib/cpu-profile.js';
import { measureRun, RESOURCE_COLUMNS, resourcesText } from './lib/measured-run.js';
import { describeMachine, machineLine } from './lib/machine.js';
import { publishResult, type SummaryRow, type Verdict } from './lib/result.js';
import { COURIER, caseTable, failures, recordDetails, runRounds, summaryRows, type Column, type RunResult } from './lib/rounds.js';
import { formatInteger, formatNumber } from './lib/table.js';
import { parseScenarioOptions, withTimeout, withWorkers } from './lib/workers.js';
import type { RunningBroker } from './peers/broker.js';
import { courierLauncher } from './peers/courier.js';
import { PEER_LAUNCHERS } from './peers/registry.js';

const SCENARIO = 'stomp-throughput';
const RESULTS_DIRECTORY = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const PREFETCH = 1000;
const RECEIPT_EVERY = 100;
const RECEIPT_WINDOW = 1000;
/** Both brokers take guest/guest from loopback with their defaults. */
const CREDENTIALS = { login: 'guest', passcode: 'guest' };
const RUN_TIMEOUT_MS = 600_000;

interface StompCase {
  readonly id: string;
  readonly title: string;
  readonly bodyBytes: number;
  readonly messages: number;
}

function casesOf(quick: boolean, messages: number | undefined): StompCase[] {
  return [
    { id: 'stomp-16b', title: 'STOMP 16 B, 1 -> 1, receipt every 100 (window 1,000), ack:client prefetch 1,000', bodyBytes: 16, messages: messages ?? (quick ? 50_000 : 500_000) },
    { id: 'stomp-1kib', title: 'STOMP 1 KiB, 1 -> 1, receipt every 100 (window 1,000), ack:client prefetch 1,000', bodyBytes: 1024, messages: messages ?? (quick ? 50_000 : 300_000) },
  ];
}

const USAGE = 'usage: stomp-bench [--against=rabbitmq] [--quick] [--runs=N] [--messages=N] [--no-courier] [--keep] [--cpu-prof] [--quiet-wait=SECONDS]';

function endpointOf(broker: RunningBroker): StompEndpoint {
  const port = broker.ports.stomp;
  if (port === undefined) throw new Error(`${broker.name} has no STOMP listener`);
  return { host: broker.host, port, ...CREDENTIALS };
}

async function runThroughput(broker: RunningBroker, probe: ProcessTreeProbe, testCase: StompCase, tag: string): Promise<RunResult> {
  const endpoint = endpointOf(broker);
  // A queue per case: a failed run's leftovers never reach the next case.
  const destination = `/queue/bench.${testCase.id}`;
  return withWorkers(async (spawn) => {
    const consumerConfig: StompConsumerConfig = { ...endpoint, label: `consumer-${tag}`, destination, prefetch: PREFETCH, bodyBytes: testCase.bodyBytes, expected: testCase.messages, idleMs: 5_000 };
    const consumer = spawn<StompConsumerReport>(STOMP_CONSUMER_SCRIPT, consumerConfig, 'consumer');
    await withTimeout(consumer.ready, 30_000, 'consumer connecting');
    const publisherConfig: StompPublisherConfig = { ...endpoint, label: `publisher-${tag}`, destination, bodyBytes: testCase.bodyBytes, messages: testCase.messages, receiptEvery: RECEIPT_EVERY, window: RECEIPT_WINDOW };
    const publisher = spawn<StompPublisherReport>(STOMP_PUBLISHER_SCRIPT, publisherConfig, 'publisher');
    await withTimeout(publisher.ready, 30_000, 'publisher connecting');

    const { published, consumed, resources } = await measureRun(probe, publisher, consumer, RUN_TIMEOUT_MS);
    const seconds = (consumed.lastNs - published.startNs) / 1e9;
    return {
      ok: true,
      metrics: {
        deliveredPerSecond: consumed.received / seconds,
        publishedPerSecond: published.receipted / ((published.endNs - published.startNs) / 1e9),
        seconds,
        delivered: consumed.received,
        lost: Math.max(0, testCase.messages - consumed.received),
        extra: Math.max(0, consumed.received - testCase.messages),
        badBodies: consumed.badBodies,
        messagesPerAck: consumed.acks > 0 ? consumed.received / consumed.acks : Number.NaN,
        ...resources(seconds),
      },
    };
  });
}

const rate = (value: number): string => formatInteger(value);

const COLUMNS: readonly Column[] = [
  { key: 'deliveredPerSecond', header: 'delivered msg/s', format: rate, spread: true, ratio: true },
  { key: 'publishedPerSecond', header: 'receipted msg/s', format: rate },
  { key: 'lost', header: 'lost', format: formatInteger },
  { key: 'messagesPerAck', header: 'msgs / ACK', format: (value) => formatNumber(value, 1) },
  ...RESOURCE_COLUMNS,
];

function runLine(_testCase: StompCase, result: RunResult): string {
  const get = (key: string): number => result.metrics[key] ?? Number.NaN;
  return `${rate(get('deliveredPerSecond'))} msg/s delivered in ${formatNumber(get('seconds'), 2)} s (receipted ${rate(get('publishedPerSecond'))}/s, lost ${formatInteger(get('lost'))}, ${formatNumber(get('messagesPerAck'), 1)} per ACK); ${resourcesText(result.metrics)}`;
}

async function main(): Promise<void> {
  const options = parseScenarioOptions(process.argv.slice(2), USAGE, (peer) => peer === 'rabbitmq');
  const machine = describeMachine();
  const cases = casesOf(options.quick, options.messages);
  const profileDirectory = options.cpuProfile ? join(RESULTS_DIRECTORY, `cpu-prof-${SCENARIO}-${new Date().toISOString().replace(/[:.]/g, '-')}`) : undefined;
  const launchers = [...(options.courier ? [courierLauncher('stomp', profileDirectory ? { cpuProfileDirectory: profileDirectory } : {})] : []), ...options.against.map((name) => PEER_LAUNCHERS.get(name)!)];
  console.log(`${SCENARIO}: ${cases.length} cases, ${options.runs} round(s) against ${launchers.map((launcher) => launcher.name).join(', ')}`);
  console.log(`machine: ${machineLine(machine)}`);

  const records = await runRounds({
    protocol: 'stomp',
    launchers,
    cases,
    runs: options.runs,
    quietWaitSeconds: options.quietWaitSeconds,
    keep: options.keep,
    runOne: runThroughput,
    line: runLine,
  });

  for (const testCase of cases) console.log(`\n${caseTable(testCase, records, COLUMNS)}`);
  const summary: SummaryRow[] = cases.flatMap((testCase) => summaryRows(testCase, records, 'deliveredPerSecond', 'delivered', 'msg/s'));
  const verdicts: Verdict[] = [];
  const courier = records.find((record) => record.name === COURIER && !record.skipped);
  for (const testCase of cases) {
    const runs = courier?.runs.get(testCase.id)?.filter((run) => run.ok) ?? [];
    if (runs.length === 0) continue;
    const wrong = runs.reduce((sum, run) => sum + (run.metrics.lost ?? 0) + (run.metrics.extra ?? 0) + (run.metrics.badBodies ?? 0), 0);
    verdicts.push({ name: `courier-complete-${testCase.id}`, pass: wrong === 0, detail: `${formatInteger(wrong)} messages missing, extra or damaged over ${runs.length} run(s)` });
  }
  const failed = failures(records);
  verdicts.push({ name: 'runs-completed', pass: failed.length === 0, detail: failed.length === 0 ? 'every broker started and completed every run' : failed.slice(0, 5).join('; ') });

  if (profileDirectory) console.log(`\n${await summariseCpuProfiles(profileDirectory, 25)}`);
  await publishResult({ scenario: SCENARIO, summary, verdicts, details: { machine, options: { ...options }, cases, ...(profileDirectory ? { cpuProfileDirectory: profileDirectory } : {}), brokers: recordDetails(records) } });
  process.exitCode = verdicts.every((verdict) => verdict.pass) ? 0 : 1;
}

await main();
