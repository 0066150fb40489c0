import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openHarness, publishTo, Recorder, textMessage } from '../support/broker-harness.js';

describe('durable queues over the file store', () => {
  it('keeps persistent messages, definitions and bindings across a restart; drops transient ones', async () => {
    const h = await openHarness({ store: 'file', fsync: { mode: 'always' } });
    try {
      await h.connection.declareQueue({ name: 'jobs', durable: true });
      await h.connection.declareQueue({ name: 'scratch', durable: false });
      await h.connection.declareExchange({ name: 'events', type: 'topic', durable: true });
      await h.connection.bind({ source: 'events', destination: 'jobs', destinationKind: 'queue', routingKey: 'job.#' });
      for (let i = 0; i < 5; i++) await publishTo(h.connection, 'jobs', `p${i}`, { persistent: true });
      await publishTo(h.connection, 'jobs', 'transient', { persistent: false });
      await publishTo(h.connection, 'scratch', 'gone', { persistent: true });
      await h.restart();
      assert.equal(h.broker.getQueue('scratch'), undefined);
      const jobs = h.broker.getQueue('jobs')!;
      assert.equal(jobs.messageCount, 5);
      await h.connection.publish(textMessage('via-binding', { exchange: 'events', routingKey: 'job.new', persistent: true })).durable;
      const consumer = new Recorder();
      h.connection.consume(h.channel, 'jobs', { noAck: true }, consumer.callbacks);
      await consumer.waitFor(6);
      assert.deepEqual(consumer.texts, ['p0', 'p1', 'p2', 'p3', 'p4', 'via-binding']);
    } finally {
      await h.close();
    }
  });

  it('does not redeliver acked messages after a restart, and flags the unacked ones as redelivered', async () => {
    const h = await openHarness({ store: 'file', fsync: { mode: 'always' } });
    try {
      await h.connection.declareQueue({ name: 'q', durable: true });
      for (let i = 0; i < 8; i++) await publishTo(h.connection, 'q', `m${i}`, { persistent: true });
      const consumer = new Recorder();
      h.connection.consume(h.channel, 'q', { prefetch: 4 }, consumer.callbacks);
      await consumer.waitFor(4);
      // Ack m0 and m2: the window lets m4 and m5 out; m1, m3, m4, m5 are unacked when the broker goes down.
      h.channel.ack(consumer.deliveries[0]!.deliveryTag);
      h.channel.ack(consumer.deliveries[2]!.deliveryTag);
      await consumer.waitFor(6);
      await h.restart();
      const after = new Recorder();
      h.connection.consume(h.channel, 'q', { noAck: true }, after.callbacks);
      await after.waitFor(6);
      assert.deepEqual(after.texts, ['m1', 'm3', 'm4', 'm5', 'm6', 'm7']);
      assert.deepEqual(
        after.deliveries.map((delivery) => delivery.redelivered),
        [true, true, true, true, false, false],
      );
      assert.deepEqual(
        after.deliveries.map((delivery) => delivery.deliveryCount),
        [2, 2, 2, 2, 1, 1],
      );
    } finally {
      await h.close();
    }
  });

  it('drains a backlog spanning many segments in FIFO order and deletes consumed segments', async () => {
    const h = await openHarness({ store: 'file', fsync: { mode: 'never' }, segmentBytes: 16 * 1024 });
    try {
      await h.connection.declareQueue({ name: 'big', durable: true });
      const body = 'x'.repeat(500);
      const count = 2000;
      let last;
      for (let i = 0; i < count; i++) {
        last = h.connection.publish(textMessage(`${i}:${body}`, { routingKey: 'big', persistent: true }));
      }
      await last?.durable;
      await h.restart();
      const queue = h.broker.getQueue('big')!;
      assert.equal(queue.messageCount, count);
      const sizeBefore = queue.storedBytes;
      const consumer = new Recorder();
      h.connection.consume(h.channel, 'big', { prefetch: 100 }, {
        deliver: (delivery) => {
          consumer.callbacks.deliver(delivery);
          h.channel.ack(delivery.deliveryTag);
        },
      });
      await consumer.waitFor(count, 20_000);
      const order = consumer.texts.map((text) => Number(text.split(':')[0]));
      assert.deepEqual(order, Array.from({ length: count }, (_, i) => i));
      // Truncation runs in the background after enough settled records; wait for it (bounded).
      const deadline = Date.now() + 5000;
      while (queue.storedBytes > sizeBefore / 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(queue.storedBytes < sizeBefore / 4, `log shrank from ${sizeBefore} to ${queue.storedBytes}`);
    } finally {
      await h.close();
    }
  });
});
