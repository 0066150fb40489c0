/** stream consumers when their stream goes away or is reopened. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { guest, openHarness, Recorder, settle, textMessage } from '../support/broker-harness.js';

describe('stream consumers', () => {
  it('deleting a stream cancels its consumers, as deleting a queue does', async () => {
    const h = await openHarness();
    try {
      await h.connection.declareQueue({ name: 's', durable: true, arguments: { 'x-queue-type': 'stream' } });
      const consumer = new Recorder();
      const tag = h.connection.consumeStream(h.channel, 's', { start: 'first', prefetch: 10 }, consumer.callbacks);
      await h.connection.deleteQueue('s');
      await settle();
      assert.deepEqual(consumer.cancelled, [tag], 'the consumer was not told its stream is gone');
      assert.equal(h.channel.consumerCount, 0);
    } finally {
      await h.close();
    }
  });

  it('changing a topic retention keeps the consumers of its stream reading', async () => {
    const h = await openHarness();
    try {
      await h.broker.createTopic(guest, { name: 'news', retention: { maxBytes: 1_000_000 } });
      const consumer = new Recorder();
      h.connection.consumeStream(h.channel, 'news', { start: 'next', prefetch: 10 }, consumer.callbacks);
      await h.broker.updateTopic(guest, 'news', { retention: { maxBytes: 2_000_000 } });
      await h.connection.publish(textMessage('after', { exchange: 'amq.topic', routingKey: 'news' })).durable;
      await settle();
      // Either it keeps reading, or it is told it was cancelled: never silently dead.
      assert.ok(consumer.deliveries.length === 1 || consumer.cancelled.length === 1, 'the consumer went silently dead');
    } finally {
      await h.close();
    }
  });
});
