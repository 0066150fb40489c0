/**
 * HTTP publish throughput (issue 7): Courier's HTTP messaging API, and (with `--against=rabbitmq`)
 * RabbitMQ's management API as the "what else would users use over HTTP" peer, with one load generator.
 *
 *   npm run bench -- http-publish [--against=rabbitmq] [--quick]
 *   node dist/bench/http-bench.js [--against=rabbitmq] [--quick] [--runs=N] [--messages=N] [--no-courier]
 *        [--keep] [--cpu-prof] [--quiet-wait=S]
 *
 * One durable queue per case (declared over HTTP first), 1 -> 1, 16 B and 1 KiB bodies, transient
 * messages. The publisher (bench/load/http-publisher.ts) is a process of its own with 32 keep-alive
 * connections and one pre-encoded request in flight on each:
 * - Courier: `POST /api/queues/{q}/messages` with `X-Courier-Persistent: false`; a 201 counts.
 * - RabbitMQ: `POST /api/exchanges/%2f/amq.default/publish` (JSON body, delivery mode 1); a 200 counts.
 *   The management API says it is not meant for throughput: a caveat figure, not a target.
 * The consumer (bench/load/http-consumer.ts), another process, runs 4 pollers: Courier's long poll
 * `GET /api/queues/{q}/messages?max=100&wait=5` + `POST .../messages/ack`; RabbitMQ's
 * `POST /api/queues/%2f/{q}/get` (count 100, ack_requeue_false), retried 5 ms after an empty answer.
 * Counted: requests answered per second (publish side) and messages delivered per second (from `go`
 * to the last poll that brought messages).
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { HTTP_CONSUMER_SCRIPT, type HttpConsumerConfig, type HttpConsumerReport } from './load/http-consumer.js';
import { HTTP_PUBLISHER_SCRIPT, type HttpPublisherConfig, type HttpPublisherReport } from './load/http-publisher.js';
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
import { rabbitmqLauncherWith } from './peers/rabbitmq.js';

const SCENARIO = 'http-publish';
const RESULTS_DIRECTORY = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const CONNECTIONS = 32;
const POLLERS = 4;
const AUTHORIZATION = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
const RUN_TIMEOUT_MS = 600_000;

interface HttpCase {
  readonly id: string;
  readonly title: string;
  readonly bodyBytes: number;
  readonly messages: number;
}

function casesOf(quick: boolean, messages: number | undefined): HttpCase[] {
  return [
    { id: 'http-16b', title: `HTTP publish 16 B, ${CONNECTIONS} in flight, long-poll consume`, bodyBytes: 16, messages: messages ?? (quick ? 10_000 : 50_000) },
    { id: 'http-1kib', title: `HTTP publish 1 KiB, ${CONNECTIONS} in flight, long-poll consume`, bodyBytes: 1024, messages: messages ?? (quick ? 10_000 : 50_000) },
  ];
}

const USAGE = 'usage: http-bench [--against=rabbitmq] [--quick] [--runs=N] [--messages=N] [--no-courier] [--keep] [--cpu-prof] [--quiet-wait=SECONDS]';

/** The publish request, the status that means success, and the consumer's flavour, per broker. */
function requestFor(broker: RunningBroker, port: number, queue: string, bodyBytes: number): { request: string; expectedStatus: number; flavour: HttpConsumerConfig['flavour'] } {
  const body = 'x'.repeat(bodyBytes);
  const head = (method: string, path: string, contentType: string, extra: string, length: number): string =>
    `${method} ${path} HTTP/1.1\r\nHost: ${broker.host}:${port}\r\nAuthorization: ${AUTHORIZATION}\r\nContent-Type: ${contentType}\r\n${extra}Content-Length: ${length}\r\n\r\n`;
  if (broker.name === COURIER) {
    return { request: head('POST', `/api/queues/${encodeURIComponent(queue)}/messages`, 'application/octet-stream', 'X-Courier-Persistent: false\r\n', bodyBytes) + body, expectedStatus: 201, flavour: 'courier' };
  }
  const json = JSON.stringify({ properties: { delivery_mode: 1 }, routing_key: queue, payload: body, payload_encoding: 'string' });
  return { request: head('POST', '/api/exchanges/%2f/amq.default/publish', 'application/json', '', Buffer.byteLength(json)) + json, expectedStatus: 200, flavour: 'rabbitmq-management' };
}

