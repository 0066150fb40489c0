/**
 * One run of one MQTT case against one running broker: subscriber processes connect and subscribe, the
 * publisher process connects, everyone gets `go` at once, and the run ends when every subscriber has its
 * messages (or has heard nothing for a while after the publisher finished). The broker's CPU seconds
 * are read from /proc before and after, its RSS sampled every 100 ms; each load process reports its own
 * CPU, so the figures tell who was saturated.
 */
import type { RunningBroker } from '../peers/broker.js';
import { PUBLISHER_SCRIPT, type PublisherConfig, type PublisherReport } from '../load/mqtt-publisher.js';
import { PeakRssSampler, sampleMachineCpu, type ProcessTreeProbe } from '../load/proc-stat.js';
import type { LatencySummary } from '../load/stats.js';
import { SUBSCRIBER_SCRIPT, type SubscriberConfig, type SubscriberReport } from '../load/mqtt-subscriber.js';
import { WorkerProcess } from '../load/worker-process.js';
import { cores, withTimeout } from '../lib/workers.js';
import type { MqttCase } from './cases.js';

export interface RunFigures {
  readonly ok: boolean;
  readonly error?: string;
  readonly published: number;
  readonly expected: number;
  readonly delivered: number;
  readonly lost: number;
  readonly badBodies: number;
  /** From `go` to the last delivery. */
  readonly seconds: number;
  readonly deliveredPerSecond: number;
  readonly publishedPerSecond: number;
  readonly brokerCpuSeconds: number;
  /** Broker CPU seconds over `seconds`: 1.0 is one core busy throughout. */
  readonly brokerCores: number;
  readonly brokerPeakRssBytes: number;
  readonly publisherCores: number;
  /** Summed over subscriber processes, and the busiest one alone. */
  readonly subscriberCores: number;
  readonly busiestSubscriberCores: number;
  /** Every process on the machine, from /proc/stat: above broker + load generator means other work ran. */
  readonly machineCores: number;
  /** Hypervisor steal over the run, in cores. */
  readonly stealCores: number;
  readonly lateSends?: number;
  readonly windowStalls?: number;
  readonly latencyFromDue?: LatencySummary;
  readonly latencyFromWrite?: LatencySummary;
}

/** A run that took longer than this is abandoned (workers killed) and reported as failed. */
const RUN_TIMEOUT_MS = 180_000;
/** QoS 0 may lose messages: a subscriber gives up after this long without one once the publisher is done. */
const IDLE_MS = 1_500;


function failed(error: unknown, expected: number): RunFigures {
  return {
    ok: false,
    error: error instanceof Error ? error.message : String(error),
    published: 0,
    expected,
    delivered: 0,
    lost: expected,
    badBodies: 0,
    seconds: Number.NaN,
    deliveredPerSecond: Number.NaN,
    publishedPerSecond: Number.NaN,
    brokerCpuSeconds: Number.NaN,
    brokerCores: Number.NaN,
    brokerPeakRssBytes: Number.NaN,
    publisherCores: Number.NaN,
    subscriberCores: Number.NaN,
    busiestSubscriberCores: Number.NaN,
    machineCores: Number.NaN,
    stealCores: Number.NaN,
  };
}


