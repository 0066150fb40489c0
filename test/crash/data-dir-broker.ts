/**
 * Opens a broker in the test process over a data directory (often one a killed child left behind) the way
 * `courier serve` would: the lock is taken (over from a dead pid), file log and metadata stores, fsync
 * `always`. Drains a queue completely.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Broker } from '../../src/core/broker.js';
import type { Delivery } from '../../src/core/channel.js';
import type { CorruptionReport } from '../../src/core/ports.js';
import { acquireDataDirLock, FileLogStore, FileMetadataStore, MemoryLogStore } from '../../src/storage/index.js';
import { guest, Recorder, settle } from '../support/broker-harness.js';
import { LOGS_DIRECTORY, METADATA_FILE } from './crash-protocol.js';

export interface BrokerOverDirOptions {
  readonly segmentBytes?: number;
}

/** Runs `body` with a broker over `dataDir` (lock held) and the damage its store reported, closing both afterwards. */
export async function withBroker<T>(
  dataDir: string,
  body: (broker: Broker, damage: readonly CorruptionReport[]) => T | Promise<T>,
  options: BrokerOverDirOptions = {},
): Promise<T> {
  const lock = await acquireDataDirLock(dataDir);
  try {
    const damage: CorruptionReport[] = [];
    const broker = await Broker.open({
      logStore: new FileLogStore({ directory: join(dataDir, LOGS_DIRECTORY), onCorruption: (report) => damage.push(report) }),
      transientLogStore: new MemoryLogStore(),
      metadataStore: new FileMetadataStore({ path: join(dataDir, METADATA_FILE) }),
      fsync: { mode: 'always' },
      ...(options.segmentBytes === undefined ? {} : { segmentBytes: options.segmentBytes }),
    });
    try {
      return await body(broker, damage);
    } finally {
      await broker.close();
    }
  } finally {
    await lock.release();
  }
}

/**
 * Consumes every ready message of `queue` with one consumer that acks each delivery, and checks that the
 * queue is then empty: nothing ready, nothing unacked, nothing delivered beyond the count it declared.
 */
export async function drainQueue(broker: Broker, queue: string): Promise<Delivery[]> {
  const connection = broker.connect(guest, { protocol: 'crash-test', remoteAddress: '127.0.0.1' });
  const declared = await connection.declareQueue({ name: queue }, true);
  const channel = connection.openChannel();
  const recorder = new Recorder();
  connection.consume(channel, queue, { prefetch: 500 }, {
    deliver: (delivery) => {
      recorder.callbacks.deliver(delivery);
      channel.ack(delivery.deliveryTag);
    },
  });
  await recorder.waitFor(declared.messageCount, 30_000);
  await settle();
  assert.equal(recorder.deliveries.length, declared.messageCount, 'no deliveries beyond the recovered message count');
  const state = broker.getQueue(queue)!;
  assert.equal(state.messageCount, 0);
  assert.equal(state.unackedCount, 0);
  await connection.close();
  return recorder.deliveries;
}
