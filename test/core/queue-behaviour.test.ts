import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { isBrokerError } from '../../src/core/errors.js';
import type { HeaderTable } from '../../src/core/message/message.js';
import { bodyText, openHarness, publishTo, Recorder, settle, textMessage } from '../support/broker-harness.js';

function deaths(headers: HeaderTable): HeaderTable[] {
  return (headers['x-death'] as HeaderTable[] | undefined) ?? [];
}

describe('queue delivery', () => {
  it('delivers in FIFO order to one consumer and round-robin across competing consumers', async () => {
    const h = await openHarness();
    try {
      await h.connection.declareQueue({ name: 'q' });
      for (let i = 0; i < 6; i++) await publishTo(h.connection, 'q', `m${i}`);
      const single = new Recorder();
      const tag = h.connection.consume(h.channel, 'q', { noAck: true }, single.callbacks);
      await single.waitFor(6);
      assert.deepEqual(single.texts, ['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
      h.channel.cancel(tag);

      const a = new Recorder();
      const b = new Recorder();
      h.connection.consume(h.channel, 'q', { noAck: true }, a.callbacks);
      h.connection.consume(h.channel, 'q', { noAck: true }, b.callbacks);
      for (let i = 0; i < 6; i++) await publishTo(h.connection, 'q', `n${i}`);
      await settle();
      assert.deepEqual(a.texts, ['n0', 'n2', 'n4']);
      assert.deepEqual(b.texts, ['n1', 'n3', 'n5']);
    } finally {
      await h.close();
    }
  });

  it('never exceeds the prefetch window and resumes on ack', async () => {
    const h = await openHarness();
    try {
      await h.connection.declareQueue({ name: 'q' });
      for (let i = 0; i < 5; i++) await publishTo(h.connection, 'q', `m${i}`);
      const consumer = new Recorder();
      h.connection.consume(h.channel, 'q', { prefetch: 2 }, consumer.callbacks);
      await settle();
      assert.equal(consumer.deliveries.length, 2);
      assert.equal(h.broker.getQueue('q')!.unackedCount, 2);
      h.channel.ack(consumer.deliveries[1]!.deliveryTag, true);
      await settle();
      assert.deepEqual(consumer.texts, ['m0', 'm1', 'm2', 'm3']);
      assert.equal(h.broker.getQueue('q')!.messageCount, 1);
    } finally {
      await h.close();
    }
  });

  it('requeues nacked messages at their place with the redelivered flag and a delivery count', async () => {
    const h = await openHarness();
    try {
      await h.connection.declareQueue({ name: 'q' });
      for (const text of ['a', 'b', 'c']) await publishTo(h.connection, 'q', text);
      const consumer = new Recorder();
      h.connection.consume(h.channel, 'q', { prefetch: 1 }, consumer.callbacks);
      await consumer.waitFor(1);
      h.channel.nack(consumer.deliveries[0]!.deliveryTag, false, true);
      await consumer.waitFor(2);
      const again = consumer.deliveries[1]!;
      assert.equal(bodyText(again), 'a');
      assert.equal(again.redelivered, true);
      assert.equal(again.deliveryCount, 2);
      assert.equal(consumer.deliveries[0]!.redelivered, false);
    } finally {
      await h.close();
    }
  });

  it('redelivers unacked messages when the channel closes', async () => {
    const h = await openHarness();
    try {
      await h.connection.declareQueue({ name: 'q' });
      await publishTo(h.connection, 'q', 'x');
      const first = new Recorder();
      h.connection.consume(h.channel, 'q', {}, first.callbacks);
      await first.waitFor(1);
      h.connection.closeChannel(h.channel);
      const channel = h.connection.openChannel();
      const second = new Recorder();
      h.connection.consume(channel, 'q', {}, second.callbacks);
      const [delivery] = await second.waitFor(1);
      assert.equal(bodyText(delivery), 'x');
      assert.equal(delivery!.redelivered, true);
    } finally {
      await h.close();
    }
  });

  it('refuses an unknown delivery tag', async () => {
    const h = await openHarness();
    try {
      assert.throws(() => h.channel.ack(42), (error) => isBrokerError(error, 'UNKNOWN_DELIVERY_TAG'));
    } finally {
      await h.close();
    }
  });

  it('gives messages to the single active consumer only, then to the next one', async () => {
    const h = await openHarness();
    try {
      await h.connection.declareQueue({ name: 'q', arguments: { 'x-single-active-consumer': true } });
      const a = new Recorder();
      const b = new Recorder();
      const tagA = h.connection.consume(h.channel, 'q', { noAck: true }, a.callbacks);
      h.connection.consume(h.channel, 'q', { noAck: true }, b.callbacks);
      for (let i = 0; i < 3; i++) await publishTo(h.connection, 'q', `m${i}`);
      assert.equal(a.deliveries.length, 3);
      assert.equal(b.deliveries.length, 0);
      h.channel.cancel(tagA);
      await publishTo(h.connection, 'q', 'later');
      assert.deepEqual(b.texts, ['later']);
    } finally {
      await h.close();
    }
  });

  it('prefers higher-priority consumers while they have room', async () => {
    const h = await openHarness();
    try {
      await h.connection.declareQueue({ name: 'q' });
      const low = new Recorder();
      const high = new Recorder();
      h.connection.consume(h.channel, 'q', { prefetch: 10 }, low.callbacks);
      h.connection.consume(h.channel, 'q', { prefetch: 2, priority: 5 }, high.callbacks);
      for (let i = 0; i < 4; i++) await publishTo(h.connection, 'q', `m${i}`);
      assert.deepEqual(high.texts, ['m0', 'm1']);
      assert.deepEqual(low.texts, ['m2', 'm3']);
    } finally {
      await h.close();
    }
  });

  it('answers basic.get and get-empty', async () => {
    const h = await openHarness();
    try {
      await h.connection.declareQueue({ name: 'q' });
      assert.equal(await h.connection.get(h.channel, 'q', true), undefined);
      await publishTo(h.connection, 'q', 'one');
      const got = await h.connection.get(h.channel, 'q', false);
      assert.equal(bodyText(got), 'one');
      assert.equal(h.broker.getQueue('q')!.unackedCount, 1);
      h.channel.ack(got!.deliveryTag);
      assert.equal(h.broker.getQueue('q')!.unackedCount, 0);
    } finally {
      await h.close();
    }
  });

  it('purges ready messages but keeps unacked ones', async () => {
    const h = await openHarness();
    try {
      await h.connection.declareQueue({ name: 'q' });
      for (let i = 0; i < 4; i++) await publishTo(h.connection, 'q', `m${i}`);
      const got = await h.connection.get(h.channel, 'q', false);
      assert.equal(await h.connection.purgeQueue('q'), 3);
      assert.equal(h.broker.getQueue('q')!.messageCount, 0);
      h.channel.nack(got!.deliveryTag, false, true);
      assert.equal(h.broker.getQueue('q')!.messageCount, 1);
    } finally {
      await h.close();
    }
  });
});

describe('queue policies', () => {
  async function withDeadLetters(arguments_: HeaderTable, clock?: ManualClock) {
    const h = await openHarness(clock ? { clock } : {});
    await h.connection.declareExchange({ name: 'dlx', type: 'fanout' });
    await h.connection.declareQueue({ name: 'dead' });
    await h.connection.bind({ source: 'dlx', destination: 'dead', destinationKind: 'queue', routingKey: '' });
    await h.connection.declareQueue({ name: 'q', arguments: { 'x-dead-letter-exchange': 'dlx', ...arguments_ } });
    const dead = new Recorder();
    const channel = h.connection.openChannel();
    h.connection.consume(channel, 'dead', { noAck: true }, dead.callbacks);
    return { h, dead };
  }

  it('dead-letters rejected messages with x-death', async () => {
    const { h, dead } = await withDeadLetters({});
    try {
      await publishTo(h.connection, 'q', 'bad');
      const got = await h.connection.get(h.channel, 'q', false);
      h.channel.nack(got!.deliveryTag, false, false);
      const [delivery] = await dead.waitFor(1);
      const [death] = deaths(delivery!.message.headers);
      assert.equal(death!['reason'], 'rejected');
      assert.equal(death!['queue'], 'q');
      assert.equal(death!['count'], 1);
      assert.deepEqual(death!['routing-keys'], ['q']);
      assert.equal(delivery!.message.headers['x-first-death-reason'], 'rejected');
    } finally {
      await h.close();
    }
  });

  it('expires messages by queue TTL and by per-message TTL, dead-lettering them', async () => {
    const clock = new ManualClock();
    const { h, dead } = await withDeadLetters({ 'x-message-ttl': 1000 }, clock);
    try {
      await publishTo(h.connection, 'q', 'queue-ttl');
      await publishTo(h.connection, 'q', 'message-ttl', { properties: { expiration: 5000 } });
      clock.advance(999);
      await settle();
      assert.equal(dead.deliveries.length, 0);
      clock.advance(2);
      await settle();
      assert.deepEqual(dead.texts, ['queue-ttl', 'message-ttl']);
      assert.equal(deaths(dead.deliveries[0]!.message.headers)[0]!['reason'], 'expired');
      assert.equal(dead.deliveries[1]!.message.properties.expiration, undefined);
      assert.equal(deaths(dead.deliveries[1]!.message.headers)[0]!['original-expiration'], '5000');
    } finally {
      await h.close();
    }
  });

  it('delivers a message with expiration 0 only to a consumer there at once, as RabbitMQ does', async () => {
    const clock = new ManualClock();
    const { h, dead } = await withDeadLetters({}, clock);
    try {
      // No consumer: expired at once, even for a consumer arriving within the same millisecond.
      await publishTo(h.connection, 'q', 'nobody-waits', { properties: { expiration: 0 } });
      await settle();
      assert.deepEqual(dead.texts, ['nobody-waits']);
      const consumer = new Recorder();
      h.connection.consume(h.channel, 'q', { noAck: true }, consumer.callbacks);
      await publishTo(h.connection, 'q', 'taken-at-once', { properties: { expiration: 0 } });
      assert.deepEqual((await consumer.waitFor(1)).map((delivery) => bodyText(delivery)), ['taken-at-once']);
      assert.deepEqual(dead.texts, ['nobody-waits']);
    } finally {
      await h.close();
    }
  });

  it('honours a per-message expiration shorter than the queue TTL', async () => {
    const clock = new ManualClock();
    const { h, dead } = await withDeadLetters({}, clock);
    try {
      await publishTo(h.connection, 'q', 'short', { properties: { expiration: 100 } });
      clock.advance(101);
      await settle();
      assert.deepEqual(dead.texts, ['short']);
      assert.equal(deaths(dead.deliveries[0]!.message.headers)[0]!['original-expiration'], '100');
      assert.equal(h.broker.getQueue('q')!.messageCount, 0);
    } finally {
      await h.close();
    }
  });

  it('drops the head past max-length (drop-head) and dead-letters it as maxlen', async () => {
    const { h, dead } = await withDeadLetters({ 'x-max-length': 2 });
    try {
      for (const text of ['1', '2', '3']) await publishTo(h.connection, 'q', text);
      assert.equal(h.broker.getQueue('q')!.messageCount, 2);
      assert.deepEqual(dead.texts, ['1']);
      assert.equal(deaths(dead.deliveries[0]!.message.headers)[0]!['reason'], 'maxlen');
      assert.equal(bodyText(await h.connection.get(h.channel, 'q', true)), '2');
    } finally {
      await h.close();
    }
  });

  it('refuses publishes past max-length with reject-publish', async () => {
    const { h, dead } = await withDeadLetters({ 'x-max-length': 1, 'x-overflow': 'reject-publish' });
    try {
      const first = h.connection.publish(textMessage('1', { routingKey: 'q' }));
      const second = h.connection.publish(textMessage('2', { routingKey: 'q' }));
      assert.equal(first.rejected, false);
      assert.equal(second.rejected, true);
      assert.equal(h.broker.getQueue('q')!.messageCount, 1);
      assert.equal(dead.deliveries.length, 0);
    } finally {
      await h.close();
    }
  });

  it('dead-letters the refused publish with reject-publish-dlx', async () => {
    const { h, dead } = await withDeadLetters({ 'x-max-length': 1, 'x-overflow': 'reject-publish-dlx' });
    try {
      h.connection.publish(textMessage('1', { routingKey: 'q' }));
      const refused = h.connection.publish(textMessage('2', { routingKey: 'q' }));
      assert.equal(refused.rejected, true);
      assert.deepEqual(dead.texts, ['2']);
    } finally {
      await h.close();
    }
  });

  it('counts body bytes for max-length-bytes', async () => {
    const { h, dead } = await withDeadLetters({ 'x-max-length-bytes': 10 });
    try {
      for (const text of ['aaaa', 'bbbb', 'cccc']) await publishTo(h.connection, 'q', text);
      assert.equal(h.broker.getQueue('q')!.messageCount, 2);
      assert.equal(h.broker.getQueue('q')!.readyBytes, 8);
      assert.deepEqual(dead.texts, ['aaaa']);
    } finally {
      await h.close();
    }
  });

  it('dead-letters a message returned more often than the delivery limit', async () => {
    const { h, dead } = await withDeadLetters({ 'x-delivery-limit': 1 });
    try {
      await publishTo(h.connection, 'q', 'poison');
      const first = await h.connection.get(h.channel, 'q', false);
      h.channel.nack(first!.deliveryTag, false, true);
      const second = await h.connection.get(h.channel, 'q', false);
      assert.equal(second!.deliveryCount, 2);
      h.channel.nack(second!.deliveryTag, false, true);
      const [delivery] = await dead.waitFor(1);
      assert.equal(deaths(delivery!.message.headers)[0]!['reason'], 'delivery_limit');
      assert.equal(h.broker.getQueue('q')!.messageCount, 0);
    } finally {
      await h.close();
    }
  });

  it('counts repeated deaths in one x-death entry through a retry loop', async () => {
    const clock = new ManualClock();
    const h = await openHarness({ clock });
    try {
      // work --reject--> retry (TTL 100) --expire--> work: the classic delayed-retry topology.
      await h.connection.declareQueue({ name: 'work', arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'retry' } });
      await h.connection.declareQueue({
        name: 'retry',
        arguments: { 'x-message-ttl': 100, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'work' },
      });
      await publishTo(h.connection, 'work', 'job');
      for (let round = 1; round <= 2; round++) {
        const got = await h.connection.get(h.channel, 'work', false);
        assert.ok(got, `round ${round}: message back in work`);
        h.channel.nack(got.deliveryTag, false, false);
        clock.advance(101);
        await settle();
      }
      const final = await h.connection.get(h.channel, 'work', true);
      const entries = deaths(final!.message.headers);
      const rejected = entries.find((entry) => entry['queue'] === 'work' && entry['reason'] === 'rejected');
      const expired = entries.find((entry) => entry['queue'] === 'retry' && entry['reason'] === 'expired');
      assert.equal(rejected!['count'], 2);
      assert.equal(expired!['count'], 2);
      assert.equal(final!.message.headers['x-first-death-queue'], 'work');
    } finally {
      await h.close();
    }
  });

  it('drops an automatic dead-letter cycle (expiry back into the same queue)', async () => {
    const clock = new ManualClock();
    const h = await openHarness({ clock });
    try {
      await h.connection.declareQueue({
        name: 'loop',
        arguments: { 'x-message-ttl': 10, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'loop' },
      });
      await publishTo(h.connection, 'loop', 'x');
      clock.advance(11);
      await settle();
      assert.equal(h.broker.getQueue('loop')!.messageCount, 0);
    } finally {
      await h.close();
    }
  });

  it('deletes a queue unused for x-expires, and an auto-delete queue when its last consumer leaves', async () => {
    const clock = new ManualClock();
    const h = await openHarness({ clock });
    try {
      await h.connection.declareQueue({ name: 'expiring', arguments: { 'x-expires': 1000 } });
      await h.connection.declareQueue({ name: 'auto', autoDelete: true });
      clock.advance(500);
      await h.connection.declareQueue({ name: 'expiring', arguments: { 'x-expires': 1000 } });
      clock.advance(900);
      assert.ok(h.broker.getQueue('expiring'), 'redeclare counts as use');
      clock.advance(200);
      await settle();
      assert.equal(h.broker.getQueue('expiring'), undefined);

      const tag = h.connection.consume(h.channel, 'auto', {}, new Recorder().callbacks);
      assert.ok(h.broker.getQueue('auto'));
      h.channel.cancel(tag);
      await settle();
      assert.equal(h.broker.getQueue('auto'), undefined);
    } finally {
      await h.close();
    }
  });

  it('locks exclusive queues to their connection and deletes them when it closes', async () => {
    const h = await openHarness();
    try {
      const declared = await h.connection.declareQueue({ name: '', exclusive: true });
      assert.match(declared.name, /^amq\.gen-/);
      const other = h.broker.connect({ username: 'guest', tags: [] }, { protocol: 'test', remoteAddress: '127.0.0.1' });
      await assert.rejects(other.declareQueue({ name: declared.name, exclusive: true }), (error) =>
        isBrokerError(error, 'RESOURCE_LOCKED'),
      );
      assert.throws(
        () => other.consume(other.openChannel(), declared.name, {}, new Recorder().callbacks),
        (error) => isBrokerError(error, 'RESOURCE_LOCKED'),
      );
      await h.connection.close();
      assert.equal(h.broker.getQueue(declared.name), undefined);
      await other.close();
    } finally {
      await h.close();
    }
  });
});

describe('topology', () => {
  it('refuses inequivalent redeclarations and reserved names', async () => {
    const h = await openHarness();
    try {
      await h.connection.declareQueue({ name: 'q', durable: true, arguments: { 'x-max-length': 5 } });
      await assert.rejects(h.connection.declareQueue({ name: 'q', durable: false }), (error) =>
        isBrokerError(error, 'PRECONDITION_FAILED'),
      );
      await assert.rejects(
        h.connection.declareQueue({ name: 'q', durable: true, arguments: { 'x-max-length': 6 } }),
        (error) => isBrokerError(error, 'PRECONDITION_FAILED') && /x-max-length/.test(error.message),
      );
      await assert.rejects(h.connection.declareQueue({ name: 'amq.mine' }), (error) => isBrokerError(error, 'RESERVED_NAME'));
      await assert.rejects(h.connection.declareExchange({ name: 'amq.mine', type: 'direct' }), (error) =>
        isBrokerError(error, 'RESERVED_NAME'),
      );
      await assert.rejects(h.connection.declareQueue({ name: 'missing' }, true), (error) =>
        isBrokerError(error, 'QUEUE_NOT_FOUND'),
      );
      await assert.rejects(h.connection.declareQueue({ name: 'bad', arguments: { 'x-overflow': 'explode' } }), (error) =>
        isBrokerError(error, 'INVALID_ARGUMENT'),
      );
      assert.equal(h.broker.getQueue('bad'), undefined);
    } finally {
      await h.close();
    }
  });

  it('routes unroutable messages to the alternate exchange and reports mandatory misses', async () => {
    const h = await openHarness();
    try {
      await h.connection.declareExchange({ name: 'ae', type: 'fanout' });
      await h.connection.declareQueue({ name: 'unrouted' });
      await h.connection.bind({ source: 'ae', destination: 'unrouted', destinationKind: 'queue', routingKey: '' });
      await h.connection.declareExchange({ name: 'orders', type: 'topic', arguments: { 'alternate-exchange': 'ae' } });
      await h.connection.declareExchange({ name: 'plain', type: 'topic' });
      const viaAe = h.connection.publish(textMessage('lost', { exchange: 'orders', routingKey: 'x.y' }));
      assert.equal(viaAe.routed, 1);
      assert.equal(h.broker.getQueue('unrouted')!.messageCount, 1);
      const nowhere = h.connection.publish(textMessage('lost', { exchange: 'plain', routingKey: 'x.y' }));
      assert.equal(nowhere.routed, 0);
      assert.throws(
        () => h.connection.publish(textMessage('x', { exchange: 'nope' })),
        (error) => isBrokerError(error, 'EXCHANGE_NOT_FOUND'),
      );
    } finally {
      await h.close();
    }
  });

  it('routes through exchange-to-exchange bindings and topic patterns', async () => {
    const h = await openHarness();
    try {
      await h.connection.declareExchange({ name: 'edge', type: 'fanout' });
      await h.connection.bind({ source: 'edge', destination: 'amq.topic', destinationKind: 'exchange', routingKey: '' });
      await h.connection.declareQueue({ name: 'eu' });
      await h.connection.declareQueue({ name: 'all' });
      await h.connection.bind({ source: 'amq.topic', destination: 'eu', destinationKind: 'queue', routingKey: 'orders.eu.*' });
      await h.connection.bind({ source: 'amq.topic', destination: 'all', destinationKind: 'queue', routingKey: 'orders.#' });
      h.connection.publish(textMessage('1', { exchange: 'edge', routingKey: 'orders.eu.paris' }));
      h.connection.publish(textMessage('2', { exchange: 'edge', routingKey: 'orders.us.nyc' }));
      h.connection.publish(textMessage('3', { exchange: 'edge', routingKey: 'orders' }));
      assert.equal(h.broker.getQueue('eu')!.messageCount, 1);
      assert.equal(h.broker.getQueue('all')!.messageCount, 3);
    } finally {
      await h.close();
    }
  });

  it('refuses publishing to an internal exchange and deleting used or built-in exchanges', async () => {
    const h = await openHarness();
    try {
      await h.connection.declareExchange({ name: 'inner', type: 'direct', internal: true });
      assert.throws(
        () => h.connection.publish(textMessage('x', { exchange: 'inner' })),
        (error) => isBrokerError(error, 'ACCESS_REFUSED'),
      );
      await h.connection.declareQueue({ name: 'q' });
      await h.connection.bind({ source: 'inner', destination: 'q', destinationKind: 'queue', routingKey: 'k' });
      await assert.rejects(h.connection.deleteExchange('inner', true), (error) => isBrokerError(error, 'IN_USE'));
      await assert.rejects(h.connection.deleteExchange('amq.topic'), (error) => isBrokerError(error, 'ACCESS_REFUSED'));
      await h.connection.publish(textMessage('x', { routingKey: 'q' })).durable;
      await assert.rejects(h.connection.deleteQueue('q', { ifEmpty: true }), (error) => isBrokerError(error, 'NOT_EMPTY'));
      assert.equal(await h.connection.deleteQueue('q'), 1);
    } finally {
      await h.close();
    }
  });
});

describe('fairness and type rules', () => {
  it('yields to the event loop while a consumer requeues synchronously inside its callback', async () => {
    const h = await openHarness();
    try {
      await h.connection.declareQueue({ name: 'q' });
      let deliveries = 0;
      h.connection.consume(h.channel, 'q', {}, {
        deliver: (delivery) => {
          deliveries += 1;
          h.channel.nack(delivery.deliveryTag, false, true);
        },
      });
      h.connection.publish(textMessage('hot potato', { routingKey: 'q' }));
      // Without yielding, this await would never resume: the redelivery loop would hold the thread.
      await new Promise<void>((resolve) => setImmediate(resolve));
      assert.ok(deliveries >= 1024, `delivered ${deliveries} times before yielding`);
      await h.connection.deleteQueue('q');
    } finally {
      await h.close();
    }
  });

  it('applies RabbitMQ type rules to quorum and stream queues', async () => {
    const h = await openHarness();
    try {
      await assert.rejects(
        h.connection.declareQueue({ name: 'qq', durable: false, arguments: { 'x-queue-type': 'quorum' } }),
        (error) => isBrokerError(error, 'PRECONDITION_FAILED'),
      );
      await h.connection.declareQueue({ name: 's', durable: true, arguments: { 'x-queue-type': 'stream' } });
      await assert.rejects(h.connection.declareQueue({ name: 's', durable: true }), (error) =>
        isBrokerError(error, 'PRECONDITION_FAILED') && /x-queue-type/.test(error.message),
      );
      await assert.rejects(h.connection.purgeQueue('s'), (error) => isBrokerError(error, 'PRECONDITION_FAILED'));
    } finally {
      await h.close();
    }
  });
});
