/**
 * Load-generator publisher (a worker process, see worker-process.ts). Two modes:
 *
 * - throughput: `messages` PUBLISH frames as fast as the broker takes them. The frame is encoded once;
 *   QoS 0 writes one pre-built block of frames again and again, paced only by the socket's backpressure;
 *   QoS 1 copies a block, patches packet ids in, and keeps at most `window` unacknowledged.
 * - paced (`ratePerSecond`): a fixed schedule, message i due at start + i / rate. Each payload carries the
 *   time it was due and the time it was written (CLOCK_MONOTONIC nanoseconds, shared by every process on
 *   the machine), so the subscriber measures latency from the schedule: when the broker (or anything)
 *   stalls, the messages that should have gone out meanwhile count their wait, which is what avoids
 *   coordinated omission. Waits shorter than a timer tick use Atomics.wait, which sleeps without spinning.
 */
import { fileURLToPath } from 'node:url';
import { BenchConnection } from './mqtt-connection.js';
import { PACKET_PUBACK, encodePublish } from './mqtt-wire.js';
import { nowNs, serveWorker, type Worker } from './worker-process.js';

export const PUBLISHER_SCRIPT = fileURLToPath(import.meta.url);

/** Bytes at the start of a paced payload: due time and write time, float64 nanoseconds each. */
export const PACED_HEADER_BYTES = 16;

export interface PublisherConfig {
  readonly host: string;
  readonly port: number;
  readonly clientId: string;
  readonly topic: string;
  readonly qos: 0 | 1;
  readonly bodyBytes: number;
  readonly messages: number;
  /** Most QoS 1 messages unacknowledged at once. */
  readonly window: number;
  /** Paced mode: messages per second on a fixed schedule. */
  readonly ratePerSecond?: number;
}

export interface PublisherReport {
  readonly sent: number;
  readonly acked: number;
  /** CLOCK_MONOTONIC ns when `go` arrived, and when the last message was written (QoS 0) or acknowledged (QoS 1). */
  readonly startNs: number;
  readonly endNs: number;
  readonly cpuUserMicros: number;
  readonly cpuSystemMicros: number;
  /** Paced mode: messages written more than 1 ms after they were due (the generator fell behind). */
  readonly lateSends: number;
  /** Paced mode, QoS 1: times the window was full when a message was due. */
  readonly windowStalls: number;
}

const BLOCK_TARGET_BYTES = 64 * 1024;
const QOS1_BATCH = 256;

function blockOf(frame: Buffer, frames: number): Buffer {
  const block = Buffer.allocUnsafe(frame.length * frames);
  for (let i = 0; i < frames; i++) frame.copy(block, i * frame.length);
  return block;
}