export async function runCase(broker: RunningBroker, probe: ProcessTreeProbe, testCase: MqttCase, tag: string): Promise<RunFigures> {
  const port = broker.ports.mqtt;
  if (port === undefined) return failed(new Error(`${broker.name} has no MQTT listener`), 0);
  const topic = `bench/${tag}`;
  const latency = testCase.kind === 'latency';
  const messages = latency ? testCase.ratePerSecond * (testCase.seconds + testCase.warmupSeconds) : testCase.messages;
  const subscribers = latency ? 1 : testCase.subscribers;
  const processes = latency ? 1 : testCase.subscriberProcesses;
  const expected = messages * subscribers;

  const subscriberWorkers: WorkerProcess<SubscriberReport>[] = [];
  const publishers: WorkerProcess<PublisherReport>[] = [];
  const sampler = new PeakRssSampler(probe);
  const workers = (): WorkerProcess<unknown>[] => [...subscriberWorkers, ...publishers];
  try {
    for (let index = 0; index < processes; index++) {
      const connections = Math.floor(subscribers / processes) + (index < subscribers % processes ? 1 : 0);
      const config: SubscriberConfig = {
        host: broker.host,
        port,
        clientIdPrefix: `sub-${tag}-${index}`,
        connections,
        topic,
        qos: testCase.qos,
        bodyBytes: testCase.bodyBytes,
        expectedPerConnection: messages,
        idleMs: IDLE_MS,
        ...(testCase.kind === 'throughput' && testCase.persistentSession ? { persistentSession: true } : {}),
        ...(latency ? { latency: { warmupMessages: testCase.ratePerSecond * testCase.warmupSeconds } } : {}),
      };
      subscriberWorkers.push(new WorkerProcess<SubscriberReport>(SUBSCRIBER_SCRIPT, config, `subscriber ${index}`));
    }
    await withTimeout(Promise.all(subscriberWorkers.map((worker) => worker.ready)), 60_000, 'subscribers connecting');
    // Fan-in: each publisher is a process of its own with an even share of the messages.
    const publisherCount = latency ? 1 : testCase.publishers;
    for (let index = 0; index < publisherCount; index++) {
      const share = Math.floor(messages / publisherCount) + (index < messages % publisherCount ? 1 : 0);
      const publisherConfig: PublisherConfig = {
        host: broker.host,
        port,
        clientId: `pub-${tag}-${index}`,
        topic,
        qos: testCase.qos,
        bodyBytes: testCase.bodyBytes,
        messages: share,
        window: testCase.window,
        ...(latency ? { ratePerSecond: testCase.ratePerSecond } : {}),
      };
      publishers.push(new WorkerProcess<PublisherReport>(PUBLISHER_SCRIPT, publisherConfig, `publisher ${index}`));
    }
    await withTimeout(Promise.all(publishers.map((worker) => worker.ready)), 30_000, 'publishers connecting');

    const before = await probe.sample();
    const machineBefore = await sampleMachineCpu();
    const machineBeforeNs = Number(process.hrtime.bigint());
    sampler.start();
    for (const worker of subscriberWorkers) worker.go();
    for (const worker of publishers) worker.go();
    const publisherReports = await withTimeout(Promise.all(publishers.map((worker) => worker.done)), RUN_TIMEOUT_MS, 'publishers');
    for (const worker of subscriberWorkers) worker.publishersDone();
    const reports = await withTimeout(Promise.all(subscriberWorkers.map((worker) => worker.done)), RUN_TIMEOUT_MS, 'subscribers');
    const after = await probe.sample();
    const machineAfter = await sampleMachineCpu();
    const machineSeconds = (Number(process.hrtime.bigint()) - machineBeforeNs) / 1e9;
    const peakRss = await sampler.stop();
    const published = {
      sent: publisherReports.reduce((sum, report) => sum + report.sent, 0),
      startNs: Math.min(...publisherReports.map((report) => report.startNs)),
      endNs: Math.max(...publisherReports.map((report) => report.endNs)),
      lateSends: publisherReports.reduce((sum, report) => sum + report.lateSends, 0),
      windowStalls: publisherReports.reduce((sum, report) => sum + report.windowStalls, 0),
    };
    // Summed over publisher processes (CPU seconds over the publishing interval).
    const publisherCores = publisherReports.reduce((sum, report) => sum + cores(report.cpuUserMicros, report.cpuSystemMicros, published.endNs - published.startNs), 0);

    const lastNs = Math.max(...reports.map((report) => report.lastNs));
    const seconds = (lastNs - published.startNs) / 1e9;
    const delivered = reports.reduce((sum, report) => sum + report.received, 0);
    const subscriberCores = reports.map((report) => cores(report.cpuUserMicros, report.cpuSystemMicros, report.lastNs - report.goNs));
    const first = reports[0];
    return {
      ok: true,
      published: published.sent,
      expected,
      delivered,
      lost: Math.max(0, expected - delivered),
      badBodies: reports.reduce((sum, report) => sum + report.badBodies, 0),
      seconds,
      deliveredPerSecond: delivered / seconds,
      publishedPerSecond: published.sent / ((published.endNs - published.startNs) / 1e9),
      brokerCpuSeconds: after.cpuSeconds - before.cpuSeconds,
      brokerCores: (after.cpuSeconds - before.cpuSeconds) / seconds,
      brokerPeakRssBytes: peakRss,
      publisherCores,
      subscriberCores: subscriberCores.reduce((sum, value) => sum + value, 0),
      busiestSubscriberCores: Math.max(...subscriberCores),
      // Over the whole measured interval (it includes the subscribers' idle wait when QoS 0 lost messages).
      machineCores: (machineAfter.busySeconds - machineBefore.busySeconds) / machineSeconds,
      stealCores: (machineAfter.stealSeconds - machineBefore.stealSeconds) / machineSeconds,
      ...(latency
        ? {
            lateSends: published.lateSends,
            windowStalls: published.windowStalls,
            ...(first?.latencyFromDue ? { latencyFromDue: first.latencyFromDue } : {}),
            ...(first?.latencyFromWrite ? { latencyFromWrite: first.latencyFromWrite } : {}),
          }
        : {}),
    };
  } catch (error) {
    await sampler.stop().catch(() => 0);
    await Promise.all(workers().map((worker) => worker.kill()));
    return failed(error, expected);
  } finally {
    // After a run they disconnect and exit by themselves; one that hangs is killed by its pid.
    await Promise.all(workers().map((worker) => withTimeout(worker.exited, 10_000, worker.label).catch(() => worker.kill())));
  }
}
