/**
 * Child program of the crash tests (not a test file): a broker embedded in a process that the parent test
 * kills with SIGKILL. It opens the data directory like `courier serve` does (lock, file log store, file
 * metadata store, fsync `always`), declares the durable queue `crash` and publishes persistent messages
 * numbered 0, 1, 2... as fast as group commit lets it, many in flight.
 *
 *   node confirmed-publisher.js <data-dir> <publish | publish-consume> <journal-file>
 *
 * stdout, one event kind per line, each line written only after what it states is durable:
 *   ready <first-seq>     the broker is open; publishing starts at <first-seq>
 *   c <seq> <seq> ...     publishes confirmed (their `durable` promise resolved)
 *   d <seq> ...           (publish-consume) deliveries whose delivery record was covered by a flush
 *   a <seq> ...           (publish-consume) acks covered by a flush
 *   damage <json>         a CorruptionReport of the file store
 *   error <text>          the child found something wrong itself
 *
 * The journal file gets the opposite kind of statement, written synchronously *before* the action so that it
 * survives the kill even when the action's effect might have reached the disk: `D <seq>` before a delivery
 * can be recorded, `A <seq>` before an ack up to <seq> is issued. The parent bounds what may be missing after
 * recovery with it.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Broker } from '../../src/core/broker.js';
import type { Delivery } from '../../src/core/channel.js';
import type { Connection } from '../../src/core/connection.js';
import { createMessage } from '../../src/core/message/message.js';
import type { Queue } from '../../src/core/queue/queue.js';
import { acquireDataDirLock, FileLogStore, FileMetadataStore, MemoryLogStore } from '../../src/storage/index.js';
import { crashQueue, decodeSeq, encodeSeq, LOGS_DIRECTORY, METADATA_FILE } from './crash-protocol.js';

/** Unconfirmed publishes allowed at once: enough that every group commit covers many messages. */
const MAX_IN_FLIGHT = 2000;
/** Publishes per event-loop turn, so confirmations and stdout get their turns too. */
const PUBLISHES_PER_TURN = 250;
const CONSUMER_PREFETCH = 200;
/** The parent kills the child long before this; the limit only stops an orphan. */
const SELF_DESTRUCT_MS = 120_000;

const [dataDir, mode, journalPath] = process.argv.slice(2);
if (!dataDir || (mode !== 'publish' && mode !== 'publish-consume') || !journalPath) {
  process.stderr.write('usage: confirmed-publisher <data-dir> <publish | publish-consume> <journal-file>\n');
  process.exit(2);
}

function fail(text: string): never {
  process.stdout.write(`error ${text}\n`);
  process.exit(1);
}

/** Collects numbers during a turn and writes them as one line at the next turn (batched stdout writes). */
class LineBatch {
  private values: number[] = [];
  private scheduled = false;
  constructor(private readonly prefix: string) {}

  add(values: readonly number[]): void {
    for (const value of values) this.values.push(value);
    if (this.scheduled || this.values.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const line = `${this.prefix} ${this.values.join(' ')}\n`;
      this.values = [];
      process.stdout.write(line);
    });
  }
}