export async function createPublisher(config: PublisherConfig): Promise<Worker<PublisherReport>> {
  if (config.ratePerSecond !== undefined && config.bodyBytes < PACED_HEADER_BYTES) {
    throw new RangeError(`paced bodies need at least ${PACED_HEADER_BYTES} bytes`);
  }
  const connection = await BenchConnection.open(config.host, config.port, {
    clientId: config.clientId,
    cleanSession: true,
    keepAliveSeconds: 0,
  });
  const socket = connection.socket;
  const body = Buffer.alloc(config.bodyBytes, 0x78);
  const { frame, layout } = encodePublish(config.topic, body, config.qos, 1);
  const frameLength = layout.frameLength;

  let sent = 0;
  let acked = 0;
  let inflight = 0;
  let startNs = 0;
  let cpuAtStart = process.cpuUsage();
  let lateSends = 0;
  let windowStalls = 0;
  let finished = false;
  // Packet ids 1..65535, handed out in turn; a flag per id so a duplicate or stray PUBACK is not counted.
  const unacked = new Uint8Array(65_536);
  let nextId = 1;

  let resolveResult!: (report: PublisherReport) => void;
  let rejectResult!: (error: Error) => void;
  const result = new Promise<PublisherReport>((resolve, reject) => {
    resolveResult = resolve;
    rejectResult = reject;
  });
  connection.onFailure((error) => rejectResult(error));

  const finish = (): void => {
    if (finished) return;
    finished = true;
    const endNs = nowNs();
    const cpu = process.cpuUsage(cpuAtStart);
    resolveResult({ sent, acked, startNs, endNs, cpuUserMicros: cpu.user, cpuSystemMicros: cpu.system, lateSends, windowStalls });
  };

  /** Takes the next free packet id, or 0 when the next one in turn is still unacknowledged. */
  const takeId = (): number => {
    const id = nextId;
    if (unacked[id] === 1) return 0;
    unacked[id] = 1;
    nextId = id === 65_535 ? 1 : id + 1;
    return id;
  };

  let onAcked: () => void = () => undefined;
  if (config.qos === 1) {
    connection.onFrame((header, data, start) => {
      if (header >> 4 !== PACKET_PUBACK) return;
      const id = data.readUInt16BE(start);
      if (unacked[id] !== 1) return;
      unacked[id] = 0;
      inflight -= 1;
      acked += 1;
    });
    connection.onChunk(undefined, () => onAcked());
  }

  // --- throughput, QoS 0: the same block of frames, written until the count is reached.
  const throughputQos0 = (): void => {
    const framesPerBlock = Math.max(1, Math.min(config.messages, Math.floor(BLOCK_TARGET_BYTES / frameLength)));
    const block = blockOf(frame, framesPerBlock);
    const pump = (): void => {
      while (sent < config.messages) {
        const count = Math.min(framesPerBlock, config.messages - sent);
        sent += count;
        const last = sent === config.messages;
        const chunk = count === framesPerBlock ? block : block.subarray(0, count * frameLength);
        const more = socket.write(chunk, last ? () => finish() : undefined);
        if (!more && !last) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    pump();
  };

  // --- throughput, QoS 1: batches copied from a block template, ids patched in, bounded by the window.
  const throughputQos1 = (): void => {
    const block = blockOf(frame, Math.min(QOS1_BATCH, config.messages));
    const pump = (): void => {
      if (acked === config.messages) {
        finish();
        return;
      }
      // Whole batches only (but the last): refilling the window one acknowledgement at a time would cost
      // a write per message here and a wake-up per message in the broker.
      const wanted = Math.min(QOS1_BATCH, config.messages - sent);
      if (wanted <= 0 || config.window - inflight < wanted) return;
      let count = wanted;
      const batch = Buffer.allocUnsafe(count * frameLength);
      block.copy(batch, 0, 0, count * frameLength);
      for (let i = 0; i < count; i++) {
        const id = takeId();
        if (id === 0) {
          count = i;
          break;
        }
        batch.writeUInt16BE(id, i * frameLength + layout.packetIdOffset);
      }
      if (count === 0) return;
      sent += count;
      inflight += count;
      socket.write(count * frameLength === batch.length ? batch : batch.subarray(0, count * frameLength));
    };
    onAcked = pump;
    pump();
  };

  // --- paced: one frame per due message, stamped with its due time and its write time.
  const paced = (rate: number): void => {
    const intervalNs = 1e9 / rate;
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    let waitingForWindow = false;
    const sendDue = (): void => {
      let now = nowNs();
      while (sent < config.messages) {
        const dueNs = startNs + sent * intervalNs;
        if (dueNs > now) return;
        let id = 0;
        if (config.qos === 1) {
          if (inflight >= config.window || (id = takeId()) === 0) {
            if (!waitingForWindow) windowStalls += 1;
            waitingForWindow = true;
            return;
          }
          waitingForWindow = false;
          inflight += 1;
        }
        const out = Buffer.from(frame);
        if (id !== 0) out.writeUInt16BE(id, layout.packetIdOffset);
        now = nowNs();
        if (now - dueNs > 1e6) lateSends += 1;
        out.writeDoubleBE(dueNs, layout.payloadOffset);
        out.writeDoubleBE(now, layout.payloadOffset + 8);
        socket.write(out);
        sent += 1;
      }
    };
    const tick = (): void => {
      if (finished) return;
      sendDue();
      if (sent === config.messages) {
        if (config.qos === 0) socket.write(Buffer.alloc(0), () => finish());
        else if (acked === config.messages) finish();
        return;
      }
      if (waitingForWindow) return; // an acknowledgement calls tick again
      const waitNs = startNs + sent * intervalNs - nowNs();
      if (waitNs > 2e6) {
        setTimeout(tick, Math.floor(waitNs / 1e6) - 1);
        return;
      }
      if (waitNs > 0) Atomics.wait(sleeper, 0, 0, waitNs / 1e6);
      setImmediate(tick);
    };
    onAcked = () => {
      if (sent === config.messages && acked === config.messages) finish();
      else if (waitingForWindow) tick();
    };
    tick();
  };

  return {
    go: () => {
      cpuAtStart = process.cpuUsage();
      startNs = nowNs();
      if (config.ratePerSecond !== undefined) paced(config.ratePerSecond);
      else if (config.qos === 0) throughputQos0();
      else throughputQos1();
    },
    publishersDone: () => undefined,
    result,
    close: () => connection.close(),
  };
}

if (process.argv[1] === PUBLISHER_SCRIPT) serveWorker(createPublisher);
