/** Publisher confirms: acks only once persistent messages are durable, and they survive a restart. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { collect, RawClient, startAmqpServer, within, type AmqpTestServer } from './amqp-harness.js';

describe('AMQP publisher confirms', () => {
  let broker: AmqpTestServer;
  before(async () => {
    broker = await startAmqpServer();
  });
  after(async () => {
    await broker.close();
  });

  it('confirms every publish in order (waitForConfirms), also for unroutable messages', async () => {
    const connection = await broker.connect();
    const channel = await connection.createConfirmChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    const acked: number[] = [];
    for (let i = 0; i < 50; i++) {
      channel.sendToQueue(queue, Buffer.from(`m${i}`), {}, (error) => {
        assert.equal(error, null);
        acked.push(i);
      });
    }
    channel.publish('amq.direct', 'nobody-bound', Buffer.from('unroutable'));
    await channel.waitForConfirms();
    assert.deepEqual(acked, Array.from({ length: 50 }, (_, i) => i));
    assert.equal((await channel.checkQueue(queue)).messageCount, 50);
    await connection.close();
  });

  it('nacks a publish a full queue refuses (x-overflow reject-publish)', async () => {
    const connection = await broker.connect();
    const channel = await connection.createConfirmChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
    const outcomes: string[] = [];
    const settled = within(5000, 'both confirms', (resolve) => {
      const record = (what: string) => (error: unknown) => {
        outcomes.push(`${what}:${error === null ? 'ack' : 'nack'}`);
        if (outcomes.length === 2) resolve(undefined);
      };
      channel.sendToQueue(queue, Buffer.from('fits'), {}, record('first'));
      channel.sendToQueue(queue, Buffer.from('refused'), {}, record('second'));
    });
    await settled;
    assert.deepEqual(outcomes, ['first:ack', 'second:nack']);
    await connection.close();
  });

  it('persistent messages confirmed in a durable queue survive a broker restart', async () => {
    const connection = await broker.connect();
    connection.on('error', () => undefined);
    const closed = within(5000, 'the connection to be closed by the restart', (resolve) => connection.once('close', resolve));
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => undefined);
    await channel.assertQueue('confirmed', { durable: true });
    for (let i = 0; i < 100; i++) channel.sendToQueue('confirmed', Buffer.from(`durable ${i}`), { persistent: true, messageId: `id-${i}` });
    await channel.waitForConfirms();
    // No close from the client: the server goes away under the open connection.
    await broker.restart();
    await closed;

    const again = await broker.connect();
    const consumer = await again.createChannel();
    const ok = await consumer.checkQueue('confirmed');
    assert.equal(ok.messageCount, 100);
    const messages = await collect(consumer, 'confirmed', 100, { noAck: true });
    assert.deepEqual(
      messages.map((message) => message.content.toString()),
      Array.from({ length: 100 }, (_, i) => `durable ${i}`),
    );
    assert.equal(messages[0]!.properties.deliveryMode, 2);
    assert.equal(messages[99]!.properties.messageId, 'id-99');
    await consumer.deleteQueue('confirmed');
    await again.close();
  });
});

describe('AMQP confirm coalescing', () => {
  let broker: AmqpTestServer;
  before(async () => {
    broker = await startAmqpServer();
  });
  after(async () => {
    await broker.close();
  });

  it('acks publishes that became durable together with one multiple ack', async () => {
    const client = await RawClient.open(broker.port);
    await client.handshake();
    client.send({ name: 'channel.open', outOfBand: '' }, 1);
    await client.method('channel.open-ok', 1);
    client.send({ name: 'confirm.select', nowait: false }, 1);
    await client.method('confirm.select-ok', 1);
    client.send({ name: 'queue.declare', ticket: 0, queue: 'coalesced', passive: false, durable: false, exclusive: true, autoDelete: false, nowait: false, arguments: {} }, 1);
    await client.method('queue.declare-ok', 1);
    // Three transient publishes in one write: they are durable at once, so one ack covers them.
    for (let i = 0; i < 3; i++) client.publish(1, 'coalesced', new Uint8Array([i]));
    client.flush();
    const ack = await client.method('basic.ack', 1);
    assert.deepEqual(ack, { name: 'basic.ack', deliveryTag: 3, multiple: true });
    client.send({ name: 'connection.close', replyCode: 200, replyText: 'bye', classId: 0, methodId: 0 });
    await client.method('connection.close-ok');
    await client.closed;
  });
});
