/**
 * RabbitMQ's rules on a channel, with its reply codes: reserved `amq.` names, exclusive consumers,
 * if-unused / if-empty deletes, validated user-id, channel.flow, basic.recover without requeue, tx and
 * confirm modes exclusive of each other, and an unknown method.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type amqp from 'amqplib';
import { RawClient, startAmqpServer, within, type AmqpTestServer } from './amqp-harness.js';

type CodedError = Error & { code?: number };

/** Runs `act` on a fresh channel and returns the error the channel closes with. */
async function channelError(connection: amqp.ChannelModel, act: (channel: amqp.Channel) => unknown): Promise<CodedError> {
  const channel = await connection.createChannel();
  const closed = within<CodedError>(5000, 'the channel error', (resolve) => channel.on('error', resolve));
  try {
    await act(channel);
  } catch {
    // The rejected RPC; the channel's error event carries the reply.
  }
  return closed;
}

describe('AMQP channel rules', () => {
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

  it('refuses amq.-prefixed queue and exchange names with 403; a passive declare of amq.direct works', async () => {
    const queue = await channelError(connection, (channel) => channel.assertQueue('amq.mine'));
    assert.equal(queue.code, 403);
    assert.match(queue.message, /ACCESS_REFUSED - .*'amq\.mine'.*reserved prefix/);
    const exchange = await channelError(connection, (channel) => channel.assertExchange('amq.mine', 'direct'));
    assert.equal(exchange.code, 403);
    const channel = await connection.createChannel();
    await channel.checkExchange('amq.direct');
    await channel.close();
  });

  it('refuses a second consumer on a queue consumed exclusively, and an exclusive one on a consumed queue (403)', async () => {
    const owner = await connection.createChannel();
    await owner.assertQueue('rules-exclusive', { durable: false });
    await owner.consume('rules-exclusive', () => undefined, { exclusive: true });
    const second = await channelError(connection, (channel) => channel.consume('rules-exclusive', () => undefined));
    assert.equal(second.code, 403);
    assert.match(second.message, /ACCESS_REFUSED - queue 'rules-exclusive' in vhost '\/' in exclusive use/);
    await owner.assertQueue('rules-shared', { durable: false });
    await owner.consume('rules-shared', () => undefined);
    const exclusive = await channelError(connection, (channel) => channel.consume('rules-shared', () => undefined, { exclusive: true }));
    assert.equal(exclusive.code, 403);
    assert.match(exclusive.message, /ACCESS_REFUSED - queue 'rules-shared' in vhost '\/' in exclusive use/);
    await owner.deleteQueue('rules-exclusive');
    await owner.deleteQueue('rules-shared');
    await owner.close();
  });

  it('refuses queue.delete if-unused / if-empty and exchange.delete if-unused with 406', async () => {
    const setup = await connection.createConfirmChannel();
    await setup.assertQueue('rules-used', { durable: false });
    await setup.consume('rules-used', () => undefined);
    await setup.assertQueue('rules-full', { durable: false });
    setup.sendToQueue('rules-full', Buffer.from('x'));
    await setup.waitForConfirms();
    await setup.assertExchange('rules-bound', 'fanout', { durable: false });
    await setup.bindQueue('rules-full', 'rules-bound', '');

    const unused = await channelError(connection, (channel) => channel.deleteQueue('rules-used', { ifUnused: true }));
    assert.equal(unused.code, 406);
    assert.match(unused.message, /PRECONDITION_FAILED - queue 'rules-used' in vhost '\/' in use/);
    const empty = await channelError(connection, (channel) => channel.deleteQueue('rules-full', { ifEmpty: true }));
    assert.equal(empty.code, 406);
    assert.match(empty.message, /not empty/);
    const exchange = await channelError(connection, (channel) => channel.deleteExchange('rules-bound', { ifUnused: true }));
    assert.equal(exchange.code, 406);
    assert.match(exchange.message, /exchange 'rules-bound' in vhost '\/' in use/);

    assert.equal((await setup.checkQueue('rules-full')).messageCount, 1, 'nothing was deleted');
    await setup.deleteExchange('rules-bound');
    await setup.deleteQueue('rules-used');
    await setup.deleteQueue('rules-full');
    await setup.close();
  });

  it("refuses another connection's exclusive queue with 405 RESOURCE_LOCKED", async () => {
    const channel = await connection.createChannel();
    await channel.assertQueue('rules-locked', { exclusive: true });
    const other = await broker.connect();
    const locked = await channelError(other, (otherChannel) => otherChannel.assertQueue('rules-locked', { exclusive: true }));
    assert.equal(locked.code, 405);
    assert.match(locked.message, /RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'rules-locked'/);
    await other.close();
    await channel.deleteQueue('rules-locked');
    await channel.close();
  });

  it('refuses a user-id other than the authenticated user with 406', async () => {
    const error = await channelError(connection, (channel) => channel.publish('amq.direct', 'x', Buffer.from('forged'), { userId: 'admin' }));
    assert.equal(error.code, 406);
    assert.match(error.message, /PRECONDITION_FAILED - user_id property set to 'admin' but authenticated user was 'guest'/);
  });
});

