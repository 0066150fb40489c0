/** AMQP 0-9-1 exchanges, queues and the basic class with amqplib as the client. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type amqp from 'amqplib';
import { collect, startAmqpServer, within, type AmqpTestServer } from './amqp-harness.js';

function channelClosed(channel: amqp.Channel): Promise<Error> {
  return within<Error>(5000, 'the channel to close with an error', (resolve) => channel.once('error', resolve));
}

describe('AMQP basic class', () => {
  let broker: AmqpTestServer;
  let connection: amqp.ChannelModel;
  before(async () => {
    broker = await startAmqpServer();
    connection = await broker.connect();
  });
  after(async () => {
    await connection.close();
    await broker.close();
  });

  it('declares, binds, publishes and consumes with properties and headers preserved', async () => {
    const channel = await connection.createChannel();
    await channel.assertExchange('orders', 'topic', { durable: false });
    const { queue } = await channel.assertQueue('orders.eu', { durable: false });
    await channel.bindQueue(queue, 'orders', 'order.eu.*');
    const received = collect(channel, queue, 1);
    channel.publish('orders', 'order.eu.created', Buffer.from('{"id":1}'), {
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      headers: { tenant: 'acme', attempt: 3, nested: { ok: true } },
      priority: 4,
      correlationId: 'c-1',
      replyTo: 'replies',
      expiration: '60000',
      messageId: 'm-1',
      timestamp: 1_700_000_000,
      type: 'order.created',
      userId: 'guest',
      appId: 'shop',
      persistent: true,
    });
    const [message] = await received;
    assert.ok(message);
    assert.equal(message.content.toString(), '{"id":1}');
    assert.equal(message.fields.exchange, 'orders');
    assert.equal(message.fields.routingKey, 'order.eu.created');
    assert.equal(message.fields.redelivered, false);
    const p = message.properties;
    assert.equal(p.contentType, 'application/json');
    assert.equal(p.contentEncoding, 'utf-8');
    assert.deepEqual(p.headers, { tenant: 'acme', attempt: 3, nested: { ok: true } });
    assert.equal(p.priority, 4);
    assert.equal(p.correlationId, 'c-1');
    assert.equal(p.replyTo, 'replies');
    assert.equal(p.expiration, '60000');
    assert.equal(p.messageId, 'm-1');
    assert.equal(p.timestamp, 1_700_000_000);
    assert.equal(p.type, 'order.created');
    assert.equal(p.userId, 'guest');
    assert.equal(p.appId, 'shop');
    assert.equal(p.deliveryMode, 2);
    channel.ack(message);
    await channel.deleteQueue(queue);
    await channel.deleteExchange('orders');
    await channel.close();
  });

  it('respects the prefetch count and redelivers a nacked message flagged redelivered', async () => {
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    for (let i = 0; i < 5; i++) channel.sendToQueue(queue, Buffer.from(`m${i}`));
    await channel.prefetch(2);
    const deliveries: amqp.ConsumeMessage[] = [];
    let waiter: (() => void) | undefined;
    await channel.consume(queue, (message) => {
      if (message === null) return;
      deliveries.push(message);
      waiter?.();
    });
    const count = (n: number): Promise<void> =>
      within(5000, `${n} deliveries`, (resolve) => {
        waiter = () => {
          if (deliveries.length >= n) resolve(undefined);
        };
        waiter();
      });
    await count(2);
    // A round trip on the channel: anything more the server had sent would have arrived before it.
    await channel.checkQueue(queue);
    assert.equal(deliveries.length, 2, 'no more than the prefetch count unacked');
    channel.nack(deliveries[0]!, false, true);
    await count(3);
    const again = deliveries[2]!;
    assert.equal(again.content.toString(), 'm0');
    assert.equal(again.fields.redelivered, true);
    channel.ack(deliveries[1]!);
    channel.ack(again);
    await count(5);
    channel.ackAll();
    await channel.close();
  });

  it('basic.get returns get-ok with the message count, then get-empty', async () => {
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    channel.sendToQueue(queue, Buffer.from('one'));
    channel.sendToQueue(queue, Buffer.from('two'));
    await channel.checkQueue(queue);
    const first = await channel.get(queue);
    assert.ok(first);
    assert.equal(first.content.toString(), 'one');
    assert.equal(first.fields.messageCount, 1);
    const second = await channel.get(queue, { noAck: true });
    assert.ok(second);
    assert.equal(second.content.toString(), 'two');
    assert.equal(await channel.get(queue), false);
    channel.ack(first);
    await channel.close();
  });

  it('closes the channel with 404 for a missing queue; the connection keeps working', async () => {
    const channel = await connection.createChannel();
    const closed = channelClosed(channel);
    await assert.rejects(channel.checkQueue('no-such-queue'), /404/);
    const error = await closed;
    assert.match(error.message, /NOT_FOUND - no queue 'no-such-queue' in vhost '\/'/);
    const other = await connection.createChannel();
    const { queue } = await other.assertQueue('', { exclusive: true });
    assert.ok(queue);
    await other.close();
  });

  it('refuses an inequivalent redeclare with 406 PRECONDITION_FAILED', async () => {
    const channel = await connection.createChannel();
    await channel.assertQueue('settled', { durable: false });
    const closed = channelClosed(channel);
    await assert.rejects(channel.assertQueue('settled', { durable: true }), /406/);
    assert.match((await closed).message, /PRECONDITION_FAILED/);
    const cleanup = await connection.createChannel();
    await cleanup.deleteQueue('settled');
    await cleanup.close();
  });

  it('closes the channel with 406 on an unknown delivery tag', async () => {
    const channel = await connection.createChannel();
    const closed = channelClosed(channel);
    channel.ack({ fields: { deliveryTag: 42 } } as amqp.Message);
    assert.match((await closed).message, /PRECONDITION_FAILED - unknown delivery tag 42/);
  });

  it('returns an unroutable mandatory message with 312 NO_ROUTE', async () => {
    const channel = await connection.createChannel();
    await channel.assertExchange('nowhere', 'direct', { durable: false });
    const returned = within<amqp.Message>(5000, 'basic.return', (resolve) => channel.once('return', resolve));
    channel.publish('nowhere', 'missing', Buffer.from('lost'), { mandatory: true, messageId: 'r-1' });
    const message = await returned;
    assert.equal(message.content.toString(), 'lost');
    const fields = message.fields as unknown as { replyCode: number; replyText: string; routingKey: string };
    assert.equal(fields.replyCode, 312);
    assert.equal(fields.replyText, 'NO_ROUTE');
    assert.equal(fields.routingKey, 'missing');
    assert.equal(message.properties.messageId, 'r-1');
    await channel.deleteExchange('nowhere');
    await channel.close();
  });

  it('binds exchanges to exchanges, purges, and cancels consumers', async () => {
    const channel = await connection.createChannel();
    await channel.assertExchange('upstream', 'fanout', { durable: false });
    await channel.assertExchange('downstream', 'direct', { durable: false });
    await channel.bindExchange('downstream', 'upstream', '');
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, 'downstream', 'k');
    channel.publish('upstream', 'k', Buffer.from('via-e2e'));
    channel.publish('upstream', 'other', Buffer.from('dropped'));
    await within(5000, 'the message in the queue', (resolve) => {
      const poll = (): void => {
        void channel.checkQueue(queue).then((ok) => (ok.messageCount === 1 ? resolve(undefined) : setImmediate(poll)));
      };
      poll();
    });
    assert.deepEqual(await channel.purgeQueue(queue), { messageCount: 1 });
    const { consumerTag } = await channel.consume(queue, () => undefined);
    assert.match(consumerTag, /^amq\.ctag-/);
    assert.equal((await channel.checkQueue(queue)).consumerCount, 1);
    await channel.cancel(consumerTag);
    assert.equal((await channel.checkQueue(queue)).consumerCount, 0);
    await channel.unbindExchange('downstream', 'upstream', '');
    await channel.deleteExchange('upstream');
    await channel.deleteExchange('downstream');
    await channel.close();
  });

  it('notifies a consumer when its queue is deleted (consumer_cancel_notify)', async () => {
    const channel = await connection.createChannel();
    await channel.assertQueue('doomed', { durable: false });
    const cancelled = within<null>(5000, 'the server-side cancel', (resolve) => {
      void channel.consume('doomed', (message) => {
        if (message === null) resolve(null);
      });
    });
    await channel.checkQueue('doomed');
    const other = await connection.createChannel();
    await other.deleteQueue('doomed');
    assert.equal(await cancelled, null);
    await other.close();
    await channel.close();
  });

  it('runs a publish pipelined behind queue.declare after the declare', async () => {
    const channel = await connection.createChannel();
    // amqplib writes the publish without waiting for declare-ok.
    const declared = channel.assertQueue('pipelined', { durable: false });
    channel.sendToQueue('pipelined', Buffer.from('after declare'));
    await declared;
    assert.equal((await channel.checkQueue('pipelined')).messageCount, 1);
    await channel.deleteQueue('pipelined');
    await channel.close();
  });

  it('basic.recover redelivers unacked messages; global qos limits the whole channel', async () => {
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    for (let i = 0; i < 4; i++) channel.sendToQueue(queue, Buffer.from(`r${i}`));
    await channel.prefetch(3, true);
    const deliveries: amqp.ConsumeMessage[] = [];
    let waiter: (() => void) | undefined;
    const onMessage = (message: amqp.ConsumeMessage | null): void => {
      if (message === null) return;
      deliveries.push(message);
      waiter?.();
    };
    await channel.consume(queue, onMessage);
    await channel.consume(queue, onMessage);
    const count = (n: number): Promise<void> =>
      within(5000, `${n} deliveries`, (resolve) => {
        waiter = () => {
          if (deliveries.length >= n) resolve(undefined);
        };
        waiter();
      });
    await count(3);
    await channel.checkQueue(queue);
    assert.equal(deliveries.length, 3, 'two consumers share the channel-wide window of 3');
    await channel.recover();
    await count(6);
    assert.ok(deliveries.slice(3).every((message) => message.fields.redelivered), 'recovered messages come back redelivered');
    channel.ackAll();
    await channel.close();
  });

  it('delivers to the consumer with the highest x-priority while it has room', async () => {
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    const low: string[] = [];
    const high = collect(channel, queue, 5, { priority: 10 });
    await channel.consume(queue, (message) => {
      if (message) low.push(message.content.toString());
    }, { priority: 0, noAck: true });
    for (let i = 0; i < 5; i++) channel.sendToQueue(queue, Buffer.from(`p${i}`));
    const got = await high;
    assert.deepEqual(got.map((m) => m.content.toString()), ['p0', 'p1', 'p2', 'p3', 'p4']);
    assert.deepEqual(low, []);
    channel.ackAll();
    await channel.close();
  });
});
