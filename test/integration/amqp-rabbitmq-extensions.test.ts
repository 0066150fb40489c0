/**
 * RabbitMQ's extensions to AMQP 0-9-1 beyond the basics: connection.update-secret, sender-selected
 * distribution (CC / BCC headers), and connection.blocked for a client connecting during an alarm.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type amqp from 'amqplib';
import { decodeMethod } from '../../src/protocols/amqp/codec/index.js';
import { collect, RawClient, startAmqpServer, within, type AmqpTestServer } from './amqp-harness.js';

describe('AMQP connection.update-secret', () => {
  let broker: AmqpTestServer;
  before(async () => {
    broker = await startAmqpServer();
  });
  after(async () => {
    await broker.close();
  });

  it('accepts a secret the authentication port accepts, and the connection goes on', async () => {
    const connection = await broker.connect();
    await connection.updateSecret(Buffer.from('guest'), 'token refreshed');
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    channel.sendToQueue(queue, Buffer.from('after the new secret'));
    const [message] = await collect(channel, queue, 1, { noAck: true });
    assert.equal(message!.content.toString(), 'after the new secret');
    await connection.close();
  });

  it('closes the connection with 530 NOT_ALLOWED when the new secret is refused', async () => {
    const connection = await broker.connect();
    const closed = within<Error>(5000, 'the connection error', (resolve) => connection.on('error', resolve));
    // amqplib's promise only ever resolves (on update-secret-ok); the refusal shows as the connection's error.
    void connection.updateSecret(Buffer.from('expired-token'), 'token refreshed');
    const error = (await closed) as Error & { code?: number };
    assert.equal(error.code, 530);
    assert.match(error.message, /NOT_ALLOWED - New secret was refused by one of the backends/);
  });

  it('answers update-secret-ok on the raw wire, and refuses it before connection.open', async () => {
    const client = await RawClient.open(broker.port);
    await client.handshake();
    client.send({ name: 'connection.update-secret', newSecret: new TextEncoder().encode('guest'), reason: 'refresh' });
    assert.deepEqual(await client.method('connection.update-secret-ok'), { name: 'connection.update-secret-ok' });
    client.send({ name: 'connection.update-secret', newSecret: new TextEncoder().encode('nope'), reason: 'refresh' });
    const close = await client.method('connection.close');
    assert.deepEqual(close, {
      name: 'connection.close',
      replyCode: 530,
      replyText: 'NOT_ALLOWED - New secret was refused by one of the backends',
      classId: 10,
      methodId: 70,
    });
    client.send({ name: 'connection.close-ok' });
    await within(5000, 'the socket to close', (resolve) => void client.closed.then(resolve));
  });
});

describe('AMQP CC and BCC headers (sender-selected distribution)', () => {
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

  it('routes with each CC and BCC key too, stores once per queue, and strips BCC', async () => {
    const channel = await connection.createConfirmChannel();
    await channel.assertExchange('ssd', 'direct', { durable: false });
    const queues = { main: 'ssd-main', cc: 'ssd-cc', bcc: 'ssd-bcc', both: 'ssd-both', none: 'ssd-none' };
    for (const name of Object.values(queues)) await channel.assertQueue(name, { durable: false });
    await channel.bindQueue(queues.main, 'ssd', 'main');
    await channel.bindQueue(queues.cc, 'ssd', 'copy');
    await channel.bindQueue(queues.bcc, 'ssd', 'blind');
    // Bound with two keys that both match: still one copy.
    await channel.bindQueue(queues.both, 'ssd', 'copy');
    await channel.bindQueue(queues.both, 'ssd', 'blind');
    await channel.bindQueue(queues.none, 'ssd', 'elsewhere');
    channel.publish('ssd', 'main', Buffer.from('hello'), {
      headers: { CC: ['copy', 'main', 42], BCC: ['blind'], 'x-app': 'kept' },
    });
    await channel.waitForConfirms();

    for (const name of [queues.main, queues.cc, queues.bcc, queues.both]) {
      const counts = await channel.checkQueue(name);
      assert.equal(counts.messageCount, 1, `${name} holds exactly one copy`);
    }
    assert.equal((await channel.checkQueue(queues.none)).messageCount, 0);
    for (const name of [queues.main, queues.bcc]) {
      const message = await channel.get(name, { noAck: true });
      assert.ok(message);
      assert.equal(message.content.toString(), 'hello');
      assert.equal(message.fields.routingKey, 'main', 'delivered with the routing key it was published with');
      assert.deepEqual(message.properties.headers, { CC: ['copy', 'main', 42], 'x-app': 'kept' }, 'BCC removed, CC kept');
    }
    for (const name of Object.values(queues)) await channel.deleteQueue(name);
    await channel.deleteExchange('ssd');
    await channel.close();
  });

  it('counts a message routed only by CC as routed (no basic.return for mandatory)', async () => {
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    const returned: string[] = [];
    channel.on('return', (message: amqp.Message) => returned.push(message.fields.routingKey));
    // Through the default exchange: the CC key names the queue.
    channel.publish('', 'no-such-queue', Buffer.from('cc only'), { mandatory: true, headers: { CC: [queue] } });
    channel.publish('', 'no-such-queue-either', Buffer.from('nowhere'), { mandatory: true });
    await within(5000, 'the return of the unroutable message', (resolve) => channel.on('return', () => resolve(undefined)));
    assert.deepEqual(returned, ['no-such-queue-either']);
    const message = await channel.get(queue, { noAck: true });
    assert.ok(message);
    assert.equal(message.content.toString(), 'cc only');
    await channel.close();
  });

  it('closes the channel with 406 when CC is not an array; the connection goes on', async () => {
    const channel = await connection.createChannel();
    const closed = within<Error>(5000, 'the channel error', (resolve) => channel.on('error', resolve));
    channel.publish('amq.direct', 'x', Buffer.from('bad'), { headers: { CC: 'not-an-array' } });
    const error = (await closed) as Error & { code?: number };
    assert.equal(error.code, 406);
    assert.match(error.message, /PRECONDITION_FAILED - invalid message: \{unacceptable_type_in_header,"CC",longstr\}/);
    const other = await connection.createChannel();
    await other.checkExchange('amq.direct');
    await other.close();
  });
});

describe('AMQP connection.blocked for a client connecting during a resource alarm', () => {
  let broker: AmqpTestServer;
  before(async () => {
    // More free disk than any machine has: the disk alarm is on from the start.
    broker = await startAmqpServer({}, { config: { diskFreeLimit: 1024 ** 4 } });
  });
  after(async () => {
    await broker.close();
  });

  it('sends connection.blocked right after open-ok to a client with the capability', async () => {
    const client = await RawClient.open(broker.port);
    await client.handshake(0, { capabilities: { 'connection.blocked': true } });
    const blocked = await client.method('connection.blocked');
    assert.deepEqual(blocked, { name: 'connection.blocked', reason: 'low on disk' });
    client.send({ name: 'connection.close', replyCode: 200, replyText: 'bye', classId: 0, methodId: 0 });
    await client.method('connection.close-ok');
  });

  it('sends nothing of the kind to a client without the capability', async () => {
    const client = await RawClient.open(broker.port);
    await client.handshake(0, {});
    client.send({ name: 'connection.close', replyCode: 200, replyText: 'bye', classId: 0, methodId: 0 });
    await client.method('connection.close-ok');
    assert.ok(
      client.pending.every((frame) => frame.type !== 1 || decodeMethod(frame.payload).name !== 'connection.blocked'),
      'no connection.blocked (class 10, method 60) was received',
    );
  });
});