async function run(): Promise<void> {
  setTimeout(() => fail('still running after the self-destruct limit'), SELF_DESTRUCT_MS).unref();
  // The parent reading our stdout went away: nobody can kill us any more, so stop.
  process.stdout.on('error', () => process.exit(3));
  const journal = openSync(journalPath!, 'a');
  process.on('exit', () => closeSync(journal));

  await acquireDataDirLock(dataDir!);
  const broker = await Broker.open({
    logStore: new FileLogStore({
      directory: join(dataDir!, LOGS_DIRECTORY),
      onCorruption: (report) => process.stdout.write(`damage ${JSON.stringify(report)}\n`),
    }),
    transientLogStore: new MemoryLogStore(),
    metadataStore: new FileMetadataStore({ path: join(dataDir!, METADATA_FILE) }),
    fsync: { mode: 'always' },
    // Small segments, so a run rolls, seals and (while consuming) deletes segments.
    segmentBytes: 64 * 1024,
  });
  const connection = broker.connect({ username: 'crash-test', tags: [] }, { protocol: 'crash-test', remoteAddress: '127.0.0.1' });
  const declared = await connection.declareQueue({ name: crashQueue, durable: true });
  const queue = broker.getQueue(crashQueue)!;
  // Without consumers nothing is ever settled, so the recovered backlog is exactly the messages 0..n-1.
  if (mode === 'publish-consume' && declared.messageCount !== 0) fail('publish-consume needs an empty queue');
  const firstSeq = declared.messageCount;
  process.stdout.write(`ready ${firstSeq}\n`);

  const confirmed = new LineBatch('c');
  let nextSeq = firstSeq;
  let inFlight = 0;
  let publishing = false;
  const publishSome = (): void => {
    publishing = false;
    for (let i = 0; i < PUBLISHES_PER_TURN && inFlight < MAX_IN_FLIGHT; i++) {
      const seq = nextSeq++;
      const outcome = connection.publish(createMessage({ routingKey: crashQueue, persistent: true, body: encodeSeq(seq) }));
      if (outcome.routed !== 1 || outcome.rejected) fail(`publish ${seq} was not stored: ${JSON.stringify(outcome)}`);
      inFlight += 1;
      outcome.durable.then(
        () => {
          inFlight -= 1;
          confirmed.add([seq]);
          schedulePublishing();
        },
        (error: unknown) => fail(`publish ${seq} failed: ${String(error)}`),
      );
    }
    schedulePublishing();
  };
  const schedulePublishing = (): void => {
    if (publishing || inFlight >= MAX_IN_FLIGHT) return;
    publishing = true;
    setImmediate(publishSome);
  };
  schedulePublishing();

  if (mode === 'publish-consume') consumeAndAck(connection, queue, journal);
}

/**
 * Consumes with a window and acks each turn's deliveries only once a flush covered their delivery records,
 * so at any moment some deliveries are recorded durably but not acked yet: the in-flight ones a crash must
 * bring back flagged redelivered. Acks are reported once a later flush covered their settle record.
 */
function consumeAndAck(connection: Connection, queue: Queue, journal: number): void {
  const channel = connection.openChannel();
  const delivered = new LineBatch('d');
  const acked = new LineBatch('a');
  let lastSeq = -1;
  let received: { tag: number; seq: number }[] = [];
  let flushScheduled = false;

  const flushFailed = (error: unknown): never => fail(`flush failed: ${String(error)}`);
  const ackWhenRecorded = (): void => {
    flushScheduled = false;
    const batch = received;
    received = [];
    const last = batch[batch.length - 1];
    if (!last) return;
    const seqs = batch.map((entry) => entry.seq);
    // The delivery records were appended in the microtasks after the deliveries: this flush covers them.
    queue.flush().then(() => {
      delivered.add(seqs);
      writeSync(journal, `A ${last.seq}\n`);
      channel.ack(last.tag, true);
      // The ack's settle record is appended in a microtask; flush on the next turn so it is covered.
      setImmediate(() => {
        queue.flush().then(() => acked.add(seqs), flushFailed);
      });
    }, flushFailed);
  };

  connection.consume(channel, crashQueue, { prefetch: CONSUMER_PREFETCH }, {
    deliver: (delivery: Delivery) => {
      const seq = decodeSeq(delivery.message.body);
      writeSync(journal, `D ${seq}\n`);
      // One consumer, no requeues: strictly FIFO and never redelivered within one run.
      if (seq <= lastSeq || delivery.redelivered) fail(`delivery ${seq} after ${lastSeq}, redelivered=${delivery.redelivered}`);
      lastSeq = seq;
      received.push({ tag: delivery.deliveryTag, seq });
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(ackWhenRecorded);
      }
    },
  });
}

run().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
