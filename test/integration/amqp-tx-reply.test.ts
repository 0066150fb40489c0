/** AMQP transactions (tx class) and RabbitMQ's direct reply-to, with amqplib. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type amqp from 'amqplib';
import { startAmqpServer, within, type AmqpTestServer } from './amqp-harness.js';

/** amqplib has no tx API; its channel sends any method through `rpc` (class << 16 | method ids). */
interface RpcChannel {
  rpc(method: number, fields: Record<string, unknown>, expect: number): Promise<unknown>;
}
const TX_SELECT = (90 << 16) | 10;
const TX_SELECT_OK = (90 << 16) | 11;
const TX_COMMIT = (90 << 16) | 20;
const TX_COMMIT_OK = (90 << 16) | 21;
const TX_ROLLBACK = (90 << 16) | 30;
const TX_ROLLBACK_OK = (90 << 16) | 31;

function txRpc(channel: amqp.Channel, method: number, expect: number): Promise<unknown> {
  return (channel as unknown as RpcChannel).rpc(method, {}, expect);
}

describe('AMQP transactions and direct reply-to', () => {
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

  it('publishes in a transaction only on commit, and drops them on rollback', async () => {
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await txRpc(channel, TX_SELECT, TX_SELECT_OK);
    channel.sendToQueue(queue, Buffer.from('rolled back'));
    await txRpc(channel, TX_ROLLBACK, TX_ROLLBACK_OK);
    assert.equal((await channel.checkQueue(queue)).messageCount, 0);
    channel.sendToQueue(queue, Buffer.from('committed'), { persistent: true });
    assert.equal((await channel.checkQueue(queue)).messageCount, 0, 'nothing before the commit');
    await txRpc(channel, TX_COMMIT, TX_COMMIT_OK);
    assert.equal((await channel.checkQueue(queue)).messageCount, 1);
    await channel.close();
  });

  it('routes replies to amq.rabbitmq.reply-to straight to the requesting channel', async () => {
    const server = await connection.createChannel();
    const { queue: rpcQueue } = await server.assertQueue('', { exclusive: true });
    await server.consume(rpcQueue, (request) => {
      if (request === null) return;
      server.sendToQueue(request.properties.replyTo as string, Buffer.from(`echo ${request.content.toString()}`), {
        correlationId: request.properties.correlationId as string,
      });
      server.ack(request);
    });

    const client = await connection.createChannel();
    const reply = within<amqp.ConsumeMessage>(5000, 'the reply', (resolve) => {
      void client.consume(
        'amq.rabbitmq.reply-to',
        (message) => {
          if (message) resolve(message);
        },
        { noAck: true },
      );
    });
    // amqplib sends consume and publish back to back; the server handles them in order.
    client.sendToQueue(rpcQueue, Buffer.from('ping'), { replyTo: 'amq.rabbitmq.reply-to', correlationId: 'c-7' });
    const message = await reply;
    assert.equal(message.content.toString(), 'echo ping');
    assert.equal(message.properties.correlationId, 'c-7');
    assert.match(message.fields.routingKey, /^amq\.rabbitmq\.reply-to\./);
    await client.close();
    await server.close();
  });

  it('refuses a reply-to publish without a reply consumer (406)', async () => {
    const channel = await connection.createChannel();
    const closed = within<Error>(5000, 'the channel error', (resolve) => channel.once('error', resolve));
    channel.sendToQueue('anything', Buffer.from('x'), { replyTo: 'amq.rabbitmq.reply-to' });
    assert.match((await closed).message, /PRECONDITION_FAILED - fast reply consumer does not exist/);
  });
});
