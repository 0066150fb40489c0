/**
 * Load-generator STOMP publisher (a worker process, see worker-process.ts): `messages` SEND frames to
 * `destination`, pre-encoded. Every `receiptEvery`-th frame (and the last) carries a `receipt` header,
 * and at most `window` messages may be sent and not yet covered by a RECEIPT: a publisher that wants to
 * know its messages arrived, without a round trip per message. Both brokers send receipts in frame order
 * (STOMP 1.2, "RECEIPT"), so one receipt covers its batch and every one before it. The run is over when
 * the last receipt arrives.
 */
import { fileURLToPath } from 'node:url';
import { C_RECEIPT, StompBenchConnection, encodeFrame, type StompEndpoint } from './stomp-wire.js';
import { nowNs, serveWorker, type Worker } from './worker-process.js';

export const STOMP_PUBLISHER_SCRIPT = fileURLToPath(import.meta.url);

export interface StompPublisherConfig extends StompEndpoint {
  readonly label: string;
  readonly destination: string;
  readonly bodyBytes: number;
  readonly messages: number;
  /** A receipt on every N-th SEND. */
  readonly receiptEvery: number;
  /** Most messages not yet covered by a receipt. */
  readonly window: number;
}

export interface StompPublisherReport {
  readonly sent: number;
  readonly receipted: number;
  /** CLOCK_MONOTONIC ns at `go` and at the last receipt. */
  readonly startNs: number;
  readonly endNs: number;
  readonly cpuUserMicros: number;
  readonly cpuSystemMicros: number;
}

export async function createStompPublisher(config: StompPublisherConfig): Promise<Worker<StompPublisherReport>> {
  const connection = await StompBenchConnection.open(config, config.label);
  const socket = connection.socket;
  const body = Buffer.alloc(config.bodyBytes, 0x78);
  const batchSize = Math.max(1, Math.min(config.receiptEvery, config.messages));
  // A batch is batchSize - 1 plain frames and one with a receipt; the plain part is one pre-built block.
  const plain = encodeFrame('SEND', { destination: config.destination }, body);
  const plainBlock = Buffer.concat(new Array<Buffer>(batchSize - 1).fill(plain));
  const withReceipt = (batch: number): Buffer => encodeFrame('SEND', { destination: config.destination, receipt: String(batch) }, body);

  let sent = 0;
  let receipted = 0;
  let batchesSent = 0;
  let receipts = 0;
  let startNs = 0;
  let cpuAtStart = process.cpuUsage();
  let finished = false;
  // Messages covered by the receipt of each batch, in send order.
  const batchEnds: number[] = [];

  let resolveResult!: (report: StompPublisherReport) => void;
  let rejectResult!: (error: Error) => void;
  const result = new Promise<StompPublisherReport>((resolve, reject) => {
    resolveResult = resolve;
    rejectResult = reject;
  });
  connection.onFailure((error) => rejectResult(error));

  const finish = (): void => {
    if (finished) return;
    finished = true;
    const cpu = process.cpuUsage(cpuAtStart);
    resolveResult({ sent, receipted, startNs, endNs: nowNs(), cpuUserMicros: cpu.user, cpuSystemMicros: cpu.system });
  };

  const pump = (): void => {
    if (receipted >= config.messages) {
      finish();
      return;
    }
    for (;;) {
      const count = Math.min(batchSize, config.messages - sent);
      if (count <= 0 || config.window - (sent - receipted) < count) return;
      socket.cork();
      if (count > 1) socket.write(count === batchSize ? plainBlock : plainBlock.subarray(0, (count - 1) * plain.length));
      socket.write(withReceipt(batchesSent));
      socket.uncork();
      sent += count;
      batchesSent += 1;
      batchEnds.push(sent);
    }
  };

  connection.onFrame((command) => {
    if (command !== C_RECEIPT) return;
    receipted = batchEnds[receipts] ?? receipted;
    receipts += 1;
  });
  connection.onChunk(pump);

  return {
    go: () => {
      cpuAtStart = process.cpuUsage();
      startNs = nowNs();
      pump();
    },
    publishersDone: () => undefined,
    result,
    close: () => connection.close(),
  };
}

if (process.argv[1] === STOMP_PUBLISHER_SCRIPT) serveWorker(createStompPublisher);
