import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBrokerError } from '../../src/core/errors.js';
import { openHarness, Recorder, textMessage } from '../support/broker-harness.js';

describe('streams through the broker', () => {
  it('stores routed messages and replays them from first, an offset, and next, within the prefetch window', async () => {
    const h = await openHarness({ store: 'file', fsync: { mode: 'always' } });
    try {
      await h.connection.declareQueue({ name: 'events', durable: true, arguments: { 'x-queue-type': 'stream' } });
      await h.connection.bind({ source: 'amq.topic', destination: 'events', destinationKind: 'queue', routingKey: 'orders.#' });
      for (let i = 0; i < 5; i++) {
        await h.connection.publish(textMessage(`e${i}`, { exchange: 'amq.topic', routingKey: `orders.${i}` })).durable;
      }
      const fromFirst = new Recorder();
      h.connection.consumeStream(h.channel, 'events', { start: 'first', prefetch: 2 }, fromFirst.callbacks);
      await fromFirst.waitFor(2);
      assert.deepEqual(fromFirst.texts, ['e0', 'e1']);
      h.channel.ack(fromFirst.deliveries[1]!.deliveryTag, true);
      await fromFirst.waitFor(4);
      assert.deepEqual(fromFirst.deliveries.map((d) => d.streamOffset), [0, 1, 2, 3]);

      const channel = h.connection.openChannel();
      const fromOffset = new Recorder();
      h.connection.consumeStream(channel, 'events', { start: { offset: 3 }, prefetch: 10 }, fromOffset.callbacks);
      await fromOffset.waitFor(2);
      assert.deepEqual(fromOffset.texts, ['e3', 'e4']);

      const live = new Recorder();
      h.connection.consumeStream(channel, 'events', { start: 'next', prefetch: 10 }, live.callbacks);
      await h.connection.publish(textMessage('e5', { exchange: 'amq.topic', routingKey: 'orders.5' })).durable;
      await live.waitFor(1);
      assert.deepEqual(live.texts, ['e5']);
      // Reading never removes: the stream still holds every message.
      assert.equal(h.broker.getStream('events')!.stats().endOffset, 6);
    } finally {
      await h.close();
    }
  });

  it('keeps stream definitions, bindings, messages and committed offsets across a restart', async () => {
    const h = await openHarness({ store: 'file', fsync: { mode: 'always' } });
    try {
      await h.connection.declareQueue({ name: 's', durable: true, arguments: { 'x-queue-type': 'stream', 'x-max-age': '7D' } });
      await h.connection.bind({ source: 'amq.fanout', destination: 's', destinationKind: 'queue', routingKey: '' });
      for (let i = 0; i < 3; i++) await h.connection.publish(textMessage(`m${i}`, { exchange: 'amq.fanout' })).durable;
      h.broker.getStream('s')!.commitOffset('billing', 2);
      await h.restart();
      await h.connection.publish(textMessage('m3', { exchange: 'amq.fanout' })).durable;
      const resumed = new Recorder();
      h.connection.consumeStream(h.channel, 's', { start: { consumer: 'billing' }, prefetch: 10 }, resumed.callbacks);
      await resumed.waitFor(2);
      assert.deepEqual(resumed.texts, ['m2', 'm3']);
    } finally {
      await h.close();
    }
  });

  it('refuses non-durable streams, bad retention and consuming without a window', async () => {
    const h = await openHarness();
    try {
      await assert.rejects(
        h.connection.declareQueue({ name: 's', durable: false, arguments: { 'x-queue-type': 'stream' } }),
        (error) => isBrokerError(error, 'PRECONDITION_FAILED'),
      );
      await assert.rejects(
        h.connection.declareQueue({ name: 's', durable: true, arguments: { 'x-queue-type': 'stream', 'x-max-age': 'soon' } }),
        (error) => isBrokerError(error, 'INVALID_ARGUMENT'),
      );
      await h.connection.declareQueue({ name: 's', durable: true, arguments: { 'x-queue-type': 'stream' } });
      assert.throws(
        () => h.connection.consumeStream(h.channel, 's', { start: 'first', prefetch: 0 }, new Recorder().callbacks),
        (error) => isBrokerError(error, 'INVALID_ARGUMENT'),
      );
      assert.throws(
        () => h.connection.consumeStream(h.channel, 'nope', { start: 'first', prefetch: 1 }, new Recorder().callbacks),
        (error) => isBrokerError(error, 'STREAM_NOT_FOUND'),
      );
    } finally {
      await h.close();
    }
  });
});
