/** declares that overlap other declares, deletes and disconnects. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBrokerError } from '../../src/core/errors.js';
import { guest, openHarness, Recorder, settle, textMessage } from '../support/broker-harness.js';

describe('overlapping declares', () => {
  it('two concurrent declares of one durable queue leave a working queue', async () => {
    const h = await openHarness();
    try {
      const other = h.broker.connect(guest, { protocol: 'test', remoteAddress: '127.0.0.1' });
      await Promise.all([
        h.connection.declareQueue({ name: 'jobs', durable: true }),
        other.declareQueue({ name: 'jobs', durable: true }),
      ]);
      // The loser closes the log it opened, which the store handed to both: the winner's log.
      const outcome = h.connection.publish(textMessage('x', { routingKey: 'jobs', persistent: true }));
      await outcome.durable;
      assert.equal(outcome.routed, 1);
      assert.equal(h.broker.getQueue('jobs')!.messageCount, 1);
    } finally {
      await h.close();
    }
  });

  it('two concurrent declares of one transient queue leave a working queue', async () => {
    const h = await openHarness();
    try {
      const other = h.broker.connect(guest, { protocol: 'test', remoteAddress: '127.0.0.1' });
      await Promise.all([h.connection.declareQueue({ name: 'tmp' }), other.declareQueue({ name: 'tmp' })]);
      const outcome = h.connection.publish(textMessage('x', { routingKey: 'tmp' }));
      await outcome.durable;
      assert.equal(h.broker.getQueue('tmp')!.messageCount, 1);
    } finally {
      await h.close();
    }
  });

  it('redeclaring an auto-delete queue right after its last consumer left gives a working queue', async () => {
    const h = await openHarness();
    try {
      await h.connection.declareQueue({ name: 'auto', autoDelete: true });
      const tag = h.connection.consume(h.channel, 'auto', {}, new Recorder().callbacks);
      h.channel.cancel(tag); // the auto-delete runs in the background
      await h.connection.declareQueue({ name: 'auto', autoDelete: true });
      await settle();
      const queue = h.broker.getQueue('auto');
      assert.ok(queue, 'the redeclared queue exists');
      // Its log must not have been removed by the delete of the previous queue of that name.
      const outcome = h.connection.publish(textMessage('x', { routingKey: 'auto' }));
      assert.equal(outcome.routed, 1);
      const consumer = new Recorder();
      h.connection.consume(h.channel, 'auto', { noAck: true }, consumer.callbacks);
      await consumer.waitFor(1, 2000);
    } finally {
      await h.close();
    }
  });

  it('an exclusive queue whose declare completes after its connection closed is not left locked', async () => {
    const h = await openHarness();
    try {
      const client = h.broker.connect(guest, { protocol: 'test', remoteAddress: '127.0.0.1' });
      // A client drops its connection while its exclusive declare is still opening the queue.
      const pending = client.declareQueue({ name: 'mqtt-subscription-c1', exclusive: true });
      await client.close();
      await pending.catch(() => undefined);
      await settle();
      const again = h.broker.connect(guest, { protocol: 'test', remoteAddress: '127.0.0.1' });
      await again.declareQueue({ name: 'mqtt-subscription-c1', exclusive: true }).catch((error: unknown) => {
        assert.fail(
          `reconnecting client refused: ${isBrokerError(error) ? error.code : String(error)} ` +
            '(the queue is owned by a connection that is already closed)',
        );
      });
      await again.close();
    } finally {
      await h.close();
    }
  });
});
