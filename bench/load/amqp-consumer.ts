/**
 * Load-generator AMQP consumer (a worker process, see worker-process.ts): one connection, basic.qos
 * prefetch, basic.consume with explicit acks, counting deliveries and checking body sizes. It acks with
 * one `multiple` basic.ack per socket read (the last delivery tag of the read), so acking costs one
 * small write per read, not one per message.
 *
 * It consumes from set-up on (throughput: the queue starts empty), or only from `go` (`consumeOnGo`, the
 * backlog drain). It is done when `expected` messages arrived, or, once the harness says every publisher
 * has finished, when nothing has arrived for `idleMs`.
 */
import { fileURLToPath } from 'node:url';
import { AmqpBenchConnection, CHANNEL } from './amqp-connection.js';
import type { AmqpEndpoint } from './amqp-publisher.js';
import {
  ACK_TAG_OFFSET,
  FRAME_BODY,
  FRAME_HEADER,
  FRAME_METHOD,
  M,
  encodeBasicAck,
  encodeBasicConsume,
  encodeBasicQos,
  encodeQueueDeclare,
  methodKey,
  readBodySize,
  readDeliveryTag,
} from './amqp-wire.js';
import { nowNs, serveWorker, watchUntilIdle, type Worker } from './worker-process.js';

export const AMQP_CONSUMER_SCRIPT = fileURLToPath(import.meta.url);

export interface AmqpConsumerConfig extends AmqpEndpoint {
  readonly label: string;
  readonly queue: string;
  readonly durableQueue: boolean;
  readonly prefetch: number;
  readonly bodyBytes: number;
  readonly expected: number;
  readonly idleMs: number;
  readonly consumeOnGo: boolean;
}

export interface AmqpConsumerReport {
  readonly received: number;
  readonly badBodies: number;
  /** CLOCK_MONOTONIC ns at `go`, of the first and the last read that completed a message. */
  readonly goNs: number;
  readonly firstNs: number;
  readonly lastNs: number;
  readonly cpuUserMicros: number;
  readonly cpuSystemMicros: number;
  readonly timedOut: boolean;
}

export async function createAmqpConsumer(config: AmqpConsumerConfig): Promise<Worker<AmqpConsumerReport>> {
  const connection = await AmqpBenchConnection.open(config.host, config.port, { ...config, label: config.label });
  await connection.call(encodeQueueDeclare(CHANNEL, config.queue, { durable: config.durableQueue }), 'queue.declare-ok', M.queueDeclareOk);
  await connection.call(encodeBasicQos(CHANNEL, config.prefetch), 'basic.qos-ok', M.basicQosOk);
  const consumeFrame = encodeBasicConsume(CHANNEL, config.queue, `bench-${process.pid}`);
  // Throughput: subscribed before `go` (consume-ok precedes any delivery, and the queue is empty anyway).
  if (!config.consumeOnGo) await connection.call(consumeFrame, 'basic.consume-ok', M.basicConsumeOk);

  let received = 0;
  let badBodies = 0;
  let goNs = 0;
  let firstNs = 0;
  let lastNs = 0;
  let cpuAtStart = process.cpuUsage();
  let finished = false;
  let idleTimer: NodeJS.Timeout | undefined;
  // The delivery being assembled from its method, header and body frames.
  let bodySize = -1;
  let bodySeen = 0;
  let lastTag = 0;
  let ackedTag = 0;
  let completedInChunk = false;
  const ackTemplate = encodeBasicAck(CHANNEL, 0, true);

  let resolveResult!: (report: AmqpConsumerReport) => void;
  let rejectResult!: (error: Error) => void;
  const result = new Promise<AmqpConsumerReport>((resolve, reject) => {
    resolveResult = resolve;
    rejectResult = reject;
  });
  connection.onFailure((error) => rejectResult(error));

  const finish = (timedOut: boolean): void => {
    if (finished) return;
    finished = true;
    if (idleTimer) clearInterval(idleTimer);
    const cpu = process.cpuUsage(cpuAtStart);
    resolveResult({ received, badBodies, goNs, firstNs, lastNs, cpuUserMicros: cpu.user, cpuSystemMicros: cpu.system, timedOut });
  };

  const completed = (): void => {
    if (bodySeen !== config.bodyBytes) badBodies += 1;
    bodySize = -1;
    received += 1;
    completedInChunk = true;
  };

  connection.onFrame((type, _channel, data, start, end) => {
    if (type === FRAME_METHOD) {
      if (methodKey(data, start) === M.basicDeliver) {
        lastTag = readDeliveryTag(data, start);
        bodySize = -1;
      }
    } else if (type === FRAME_HEADER) {
      bodySize = readBodySize(data, start);
      bodySeen = 0;
      if (bodySize === 0) completed();
    } else if (type === FRAME_BODY && bodySize >= 0) {
      bodySeen += end - start;
      if (bodySeen >= bodySize) completed();
    }
  });
  connection.onChunk(() => {
    if (completedInChunk) {
      completedInChunk = false;
      const now = nowNs();
      if (firstNs === 0) firstNs = now;
      lastNs = now;
    }
    if (lastTag > ackedTag) {
      const ack = Buffer.from(ackTemplate);
      ack.writeUInt32BE(Math.floor(lastTag / 0x1_0000_0000), ACK_TAG_OFFSET);
      ack.writeUInt32BE(lastTag % 0x1_0000_0000, ACK_TAG_OFFSET + 4);
      connection.socket.write(ack);
      ackedTag = lastTag;
    }
    if (received >= config.expected) setImmediate(() => finish(false));
  });

  return {
    go: () => {
      cpuAtStart = process.cpuUsage();
      goNs = nowNs();
      // The drain: deliveries follow consume-ok at once, so the frame handler above takes everything.
      if (config.consumeOnGo) connection.socket.write(consumeFrame);
    },
    publishersDone: () => {
      if (finished) return;
      idleTimer = watchUntilIdle(() => received, config.idleMs, () => finish(true));
    },
    result,
    close: () => connection.close(),
  };
}

if (process.argv[1] === AMQP_CONSUMER_SCRIPT) serveWorker(createAmqpConsumer);
