import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBrokerError } from '../../src/core/errors.js';
import { guest, openHarness, Recorder, textMessage } from '../support/broker-harness.js';

describe('topics through the broker', () => {
  it('creates, updates and deletes topics durably; a topic with retention keeps history in a stream', async () => {
    const h = await openHarness({ store: 'file' });
    try {
      await h.broker.createTopic(guest, { name: 'orders.created', displayName: 'Order created', description: 'New orders' });
      await h.broker.createTopic(guest, { name: 'audit', retention: { maxAgeMs: 86_400_000 } });
      assert.ok(h.broker.getStream('audit'), 'a retained topic has a stream');
      assert.equal(h.broker.getStream('orders.created'), undefined);
      await h.connection.publish(textMessage('a1', { exchange: 'amq.topic', routingKey: 'audit' })).durable;

      await h.restart();
      const topic = h.broker.topics.get('orders.created');
      assert.equal(topic?.displayName, 'Order created');
      assert.equal(topic?.description, 'New orders');
      const replay = new Recorder();
      h.connection.consumeStream(h.channel, 'audit', { start: 'first', prefetch: 10 }, replay.callbacks);
      await replay.waitFor(1);
      assert.deepEqual(replay.texts, ['a1']);

      await h.broker.updateTopic(guest, 'orders.created', { description: 'Orders accepted by the shop', retention: {} });
      assert.ok(h.broker.getStream('orders.created'), 'adding retention attaches a stream');
      await h.broker.updateTopic(guest, 'orders.created', { retention: null });
      assert.equal(h.broker.getStream('orders.created'), undefined);
      await h.broker.deleteTopic(guest, 'audit');
      assert.equal(h.broker.getStream('audit'), undefined);
      await h.restart();
      assert.deepEqual(h.broker.topics.list().map((t) => [t.name, t.description]), [['orders.created', 'Orders accepted by the shop']]);
    } finally {
      await h.close();
    }
  });

  it('refuses bad names, duplicates and unknown topics with clear errors', async () => {
    const h = await openHarness();
    try {
      await assert.rejects(h.broker.createTopic(guest, { name: 'orders/#' }), (error) => isBrokerError(error, 'INVALID_NAME'));
      await assert.rejects(h.broker.createTopic(guest, { name: 'a..b' }), (error) => isBrokerError(error, 'INVALID_NAME'));
      await h.broker.createTopic(guest, { name: 'x' });
      await assert.rejects(h.broker.createTopic(guest, { name: 'x' }), (error) => isBrokerError(error, 'TOPIC_EXISTS'));
      await assert.rejects(h.broker.deleteTopic(guest, 'nope'), (error) => isBrokerError(error, 'TOPIC_NOT_FOUND'));
      await assert.rejects(h.broker.updateTopic(guest, 'nope', { description: 'd' }), (error) =>
        isBrokerError(error, 'TOPIC_NOT_FOUND'),
      );
    } finally {
      await h.close();
    }
  });
});