describe('AMQP channel rules on the raw wire', () => {
  let broker: AmqpTestServer;
  let client: RawClient;
  before(async () => {
    broker = await startAmqpServer();
  });
  after(async () => {
    await broker.close();
  });

  function declare(queue: string, channel: number, passive = false): void {
    client.send(
      { name: 'queue.declare', ticket: 0, queue, passive, durable: false, exclusive: false, autoDelete: false, nowait: false, arguments: {} },
      channel,
    );
  }

  it('channel.flow stops deliveries to the channel and resumes them', async () => {
    client = await RawClient.open(broker.port);
    await client.handshake();
    await openRawChannel(client, 1);
    declare('rules-flow', 1);
    await client.method('queue.declare-ok', 1);
    client.send({ name: 'basic.consume', ticket: 0, queue: 'rules-flow', consumerTag: 'c', noLocal: false, noAck: true, exclusive: false, nowait: false, arguments: {} }, 1);
    await client.method('basic.consume-ok', 1);
    client.send({ name: 'channel.flow', active: false }, 1);
    assert.deepEqual(await client.method('channel.flow-ok', 1), { name: 'channel.flow-ok', active: false });
    client.publish(1, 'rules-flow', new TextEncoder().encode('held'));
    declare('rules-flow', 1, true);
    const held = await client.method('queue.declare-ok', 1);
    assert.equal(held.name === 'queue.declare-ok' && held.messageCount, 1, 'the message waits in the queue');
    client.send({ name: 'channel.flow', active: true }, 1);
    await client.method('channel.flow-ok', 1);
    const deliver = await client.method('basic.deliver', 1);
    assert.equal(deliver.name === 'basic.deliver' && deliver.routingKey, 'rules-flow');
  });

  it('tx.select then confirm.select closes the channel with 406; the connection goes on', async () => {
    await openRawChannel(client, 2);
    client.send({ name: 'tx.select' }, 2);
    await client.method('tx.select-ok', 2);
    client.send({ name: 'confirm.select', nowait: false }, 2);
    const close = await client.method('channel.close', 2);
    assert.equal(close.name === 'channel.close' && close.replyCode, 406);
    assert.equal(close.name === 'channel.close' && close.replyText, 'PRECONDITION_FAILED - cannot switch from tx to confirm mode');
    client.send({ name: 'channel.close-ok' }, 2);
    await openRawChannel(client, 3);
    client.send({ name: 'confirm.select', nowait: false }, 3);
    await client.method('confirm.select-ok', 3);
    client.send({ name: 'tx.select' }, 3);
    const other = await client.method('channel.close', 3);
    assert.equal(other.name === 'channel.close' && other.replyText, 'PRECONDITION_FAILED - cannot switch from confirm to tx mode');
    client.send({ name: 'channel.close-ok' }, 3);
  });

  it('basic.recover with requeue=false is 540 NOT_IMPLEMENTED, as RabbitMQ', async () => {
    await openRawChannel(client, 4);
    client.send({ name: 'basic.recover', requeue: false }, 4);
    const close = await client.method('connection.close');
    assert.deepEqual(close, { name: 'connection.close', replyCode: 540, replyText: 'NOT_IMPLEMENTED - requeue=false', classId: 60, methodId: 110 });
    client.send({ name: 'connection.close-ok' });
    await within(5000, 'the socket to close', (resolve) => void client.closed.then(resolve));
  });

  it('an unknown method closes the connection with 540 NOT_IMPLEMENTED', async () => {
    const raw = await RawClient.open(broker.port);
    await raw.handshake();
    // A method frame on channel 0: class 10, method 99 (no such method).
    raw.writeRaw(Uint8Array.from([1, 0, 0, 0, 0, 0, 4, 0, 10, 0, 99, 0xce]));
    const close = await raw.method('connection.close');
    assert.equal(close.name === 'connection.close' && close.replyCode, 540);
    raw.send({ name: 'connection.close-ok' });
    await within(5000, 'the socket to close', (resolve) => void raw.closed.then(resolve));
  });

  it('a frame over the negotiated frame-max closes the connection with 501 FRAME_ERROR', async () => {
    const raw = await RawClient.open(broker.port);
    const tune = await raw.handshake();
    const frameMax = tune.name === 'connection.tune' ? tune.frameMax : 0;
    await openRawChannel(raw, 1);
    // A body frame whose payload is 64 octets over frame-max (RabbitMQ tolerates 8).
    const size = frameMax + 64;
    const frame = new Uint8Array(7 + size + 1);
    new DataView(frame.buffer).setUint8(0, 3);
    new DataView(frame.buffer).setUint16(1, 1);
    new DataView(frame.buffer).setUint32(3, size);
    frame[frame.length - 1] = 0xce;
    raw.writeRaw(frame);
    const close = await raw.method('connection.close');
    assert.equal(close.name === 'connection.close' && close.replyCode, 501);
    raw.send({ name: 'connection.close-ok' });
    await within(5000, 'the socket to close', (resolve) => void raw.closed.then(resolve));
  });
});

async function openRawChannel(raw: RawClient, id: number): Promise<void> {
  raw.send({ name: 'channel.open', outOfBand: '' }, id);
  await raw.method('channel.open-ok', id);
}
