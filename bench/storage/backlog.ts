/**
 * The bounded-memory target: one durable queue holding a large backlog of persistent 1 KiB messages.
 * `fillBacklog` publishes it (every message confirmed durable) and reports the memory of the process
 * holding it, then waits to be killed with SIGKILL. `recoverBacklog` opens the broker on what is left
 * and times the recovery; with `drain` it consumes the whole queue, checking FIFO order and completeness.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Delivery } from '../../src/core/channel.js';
import type { Connection } from '../../src/core/connection.js';
import { createMessage } from '../../src/core/message/message.js';
import { collectGarbage, kernelPeakRss, memoryBreakdown, RssSampler, type MemoryBreakdown } from '../lib/memory.js';
import { runPipeline } from '../lib/pipeline.js';
import { bodyIsIntact, bodySequence, sequencedBody } from './body.js';
import { benchConnectionInfo, benchPrincipal, openFileBroker } from './file-broker.js';

export const BACKLOG_QUEUE = 'backlog';

export interface FillParams {
  readonly directory: string;
  readonly count: number;
  readonly window: number;
  readonly chunk: number;
}

export interface FillResult {
  readonly messages: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly commits: number;
  readonly queueDepth: number;
  /** Highest RSS sampled while publishing and holding the backlog. */
  readonly maxRss: number;
  /** Memory after a forced full GC (`gcForced` says whether --expose-gc allowed one). */
  readonly afterGc: MemoryBreakdown;
  readonly gcForced: boolean;
  readonly kernelPeakRss: number | undefined;
  readonly pid: number;
}

export async function fillBacklog(params: FillParams): Promise<FillResult> {
  const sampler = new RssSampler().start();
  const opened = await openFileBroker(params.directory, { mode: 'always' });
  const connection = opened.broker.connect(benchPrincipal, benchConnectionInfo);
  await connection.declareQueue({ name: BACKLOG_QUEUE, durable: true });
  let turns = 0;
  const outcome = await runPipeline({
    window: params.window,
    chunk: params.chunk,
    total: params.count,
    issue: (sequence) => {
      const published = connection.publish(createMessage({ routingKey: BACKLOG_QUEUE, body: sequencedBody(sequence), persistent: true }));
      if (published.routed !== 1) throw new Error(`message ${sequence} was routed to ${published.routed} queues`);
      return published.durable;
    },
    onTurn: () => {
      if (++turns % 16 === 0) sampler.sample();
    },
  });
  const queueDepth = (await connection.declareQueue({ name: BACKLOG_QUEUE }, true)).messageCount;
  sampler.sample();
  const gcForced = await collectGarbage();
  const afterGc = memoryBreakdown();
  // The broker stays open, holding the backlog, until the parent kills this process.
  return {
    messages: outcome.completed,
    seconds: outcome.seconds,
    perSecond: outcome.completed / outcome.seconds,
    commits: outcome.commits,
    queueDepth,
    maxRss: sampler.stop(),
    afterGc,
    gcForced,
    kernelPeakRss: await kernelPeakRss(),
    pid: process.pid,
  };
}

export interface RecoverParams {
  readonly directory: string;
  readonly count: number;
  /** Consume the whole queue after recovery (otherwise report and wait to be killed). */
  readonly drain: boolean;
  readonly prefetch: number;
  /** Fail when no delivery arrives for this long. */
  readonly stallMs: number;
}

export interface DrainResult {
  readonly messages: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly maxRss: number;
  readonly fifo: boolean;
  readonly firstViolation: string | undefined;
  readonly redelivered: number;
  readonly damagedBodies: number;
  readonly depthAfter: number;
  /** Bytes left in the queue's log directory once drained and closed (settled segments are deleted). */
  readonly logBytesAfter: number;
  readonly cpuCores: number;
}

export interface RecoverResult {
  readonly lockMs: number;
  readonly openMs: number;
  readonly queueDepth: number;
  readonly afterOpen: MemoryBreakdown;
  readonly afterOpenGc: MemoryBreakdown;
  readonly maxRssDuringOpen: number;
  readonly drain: DrainResult | undefined;
  readonly kernelPeakRss: number | undefined;
}

