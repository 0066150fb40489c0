/** Consuming a stream queue over AMQP with x-stream-offset, as RabbitMQ streams are read. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type amqp from 'amqplib';
import { collect, startAmqpServer, type AmqpTestServer } from './amqp-harness.js';

describe('AMQP stream queues', () => {
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

  it('reads a stream from the first offset, and again from an offset number', async () => {
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue('events', { durable: true, arguments: { 'x-queue-type': 'stream' } });
    for (let i = 0; i < 5; i++) channel.sendToQueue('events', Buffer.from(`e${i}`));
    await channel.waitForConfirms();
    const reader = await connection.createChannel();
    await reader.prefetch(10);
    const all = await collect(reader, 'events', 5, { arguments: { 'x-stream-offset': 'first' } });
    assert.deepEqual(all.map((m) => m.content.toString()), ['e0', 'e1', 'e2', 'e3', 'e4']);
    for (const message of all) reader.ack(message);
    const fromThree = await collect(reader, 'events', 2, { arguments: { 'x-stream-offset': 3 } });
    assert.deepEqual(fromThree.map((m) => m.content.toString()), ['e3', 'e4']);
    await reader.close();
    await channel.deleteQueue('events');
    await channel.close();
  });
});
