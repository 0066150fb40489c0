/** channels: races between a pull and a close, and the order of returned messages. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bodyText, guest, openHarness, publishTo, Recorder, settle } from '../support/broker-harness.js';

describe('channel', () => {
  it('a basic.get answered after its channel closed gives the message back to the queue', async () => {
    const h = await openHarness();
    try {
      await h.connection.declareQueue({ name: 'q' });
      await publishTo(h.connection, 'q', 'only');
      // An adapter handles basic.get then channel.close from one TCP read: both run in the same turn.
      const pending = h.connection.get(h.channel, 'q', false);
      h.connection.closeChannel(h.channel);
      await pending.catch(() => undefined);
      await settle();
      const queue = h.broker.getQueue('q')!;
      // Nobody can ever ack it: it must be ready again, not stuck unacked until a restart.
      assert.equal(queue.unackedCount, 0, 'message stuck unacked on a closed channel');
      assert.equal(queue.messageCount, 1);
    } finally {
      await h.close();
    }
  });

  it('closing a channel returns its unacked messages in queue order (FIFO for the next consumer)', async () => {
    const h = await openHarness();
    try {
      await h.connection.declareQueue({ name: 'q' });
      await publishTo(h.connection, 'q', 'm0');
      await publishTo(h.connection, 'q', 'm1');
      const first = new Recorder();
      h.connection.consume(h.channel, 'q', { prefetch: 2 }, first.callbacks);
      await first.waitFor(2);
      // m0 is nacked and comes straight back to the same consumer: its tag is now above m1's.
      h.channel.nack(first.deliveries[0]!.deliveryTag, false, true);
      await first.waitFor(3);
      assert.equal(bodyText(first.deliveries[2]), 'm0');

      const other = h.broker.connect(guest, { protocol: 'test', remoteAddress: '127.0.0.1' });
      const second = new Recorder();
      other.consume(other.openChannel(), 'q', { prefetch: 1 }, second.callbacks);
      h.connection.closeChannel(h.channel);
      await second.waitFor(1);
      assert.equal(bodyText(second.deliveries[0]), 'm0', 'the head of the queue (m0) must be delivered first');
      await other.close();
    } finally {
      await h.close();
    }
  });

  it('nack multiple with requeue returns messages in queue order', async () => {
    const h = await openHarness();
    try {
      await h.connection.declareQueue({ name: 'q' });
      await publishTo(h.connection, 'q', 'm0');
      await publishTo(h.connection, 'q', 'm1');
      const first = new Recorder();
      h.connection.consume(h.channel, 'q', { prefetch: 2 }, first.callbacks);
      await first.waitFor(2);
      h.channel.nack(first.deliveries[0]!.deliveryTag, false, true);
      await first.waitFor(3);

      const other = h.broker.connect(guest, { protocol: 'test', remoteAddress: '127.0.0.1' });
      const second = new Recorder();
      other.consume(other.openChannel(), 'q', { prefetch: 1 }, second.callbacks);
      h.channel.setFlow(false); // keep the first consumer out of the way
      h.channel.nack(0, true, true);
      await second.waitFor(1);
      assert.equal(bodyText(second.deliveries[0]), 'm0');
      await other.close();
    } finally {
      await h.close();
    }
  });
});
