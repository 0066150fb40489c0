/** what survives a restart: failed metadata saves, shutdown with unacked messages. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Broker } from '../../src/core/broker.js';
import type { MetadataSnapshot, MetadataStore } from '../../src/core/ports.js';
import { MemoryLogStore, MemoryMetadataStore } from '../../src/storage/index.js';
import { guest, openHarness, publishTo, Recorder, textMessage } from '../support/broker-harness.js';

/** A metadata store whose next save fails once (a full disk, say), then works again. */
class FlakyMetadataStore implements MetadataStore {
  failNext = false;
  constructor(private readonly inner: MemoryMetadataStore) {}
  load(): Promise<MetadataSnapshot> {
    return this.inner.load();
  }
  save(snapshot: MetadataSnapshot): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('ENOSPC: no space left on device'));
    }
    return this.inner.save(snapshot);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

describe('durability', () => {
  it('a durable queue whose definition could not be saved does not silently lose confirmed messages', async () => {
    const logs = new MemoryLogStore();
    const saved = new MemoryMetadataStore();
    const metadata = new FlakyMetadataStore(saved);
    const open = (): Promise<Broker> =>
      Broker.open({ logStore: logs, transientLogStore: new MemoryLogStore(), metadataStore: metadata, fsync: { mode: 'never' } });
    let broker = await open();
    const connection = broker.connect(guest, { protocol: 'test', remoteAddress: '127.0.0.1' });
    metadata.failNext = true;
    await assert.rejects(connection.declareQueue({ name: 'orders', durable: true }));
    // The client retries its declare, as clients do after a channel error; it is told the queue exists.
    await connection.declareQueue({ name: 'orders', durable: true });
    const outcome = connection.publish(textMessage('paid', { routingKey: 'orders', persistent: true }));
    assert.equal(outcome.routed, 1);
    await outcome.durable; // confirmed to the publisher
    await broker.close();
    broker = await open();
    try {
      const queue = broker.getQueue('orders');
      assert.ok(queue, 'the durable queue the client was told exists is gone after a restart');
      assert.equal(queue.messageCount, 1, 'the confirmed persistent message is gone after a restart');
    } finally {
      await broker.close();
    }
  });

  it('a broker shutdown keeps an unacked message that was delivered more often than the delivery limit', async () => {
    const h = await openHarness();
    try {
      await h.connection.declareExchange({ name: 'dlx', type: 'fanout', durable: true });
      await h.connection.declareQueue({ name: 'dead', durable: true });
      await h.connection.bind({ source: 'dlx', destination: 'dead', destinationKind: 'queue', routingKey: '' });
      await h.connection.declareQueue({
        name: 'q',
        durable: true,
        arguments: { 'x-delivery-limit': 1, 'x-dead-letter-exchange': 'dlx' },
      });
      await publishTo(h.connection, 'q', 'work', { persistent: true });
      const consumer = new Recorder();
      h.connection.consume(h.channel, 'q', { prefetch: 1 }, consumer.callbacks);
      await consumer.waitFor(1);
      h.channel.nack(consumer.deliveries[0]!.deliveryTag, false, true);
      await consumer.waitFor(2); // second delivery, still unacked when the broker stops
      await h.restart();
      const q = h.broker.getQueue('q')!;
      const dead = h.broker.getQueue('dead')!;
      // Either still in q (shutdown is not a failed delivery) or dead-lettered, but never lost.
      assert.equal(q.messageCount + dead.messageCount, 1, 'the unacked message vanished at shutdown');
    } finally {
      await h.close();
    }
  });
});