async function declareQueue(broker: RunningBroker, port: number, queue: string): Promise<void> {
  const path = broker.name === COURIER ? `/api/queues/${encodeURIComponent(queue)}` : `/api/queues/%2f/${encodeURIComponent(queue)}`;
  const response = await fetch(`http://${broker.host}:${port}${path}`, {
    method: 'PUT',
    headers: { authorization: AUTHORIZATION, 'content-type': 'application/json' },
    body: JSON.stringify({ durable: true }),
  });
  if (response.status !== 201 && response.status !== 204) throw new Error(`${broker.name}: declaring ${queue} answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
}

async function runThroughput(broker: RunningBroker, probe: ProcessTreeProbe, testCase: HttpCase, tag: string): Promise<RunResult> {
  const port = broker.ports.http;
  if (port === undefined) throw new Error(`${broker.name} has no HTTP listener`);
  const queue = `bench.${testCase.id}`;
  await declareQueue(broker, port, queue);
  const { request, expectedStatus, flavour } = requestFor(broker, port, queue, testCase.bodyBytes);
  return withWorkers(async (spawn) => {
    const consumerConfig: HttpConsumerConfig = { label: `consumer-${tag}`, host: broker.host, port, authorization: AUTHORIZATION, flavour, queue, pollers: POLLERS, bodyBytes: testCase.bodyBytes, expected: testCase.messages, idleMs: 10_000, emptyRetryMs: 5 };
    const consumer = spawn<HttpConsumerReport>(HTTP_CONSUMER_SCRIPT, consumerConfig, 'consumer');
    await withTimeout(consumer.ready, 30_000, 'consumer connecting');
    const publisherConfig: HttpPublisherConfig = { label: `publisher-${tag}`, host: broker.host, port, request, expectedStatus, messages: testCase.messages, connections: CONNECTIONS };
    const publisher = spawn<HttpPublisherReport>(HTTP_PUBLISHER_SCRIPT, publisherConfig, 'publisher');
    await withTimeout(publisher.ready, 30_000, 'publisher connecting');

    const { published, consumed, resources } = await measureRun(probe, publisher, consumer, RUN_TIMEOUT_MS, (report) => {
      if (report.failed > 0) console.log(`  ${report.failed} publish request(s) failed, e.g. ${report.failures.join(' | ')}`);
    });
    const publishSeconds = (published.endNs - published.startNs) / 1e9;
    const seconds = (Math.max(consumed.lastNs, published.endNs) - published.startNs) / 1e9;
    return {
      ok: true,
      metrics: {
        publishedPerSecond: published.succeeded / publishSeconds,
        deliveredPerSecond: consumed.received / ((consumed.lastNs - published.startNs) / 1e9),
        seconds,
        publishFailures: published.failed,
        publisherReconnects: published.reconnects,
        delivered: consumed.received,
        lost: Math.max(0, published.succeeded - consumed.received),
        extra: Math.max(0, consumed.received - published.succeeded),
        badBodies: consumed.badBodies,
        messagesPerPoll: consumed.polls > 0 ? consumed.received / consumed.polls : Number.NaN,
        consumerRetries: consumed.retries,
        ...resources(seconds),
      },
    };
  });
}

const rate = (value: number): string => formatInteger(value);

const COLUMNS: readonly Column[] = [
  { key: 'publishedPerSecond', header: 'published req/s', format: rate, spread: true, ratio: true },
  { key: 'deliveredPerSecond', header: 'delivered msg/s', format: rate, spread: true, ratio: true },
  { key: 'publishFailures', header: 'failed req', format: formatInteger },
  { key: 'lost', header: 'lost', format: formatInteger },
  { key: 'messagesPerPoll', header: 'msgs / poll', format: (value) => formatNumber(value, 1) },
  ...RESOURCE_COLUMNS,
];

function runLine(_testCase: HttpCase, result: RunResult): string {
  const get = (key: string): number => result.metrics[key] ?? Number.NaN;
  return `published ${rate(get('publishedPerSecond'))} req/s (failed ${formatInteger(get('publishFailures'))}), delivered ${rate(get('deliveredPerSecond'))} msg/s (lost ${formatInteger(get('lost'))}, ${formatNumber(get('messagesPerPoll'), 1)} per poll) in ${formatNumber(get('seconds'), 2)} s; ${resourcesText(result.metrics)}`;
}

async function main(): Promise<void> {
  const options = parseScenarioOptions(process.argv.slice(2), USAGE, (peer) => peer === 'rabbitmq');
  const machine = describeMachine();
  const cases = casesOf(options.quick, options.messages);
  const profileDirectory = options.cpuProfile ? join(RESULTS_DIRECTORY, `cpu-prof-${SCENARIO}-${new Date().toISOString().replace(/[:.]/g, '-')}`) : undefined;
  // RabbitMQ's HTTP API is its management plugin, on only for this scenario.
  const launchers = [...(options.courier ? [courierLauncher('http', profileDirectory ? { cpuProfileDirectory: profileDirectory } : {})] : []), ...options.against.map(() => rabbitmqLauncherWith({ management: true }))];
  console.log(`${SCENARIO}: ${cases.length} cases, ${options.runs} round(s) against ${launchers.map((launcher) => launcher.name).join(', ')}`);
  console.log(`machine: ${machineLine(machine)}`);

  const records = await runRounds({
    protocol: 'http',
    launchers,
    cases,
    runs: options.runs,
    quietWaitSeconds: options.quietWaitSeconds,
    keep: options.keep,
    runOne: runThroughput,
    line: runLine,
  });

  for (const testCase of cases) console.log(`\n${caseTable(testCase, records, COLUMNS)}`);
  const summary: SummaryRow[] = cases.flatMap((testCase) => [
    ...summaryRows(testCase, records, 'publishedPerSecond', 'published', 'req/s'),
    ...summaryRows(testCase, records, 'deliveredPerSecond', 'delivered', 'msg/s'),
  ]);
  const verdicts: Verdict[] = [];
  const courier = records.find((record) => record.name === COURIER && !record.skipped);
  for (const testCase of cases) {
    const runs = courier?.runs.get(testCase.id)?.filter((run) => run.ok) ?? [];
    if (runs.length === 0) continue;
    const wrong = runs.reduce((sum, run) => sum + (run.metrics.publishFailures ?? 0) + (run.metrics.lost ?? 0) + (run.metrics.extra ?? 0) + (run.metrics.badBodies ?? 0), 0);
    verdicts.push({ name: `courier-complete-${testCase.id}`, pass: wrong === 0, detail: `${formatInteger(wrong)} publishes failed or messages missing, extra or damaged over ${runs.length} run(s)` });
  }
  const failed = failures(records);
  verdicts.push({ name: 'runs-completed', pass: failed.length === 0, detail: failed.length === 0 ? 'every broker started and completed every run' : failed.slice(0, 5).join('; ') });

  if (profileDirectory) console.log(`\n${await summariseCpuProfiles(profileDirectory, 25)}`);
  await publishResult({ scenario: SCENARIO, summary, verdicts, details: { machine, options: { ...options }, cases, ...(profileDirectory ? { cpuProfileDirectory: profileDirectory } : {}), brokers: recordDetails(records) } });
  process.exitCode = verdicts.every((verdict) => verdict.pass) ? 0 : 1;
}

await main();