export async function recoverBacklog(params: RecoverParams): Promise<RecoverResult> {
  const sampler = new RssSampler().start(10);
  const opened = await openFileBroker(params.directory, { mode: 'always' });
  const afterOpen = memoryBreakdown();
  const maxRssDuringOpen = sampler.stop();
  await collectGarbage();
  const afterOpenGc = memoryBreakdown();
  const connection = opened.broker.connect(benchPrincipal, benchConnectionInfo);
  const queueDepth = (await connection.declareQueue({ name: BACKLOG_QUEUE }, true)).messageCount;
  let drain: DrainResult | undefined;
  if (params.drain) {
    drain = await drainQueue(params, opened.broker.connect(benchPrincipal, benchConnectionInfo));
    await opened.close();
    drain = { ...drain, logBytesAfter: await directoryBytes(join(params.directory, 'logs')) };
  }
  return {
    lockMs: opened.lockMs,
    openMs: opened.openMs,
    queueDepth,
    afterOpen,
    afterOpenGc,
    maxRssDuringOpen,
    drain,
    kernelPeakRss: await kernelPeakRss(),
  };
}

/** Consumes every message with one consumer, acking each turn's deliveries with one multiple-ack. */
function drainQueue(params: RecoverParams, connection: Connection): Promise<DrainResult> {
  const channel = connection.openChannel();
  const sampler = new RssSampler().start();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let received = 0;
  let expected = 0;
  let firstViolation: string | undefined;
  let redelivered = 0;
  let damagedBodies = 0;
  let lastTag = 0;
  let ackScheduled = false;
  let lastProgressAt = started;
  let lastProgressCount = 0;

  return new Promise<DrainResult>((resolve, reject) => {
    const watchdog = setInterval(() => {
      if (received !== lastProgressCount) {
        lastProgressCount = received;
        lastProgressAt = performance.now();
      } else if (performance.now() - lastProgressAt > params.stallMs) {
        clearInterval(watchdog);
        reject(new Error(`drain stalled at ${received} of ${params.count} messages`));
      }
    }, 1000);
    const finish = (): void => {
      clearInterval(watchdog);
      const seconds = (performance.now() - started) / 1000;
      const cpu = process.cpuUsage(cpuBefore);
      const maxRss = sampler.stop();
      const depthAfter = connection.declareQueue({ name: BACKLOG_QUEUE }, true);
      depthAfter.then(
        (declared) =>
          resolve({
            messages: received,
            seconds,
            perSecond: received / seconds,
            maxRss,
            fifo: firstViolation === undefined && received === params.count,
            firstViolation,
            redelivered,
            damagedBodies,
            depthAfter: declared.messageCount,
            logBytesAfter: 0,
            cpuCores: (cpu.user + cpu.system) / 1e6 / seconds,
          }),
        reject,
      );
    };
    const ack = (): void => {
      ackScheduled = false;
      channel.ack(lastTag, true);
      sampler.sample();
      if (received === params.count) finish();
    };
    connection.consume(channel, BACKLOG_QUEUE, { prefetch: params.prefetch }, {
      deliver: (delivery: Delivery) => {
        const sequence = bodySequence(delivery.message.body);
        if (sequence !== expected && firstViolation === undefined) {
          firstViolation = `delivery ${received} carried message ${sequence}, expected ${expected}`;
        }
        if (!bodyIsIntact(delivery.message.body)) damagedBodies += 1;
        if (delivery.redelivered) redelivered += 1;
        expected = sequence + 1;
        received += 1;
        lastTag = delivery.deliveryTag;
        if (!ackScheduled) {
          ackScheduled = true;
          setImmediate(ack);
        }
      },
    });
  });
}

async function directoryBytes(directory: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    total += entry.isDirectory() ? await directoryBytes(path) : (await stat(path)).size;
  }
  return total;
}
