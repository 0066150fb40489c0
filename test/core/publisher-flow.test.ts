/** Per-queue publisher flow control (src/core/flow/queue-flow.ts) and the memory a queue's backlog keeps. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ManualClock } from '../../src/core/clock.js';
import type { Delivery } from '../../src/core/channel.js';
import { DEFAULT_FLOW_LIMITS } from '../../src/core/flow/queue-flow.js';
import { openHarness, Recorder, settle, textMessage, type Harness } from '../support/broker-harness.js';

const { highMessages, lowMessages, maxHoldMs } = DEFAULT_FLOW_LIMITS;

/** A second connection that consumes `queue` without acknowledging (prefetch 100). */
function slowConsumer(h: Harness, queue: string): { recorder: Recorder; ackAll: () => void } {
  const connection = h.broker.connect({ username: 'guest', tags: [] }, { protocol: 'test', remoteAddress: '127.0.0.1' });
  const channel = connection.openChannel();
  const recorder = new Recorder();
  connection.consume(channel, queue, { prefetch: 100 }, recorder.callbacks);
  return {
    recorder,
    ackAll: () => {
      const last = recorder.deliveries.at(-1);
      if (last) channel.ack(last.deliveryTag, true);
    },
  };
}

/** Publishes until the outcome asks the publisher to hold back; returns how many it took. */
function publishUntilHeld(h: Harness, queue: string, limit = 10_000): number {
  for (let i = 1; i <= limit; i++) {
    if (h.connection.publish(textMessage(`m${i}`, { routingKey: queue })).flow !== undefined) return i;
  }
  return -1;
}

describe('publisher flow control', () => {
  it('holds a publisher once the backlog of a consumed queue passes the high mark, and lets it go at the low mark', async () => {
    const h = await openHarness();
    try {
      await h.connection.declareQueue({ name: 'q' });
      const consumer = slowConsumer(h, 'q');
      // 100 go out to the consumer; the backlog behind them reaches the high mark.
      assert.equal(publishUntilHeld(h, 'q'), 100 + highMessages);
      const gate = h.connection.publish(textMessage('more', { routingKey: 'q' })).flow!;
      let open = false;
      gate.onceOpen(() => (open = true));
      const queue = h.broker.getQueue('q')!;
      // Each ack of 100 frees the consumer's window: 100 more leave the backlog.
      for (let round = 0; queue.messageCount > lowMessages && round < 100; round++) {
        assert.equal(open, false, `still held at ${queue.messageCount} ready`);
        consumer.ackAll();
        await settle(); // the backlog beyond the read-ahead is read back from the log
      }
      assert.equal(open, true);
      assert.equal(h.connection.publish(textMessage('after', { routingKey: 'q' })).flow, undefined);
    } finally {
      await h.close();
    }
  });

  it('never holds publishers for a queue without consumers: its messages wait for one that is offline', async () => {
    const h = await openHarness();
    try {
      await h.connection.declareQueue({ name: 'q' });
      assert.equal(publishUntilHeld(h, 'q', 5 * highMessages), -1);
    } finally {
      await h.close();
    }
  });

  it('stops holding publishers for a queue whose consumers set the pace, until it has drained', async () => {
    const clock = new ManualClock();
    const h = await openHarness({ clock });
    try {
      await h.connection.declareQueue({ name: 'q' });
      const consumer = slowConsumer(h, 'q');
      publishUntilHeld(h, 'q');
      let open = false;
      h.connection.publish(textMessage('more', { routingKey: 'q' })).flow!.onceOpen(() => (open = true));
      clock.advance(maxHoldMs - 1);
      assert.equal(open, false);
      clock.advance(1);
      assert.equal(open, true, 'the hold ends after maxHoldMs');
      // The consumer is the bottleneck: the queue buffers from now on instead of holding anyone.
      assert.equal(publishUntilHeld(h, 'q', 3 * highMessages), -1);
      const queue = h.broker.getQueue('q')!;
      for (let round = 0; queue.messageCount > lowMessages && round < 100; round++) {
        consumer.ackAll();
        await settle();
      }
      // Drained: flow control applies again.
      assert.notEqual(publishUntilHeld(h, 'q'), -1);
    } finally {
      await h.close();
    }
  });

  it('never holds a connection for a queue it consumes from itself', async () => {
    const h = await openHarness();
    try {
      await h.connection.declareQueue({ name: 'q' });
      const own = new Recorder();
      h.connection.consume(h.channel, 'q', { prefetch: 100 }, own.callbacks);
      assert.equal(publishUntilHeld(h, 'q', 3 * highMessages), -1);
      // Another publisher into the same queue is held.
      const other = h.broker.connect({ username: 'guest', tags: [] }, { protocol: 'test', remoteAddress: '127.0.0.1' });
      assert.notEqual(other.publish(textMessage('x', { routingKey: 'q' })).flow, undefined);
    } finally {
      await h.close();
    }
  });

  it('lets held publishers go when the queue is deleted or its consumers leave', async () => {
    const h = await openHarness();
    try {
      for (const name of ['deleted', 'abandoned']) {
        await h.connection.declareQueue({ name });
        slowConsumer(h, name);
        publishUntilHeld(h, name);
      }
      const opened: string[] = [];
      h.connection.publish(textMessage('x', { routingKey: 'deleted' })).flow!.onceOpen(() => opened.push('deleted'));
      h.connection.publish(textMessage('x', { routingKey: 'abandoned' })).flow!.onceOpen(() => opened.push('abandoned'));
      await h.connection.deleteQueue('deleted');
      assert.deepEqual(opened, ['deleted']);
      const queue = h.broker.getQueue('abandoned')!;
      for (const consumer of [...queue.listConsumers()]) queue.removeConsumer(consumer);
      assert.deepEqual(opened, ['deleted', 'abandoned']);
    } finally {
      await h.close();
    }
  });
});

