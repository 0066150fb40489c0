/**
 * Load-generator AMQP publisher (a worker process, see worker-process.ts): `messages` messages to the
 * default exchange, routed to `queue`, from pre-encoded frames (basic.publish + content header + body).
 *
 * - Without confirms it writes one pre-built block of messages again and again, paced only by the
 *   socket's backpressure (RabbitMQ's credit flow and Courier's both end up there).
 * - With confirms (confirm.select) it writes batches of 256 and keeps at most `window` unconfirmed; the
 *   broker's basic.ack (single or `multiple`) settles them, a basic.nack fails the run. The run is over
 *   when every message is confirmed.
 */
import { fileURLToPath } from 'node:url';
import { AmqpBenchConnection, CHANNEL } from './amqp-connection.js';
import { FRAME_METHOD, M, encodeConfirmSelect, encodePublishFrames, encodeQueueDeclare, methodKey, readAck } from './amqp-wire.js';
import { nowNs, serveWorker, type Worker } from './worker-process.js';

export const AMQP_PUBLISHER_SCRIPT = fileURLToPath(import.meta.url);

export interface AmqpEndpoint {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly vhost: string;
}

export interface AmqpPublisherConfig extends AmqpEndpoint {
  readonly label: string;
  readonly queue: string;
  readonly durableQueue: boolean;
  /** Delivery mode 2. */
  readonly persistent: boolean;
  readonly confirms: boolean;
  readonly bodyBytes: number;
  readonly messages: number;
  /** Most unconfirmed messages at once (confirms only). */
  readonly window: number;
}

export interface AmqpPublisherReport {
  readonly sent: number;
  readonly confirmed: number;
  readonly nacked: number;
  /** CLOCK_MONOTONIC ns at `go`, and when the last message was written (no confirms) or confirmed. */
  readonly startNs: number;
  readonly endNs: number;
  readonly cpuUserMicros: number;
  readonly cpuSystemMicros: number;
}

const BLOCK_TARGET_BYTES = 64 * 1024;
const CONFIRM_BATCH = 256;

export async function createAmqpPublisher(config: AmqpPublisherConfig): Promise<Worker<AmqpPublisherReport>> {
  const connection = await AmqpBenchConnection.open(config.host, config.port, { ...config, label: config.label });
  await connection.call(encodeQueueDeclare(CHANNEL, config.queue, { durable: config.durableQueue }), 'queue.declare-ok', M.queueDeclareOk);
  if (config.confirms) await connection.call(encodeConfirmSelect(CHANNEL), 'confirm.select-ok', M.confirmSelectOk);
  const socket = connection.socket;
  const message = encodePublishFrames(CHANNEL, config.queue, Buffer.alloc(config.bodyBytes, 0x78), config.persistent);

  let sent = 0;
  let confirmed = 0;
  let nacked = 0;
  let startNs = 0;
  let cpuAtStart = process.cpuUsage();
  let finished = false;
  // Publish sequence numbers are 1..messages; a flag per number so a repeated confirm is not counted twice.
  const settled = new Uint8Array(config.confirms ? config.messages + 1 : 0);
  let settledThrough = 0;

  let resolveResult!: (report: AmqpPublisherReport) => void;
  let rejectResult!: (error: Error) => void;
  const result = new Promise<AmqpPublisherReport>((resolve, reject) => {
    resolveResult = resolve;
    rejectResult = reject;
  });
  connection.onFailure((error) => rejectResult(error));

  const finish = (): void => {
    if (finished) return;
    finished = true;
    const cpu = process.cpuUsage(cpuAtStart);
    resolveResult({ sent, confirmed, nacked, startNs, endNs: nowNs(), cpuUserMicros: cpu.user, cpuSystemMicros: cpu.system });
  };

  const settle = (tag: number): void => {
    if (tag < 1 || tag > config.messages || settled[tag] === 1) return;
    settled[tag] = 1;
    confirmed += 1;
  };

  let pump: () => void = () => undefined;
  if (config.confirms) {
    const ack = { tag: 0, multiple: false };
    connection.onFrame((type, _channel, data, start) => {
      if (type !== FRAME_METHOD) return;
      const key = methodKey(data, start);
      if (key !== M.basicAck && key !== M.basicNack) return;
      readAck(data, start, ack);
      if (key === M.basicNack) nacked += 1;
      if (ack.multiple) for (let tag = settledThrough + 1; tag <= ack.tag; tag++) settle(tag);
      else settle(ack.tag);
      while (settledThrough < config.messages && settled[settledThrough + 1] === 1) settledThrough += 1;
    });
    connection.onChunk(() => {
      if (nacked > 0) rejectResult(new Error(`${config.label}: the broker nacked ${nacked} publish(es)`));
      else pump();
    });
  }

  const unconfirmedBlock = (): void => {
    const perBlock = Math.max(1, Math.min(config.messages, Math.floor(BLOCK_TARGET_BYTES / message.length)));
    const block = Buffer.concat(new Array<Buffer>(perBlock).fill(message));
    const write = (): void => {
      while (sent < config.messages) {
        const count = Math.min(perBlock, config.messages - sent);
        sent += count;
        const last = sent === config.messages;
        const more = socket.write(count === perBlock ? block : block.subarray(0, count * message.length), last ? () => finish() : undefined);
        if (!more && !last) {
          socket.once('drain', write);
          return;
        }
      }
    };
    write();
  };

  const confirmedBatches = (): void => {
    const batch = Buffer.concat(new Array<Buffer>(Math.min(CONFIRM_BATCH, config.messages)).fill(message));
    pump = () => {
      if (confirmed === config.messages) {
        finish();
        return;
      }
      // Whole batches (but the last) while the window has room: one write per batch, not per message.
      for (;;) {
        const wanted = Math.min(CONFIRM_BATCH, config.messages - sent);
        if (wanted <= 0 || config.window - (sent - confirmed) < wanted) return;
        sent += wanted;
        socket.write(wanted === CONFIRM_BATCH ? batch : batch.subarray(0, wanted * message.length));
      }
    };
    pump();
  };

  return {
    go: () => {
      cpuAtStart = process.cpuUsage();
      startNs = nowNs();
      if (config.confirms) confirmedBatches();
      else unconfirmedBlock();
    },
    publishersDone: () => undefined,
    result,
    close: () => connection.close(),
  };
}

if (process.argv[1] === AMQP_PUBLISHER_SCRIPT) serveWorker(createAmqpPublisher);
