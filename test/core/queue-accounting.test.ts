/** a queue's ready counts when its head is not in memory. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openHarness, Recorder, settle, textMessage } from '../support/broker-harness.js';

describe('queue accounting', () => {
  it('drop-head by bytes drops every head it needs even when the head is still on disk', async () => {
    const h = await openHarness();
    try {
      await h.connection.declareQueue({ name: 'q', arguments: { 'x-max-length-bytes': 600 } });
      // 600 one-byte messages: a queue without consumers keeps 16 in memory, 584 stay in the log.
      for (let i = 0; i < 600; i++) h.connection.publish(textMessage('x', { routingKey: 'q' }));
      await settle();
      const queue = h.broker.getQueue('q')!;
      assert.equal(queue.readyBytes, 600);
      // A consumer takes what is in memory and its window is full; the next read from the log is in flight.
      const consumer = new Recorder();
      h.connection.consume(h.channel, 'q', { prefetch: 16 }, consumer.callbacks);
      assert.equal(consumer.deliveries.length, 16);
      // 584 ready bytes + 600 = 1184 > 600: every one of the 584 small heads must go.
      h.connection.publish(textMessage('y'.repeat(600), { routingKey: 'q' }));
      await settle(10);
      assert.equal(queue.readyBytes, 600, 'the queue stays over x-max-length-bytes');
      assert.equal(queue.messageCount, 1);
    } finally {
      await h.close();
    }
  });
});
