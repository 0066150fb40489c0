/**
 * Load-generator STOMP consumer (a worker process, see worker-process.ts): one connection, one
 * SUBSCRIBE with `ack:client` and `prefetch-count` (RabbitMQ's header; Courier reads the same one),
 * counting MESSAGE frames and checking body sizes. `client` acks are cumulative within the subscription
 * (STOMP 1.2, "SUBSCRIBE ack Header"), so it sends one ACK per socket read, naming the read's last
 * MESSAGE: one small write per read, not one per message.
 *
 * Subscribed (SUBSCRIBE with a receipt) before `ready`. Done when `expected` messages arrived, or, once the
 * harness says every publisher has finished, when nothing has arrived for `idleMs`.
 */
import { fileURLToPath } from 'node:url';
import { C_MESSAGE, C_RECEIPT, StompBenchConnection, encodeFrame, headerValue, type StompEndpoint } from './stomp-wire.js';
import { nowNs, serveWorker, watchUntilIdle, type Worker } from './worker-process.js';

export const STOMP_CONSUMER_SCRIPT = fileURLToPath(import.meta.url);

export interface StompConsumerConfig extends StompEndpoint {
  readonly label: string;
  readonly destination: string;
  readonly prefetch: number;
  readonly bodyBytes: number;
  readonly expected: number;
  readonly idleMs: number;
}

export interface StompConsumerReport {
  readonly received: number;
  readonly badBodies: number;
  readonly acks: number;
  readonly goNs: number;
  readonly firstNs: number;
  readonly lastNs: number;
  readonly cpuUserMicros: number;
  readonly cpuSystemMicros: number;
  readonly timedOut: boolean;
}

export async function createStompConsumer(config: StompConsumerConfig): Promise<Worker<StompConsumerReport>> {
  const connection = await StompBenchConnection.open(config, config.label);
  const subscribe = encodeFrame('SUBSCRIBE', { id: '0', destination: config.destination, ack: 'client', 'prefetch-count': String(config.prefetch), receipt: 'subscribed' });
  await connection.expect(
    () => connection.socket.write(subscribe),
    (command, data, headStart, headEnd) => command === C_RECEIPT && headerValue(data, headStart, headEnd, 'receipt-id') === 'subscribed',
    'SUBSCRIBE receipt',
  );

  let received = 0;
  let badBodies = 0;
  let acks = 0;
  let goNs = 0;
  let firstNs = 0;
  let lastNs = 0;
  let cpuAtStart = process.cpuUsage();
  let finished = false;
  let idleTimer: NodeJS.Timeout | undefined;
  let lastAckId: string | undefined;

  let resolveResult!: (report: StompConsumerReport) => void;
  let rejectResult!: (error: Error) => void;
  const result = new Promise<StompConsumerReport>((resolve, reject) => {
    resolveResult = resolve;
    rejectResult = reject;
  });
  connection.onFailure((error) => rejectResult(error));

  const finish = (timedOut: boolean): void => {
    if (finished) return;
    finished = true;
    if (idleTimer) clearInterval(idleTimer);
    const cpu = process.cpuUsage(cpuAtStart);
    resolveResult({ received, badBodies, acks, goNs, firstNs, lastNs, cpuUserMicros: cpu.user, cpuSystemMicros: cpu.system, timedOut });
  };

  connection.onFrame((command, data, headStart, headEnd, bodyStart, bodyEnd) => {
    if (command !== C_MESSAGE) return;
    received += 1;
    if (bodyEnd - bodyStart !== config.bodyBytes) badBodies += 1;
    lastAckId = headerValue(data, headStart, headEnd, 'ack');
  });
  connection.onChunk(() => {
    if (lastAckId === undefined) return;
    const now = nowNs();
    if (firstNs === 0) firstNs = now;
    lastNs = now;
    connection.socket.write(`ACK\nid:${lastAckId}\n\n\0`);
    acks += 1;
    lastAckId = undefined;
    if (received >= config.expected) setImmediate(() => finish(false));
  });

  return {
    go: () => {
      cpuAtStart = process.cpuUsage();
      goNs = nowNs();
    },
    publishersDone: () => {
      if (finished) return;
      idleTimer = watchUntilIdle(() => received, config.idleMs, () => finish(true));
    },
    result,
    close: () => connection.close(),
  };
}

if (process.argv[1] === STOMP_CONSUMER_SCRIPT) serveWorker(createStompConsumer);