describe('queue memory under a steady backlog', () => {
  it('lets go of messages once delivered and acked, though its read-ahead never runs empty', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const h = await openHarness();
    try {
      await h.connection.declareQueue({ name: 'q' });
      let taken: WeakRef<object> | undefined;
      let last: Delivery | undefined;
      h.connection.consume(h.channel, 'q', { prefetch: 1 }, { deliver: (delivery) => (last = delivery) });
      // A backlog of 100 that is topped up by one for every one taken: the read-ahead is never empty.
      for (let i = 0; i < 3000; i++) {
        const message = textMessage(`m${i}`, { routingKey: 'q' });
        if (i === 200) taken = new WeakRef(message); // delivered while 99 others wait behind it
        h.connection.publish(message);
        if (i >= 100) h.channel.ack(last!.deliveryTag);
      }
      last = undefined;
      await settle();
      gc();
      assert.equal(taken!.deref(), undefined, 'a message is still held after it was acked');
    } finally {
      await h.close();
    }
  });
});

describe('queue memory without consumers', () => {
  it('keeps only a few heads of a backlog in memory until a consumer comes, and gives the read-ahead back when it goes', async () => {
    const h = await openHarness({ store: 'file' });
    try {
      await h.connection.declareQueue({ name: 'waiting', durable: true });
      for (let i = 0; i < 1000; i++) h.connection.publish(textMessage(`m${i}`, { routingKey: 'waiting', persistent: true }));
      await settle();
      assert.ok(h.broker.getQueue('waiting')!.messagesInMemory <= 16, 'a backlog for an offline consumer stays on disk');
      // After a restart, recovery reads no more than that back either.
      await h.restart();
      const queue = h.broker.getQueue('waiting')!;
      await settle();
      assert.equal(queue.messageCount, 1000);
      assert.ok(queue.messagesInMemory <= 16, `${queue.messagesInMemory} in memory after recovery`);
      // A consumer gets the whole backlog, in order, read ahead as it goes.
      const consumer = new Recorder();
      const tag = h.connection.consume(h.channel, 'waiting', { prefetch: 100 }, consumer.callbacks);
      await consumer.waitFor(100);
      await settle();
      assert.ok(queue.messagesInMemory > 300, 'read ahead while consumed');
      h.channel.cancel(tag);
      await settle();
      assert.ok(queue.messagesInMemory <= 100 + 16, `${queue.messagesInMemory} in memory once the consumer left`);
      h.connection.closeChannel(h.channel); // its 100 unacked go back to the queue, first in line
      await settle();
      const again = new Recorder();
      h.connection.consume(h.connection.openChannel(), 'waiting', { prefetch: 0 }, again.callbacks);
      await again.waitFor(1000);
      assert.deepEqual(again.texts, Array.from({ length: 1000 }, (_, i) => `m${i}`), 'every message once, in order, after the trim');
    } finally {
      await h.close();
    }
  });
});

describe('direct delivery to a consumer that settles at delivery', () => {
  it('stores nothing of a message a no-ack consumer takes at once, and keeps FIFO with a backlog', async () => {
    const h = await openHarness();
    try {
      await h.connection.declareQueue({ name: 'live', durable: false });
      const consumer = new Recorder();
      h.connection.consume(h.channel, 'live', { noAck: true }, consumer.callbacks);
      const queue = h.broker.getQueue('live')!;
      h.connection.publish(textMessage('a', { routingKey: 'live' }));
      assert.deepEqual(consumer.texts, ['a']);
      assert.equal(queue.storedBytes, 0, 'nothing was appended to the log');
      // The consumer cannot take more (its channel paused): messages queue up, in order, and the next
      // publish after the pause does not overtake them.
      h.channel.setFlow(false);
      h.connection.publish(textMessage('b', { routingKey: 'live' }));
      h.connection.publish(textMessage('c', { routingKey: 'live' }));
      assert.ok(queue.storedBytes > 0);
      h.channel.setFlow(true);
      h.connection.publish(textMessage('d', { routingKey: 'live' }));
      await consumer.waitFor(4);
      assert.deepEqual(consumer.texts, ['a', 'b', 'c', 'd']);
      assert.equal(queue.counters.published, 4);
      assert.equal(queue.counters.delivered, 4);
    } finally {
      await h.close();
    }
  });

  it('writes every message of a durable queue to its log, no-ack consumer or not', async () => {
    const h = await openHarness();
    try {
      await h.connection.declareQueue({ name: 'kept', durable: true });
      const consumer = new Recorder();
      h.connection.consume(h.channel, 'kept', { noAck: true }, consumer.callbacks);
      h.connection.publish(textMessage('a', { routingKey: 'kept', persistent: true }));
      assert.deepEqual(consumer.texts, ['a']);
      assert.ok(h.broker.getQueue('kept')!.storedBytes > 0);
    } finally {
      await h.close();
    }
  });
});
