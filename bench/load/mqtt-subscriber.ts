/**
 * Load-generator subscriber (a worker process, see worker-process.ts): `connections` MQTT connections
 * subscribed to one topic, counting what arrives. QoS 1 deliveries are acknowledged with one write of
 * PUBACKs per chunk read. The clock is read once per chunk, not per message: all frames of a chunk
 * arrived together. With `latency`, each payload's due and write times (see mqtt-publisher.ts) give the
 * latency from the schedule and from the actual write.
 *
 * It is done when every connection has its `expectedPerConnection` messages, or, after the harness says
 * every publisher has finished, when nothing has arrived for `idleMs` (QoS 0 may lose messages).
 */
import { fileURLToPath } from 'node:url';
import { BenchConnection } from './mqtt-connection.js';
import { PACKET_PUBLISH, readPublish, type PublishView } from './mqtt-wire.js';
import { summariseLatencies, type LatencySummary } from './stats.js';
import { nowNs, serveWorker, watchUntilIdle, type Worker } from './worker-process.js';

export const SUBSCRIBER_SCRIPT = fileURLToPath(import.meta.url);

export interface SubscriberConfig {
  readonly host: string;
  readonly port: number;
  readonly clientIdPrefix: string;
  readonly connections: number;
  readonly topic: string;
  readonly qos: 0 | 1;
  readonly bodyBytes: number;
  readonly expectedPerConnection: number;
  readonly idleMs: number;
  /** Clean session 0 (a persistent session); default clean. */
  readonly persistentSession?: boolean;
  /** Measure latency from the payload's timestamps, leaving out the first `warmupMessages` per connection. */
  readonly latency?: { readonly warmupMessages: number };
}

export interface SubscriberReport {
  readonly received: number;
  readonly perConnectionMin: number;
  readonly perConnectionMax: number;
  /** Deliveries whose body was not `bodyBytes` long. */
  readonly badBodies: number;
  /** CLOCK_MONOTONIC ns of the first and last chunk that carried a message. */
  readonly firstNs: number;
  readonly lastNs: number;
  readonly goNs: number;
  readonly doneNs: number;
  readonly cpuUserMicros: number;
  readonly cpuSystemMicros: number;
  /** Whether it stopped on the idle timeout rather than with everything received. */
  readonly timedOut: boolean;
  /** Microseconds, from the due time (coordinated-omission safe) and from the write time. */
  readonly latencyFromDue?: LatencySummary;
  readonly latencyFromWrite?: LatencySummary;
}

export async function createSubscriber(config: SubscriberConfig): Promise<Worker<SubscriberReport>> {
  const connections: BenchConnection[] = [];
  const counts = new Array<number>(config.connections).fill(0);
  let complete = 0;
  let received = 0;
  let badBodies = 0;
  let firstNs = 0;
  let lastNs = 0;
  let goNs = 0;
  let cpuAtStart = process.cpuUsage();
  let finished = false;
  let idleTimer: NodeJS.Timeout | undefined;

  const samples = config.latency ? Math.max(0, config.expectedPerConnection - config.latency.warmupMessages) * config.connections : 0;
  const fromDue = new Float64Array(samples);
  const fromWrite = new Float64Array(samples);
  let recorded = 0;

  let resolveResult!: (report: SubscriberReport) => void;
  let rejectResult!: (error: Error) => void;
  const result = new Promise<SubscriberReport>((resolve, reject) => {
    resolveResult = resolve;
    rejectResult = reject;
  });

  const finish = (timedOut: boolean): void => {
    if (finished) return;
    finished = true;
    if (idleTimer) clearInterval(idleTimer);
    const doneNs = nowNs();
    const cpu = process.cpuUsage(cpuAtStart);
    resolveResult({
      received,
      perConnectionMin: Math.min(...counts),
      perConnectionMax: Math.max(...counts),
      badBodies,
      firstNs,
      lastNs,
      goNs,
      doneNs,
      cpuUserMicros: cpu.user,
      cpuSystemMicros: cpu.system,
      timedOut,
      ...(config.latency
        ? {
            latencyFromDue: summariseLatencies(fromDue.subarray(0, recorded)),
            latencyFromWrite: summariseLatencies(fromWrite.subarray(0, recorded)),
          }
        : {}),
    });
  };

  for (let index = 0; index < config.connections; index++) {
    const connection = await BenchConnection.open(config.host, config.port, {
      clientId: `${config.clientIdPrefix}-${index}`,
      cleanSession: config.persistentSession !== true,
      keepAliveSeconds: 0,
    });
    connection.onFailure((error) => rejectResult(error));
    await connection.subscribe(config.topic, config.qos);
    connections.push(connection);

    const view: PublishView = { qos: 0, packetId: 0, payloadStart: 0 };
    let chunkNs = 0;
    let acks = Buffer.allocUnsafe(4 * 1024);
    let ackBytes = 0;
    connection.onChunk(
      () => {
        chunkNs = nowNs();
      },
      () => {
        if (ackBytes > 0) {
          connection.socket.write(Buffer.from(acks.subarray(0, ackBytes)));
          ackBytes = 0;
        }
      },
    );
    connection.onFrame((header, data, start, end) => {
      if (header >> 4 !== PACKET_PUBLISH) return;
      readPublish(header, data, start, view);
      if (view.qos > 0) {
        if (ackBytes + 4 > acks.length) {
          const grown = Buffer.allocUnsafe(acks.length * 2);
          acks.copy(grown, 0, 0, ackBytes);
          acks = grown;
        }
        acks[ackBytes] = 0x40;
        acks[ackBytes + 1] = 0x02;
        acks.writeUInt16BE(view.packetId, ackBytes + 2);
        ackBytes += 4;
      }
      if (end - view.payloadStart !== config.bodyBytes) badBodies += 1;
      if (firstNs === 0) firstNs = chunkNs;
      lastNs = chunkNs;
      received += 1;
      const count = (counts[index] = counts[index]! + 1);
      if (config.latency && count > config.latency.warmupMessages && recorded < samples && end - view.payloadStart >= 16) {
        fromDue[recorded] = (chunkNs - data.readDoubleBE(view.payloadStart)) / 1000;
        fromWrite[recorded] = (chunkNs - data.readDoubleBE(view.payloadStart + 8)) / 1000;
        recorded += 1;
      }
      if (count === config.expectedPerConnection) {
        complete += 1;
        if (complete === config.connections) setImmediate(() => finish(false));
      }
    });
  }

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
    close: async () => {
      await Promise.all(connections.map((connection) => connection.close()));
    },
  };
}

if (process.argv[1] === SUBSCRIBER_SCRIPT) serveWorker(createSubscriber);
