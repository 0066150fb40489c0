/**
 * The management API with real clients producing the state it shows: amqplib consumers, MQTT and STOMP
 * connections closed through DELETE /api/connections/{id} (each client observes its protocol's close),
 * and dead letters redriven to the queue they came from and consumed there.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import amqp from 'amqplib';
import { connectAsync, type IDisconnectPacket, type MqttClient } from 'mqtt';
import { StompTcpClient } from '../support/stomp-tcp-client.js';
import { expectProblem, startManagementFixture, type ManagementFixture } from './management-harness.js';

type Json = Record<string, unknown>;
const WAIT_MS = 10_000;

/** Polls `probe` until it returns a value (bounded; the condition is what is awaited, not time). */
async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('management API with real clients', () => {
  let fixture: ManagementFixture;
  const amqpUrl = (): string => `amqp://guest:guest@127.0.0.1:${fixture.port('amqp')}`;
  const connectionOf = async (match: (entry: Json) => boolean, what: string): Promise<Json> =>
    until(async () => (await fixture.get<Json[]>('/api/connections')).find(match), what);

  before(async () => {
    fixture = await startManagementFixture({ protocols: true });
  });
  after(async () => {
    await fixture.close();
  });

  test('amqplib consumers appear in /api/consumers; DELETE closes the connection with 320 CONNECTION_FORCED', async () => {
    const connection = await amqp.connect(amqpUrl());
    // amqplib reports a 320 close as the 'close' event's error (not as an 'error': it is not fatal).
    const closed = new Promise<(Error & { code?: number }) | undefined>((resolve) => connection.once('close', resolve));
    const channel = await connection.createChannel();
    await channel.assertQueue('amqp-work', { durable: true });
    await channel.prefetch(5);
    const { consumerTag } = await channel.consume('amqp-work', (msg) => msg && channel.ack(msg), { noAck: false });
    const consumer = await until(
      async () => (await fixture.get<Json[]>('/api/consumers')).find((entry) => entry['tag'] === consumerTag),
      'the consumer listed',
    );
    assert.equal(consumer['queue'], 'amqp-work');
    assert.equal(consumer['protocol'], 'amqp');
    assert.equal(consumer['prefetch'], 5);
    assert.equal(consumer['ackRequired'], true);
    const listed = await connectionOf((entry) => entry['id'] === consumer['connectionId'], 'the amqp connection');
    assert.equal(listed['protocol'], 'amqp');
    assert.equal(listed['user'], 'guest');
    assert.match(String(listed['remoteAddress']), /127\.0\.0\.1/);
    assert.equal(listed['channels'], 1);
    assert.equal((await fixture.get<Json>('/api/queues/amqp-work'))['consumers'], 1);

    assert.equal((await fixture.send('DELETE', `/api/connections/${String(listed['id'])}`)).status, 204);
    const error = await within(closed, 'the amqp connection close');
    assert.equal(error?.code, 320);
    assert.match(error.message, /CONNECTION_FORCED/);
    await until(async () => ((await fixture.get<Json>('/api/queues/amqp-work'))['consumers'] === 0 ? true : undefined), 'the consumer gone');
  });

  test('an MQTT 5 client is listed with its client id and gets DISCONNECT 0x98 when closed', async () => {
    const client = await connectAsync(`mqtt://127.0.0.1:${fixture.port('mqtt')}`, { clientId: 'mgmt-v5', protocolVersion: 5, reconnectPeriod: 0 });
    const disconnect = new Promise<IDisconnectPacket>((resolve) => client.once('disconnect', resolve));
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const listed = await connectionOf((entry) => entry['clientId'] === 'mgmt-v5', 'the mqtt connection');
    assert.equal(listed['protocol'], 'mqtt');
    // The broker's own $SYS publisher is connected too, but is not a client: not listed.
    assert.equal((await fixture.get<Json[]>('/api/connections')).some((entry) => entry['clientId'] === '$SYS'), false);
    assert.equal((await fixture.send('DELETE', `/api/connections/${String(listed['id'])}`)).status, 204);
    assert.equal((await within(disconnect, 'DISCONNECT')).reasonCode, 0x98);
    await within(closed, 'the mqtt close');
    await until(async () => ((await fixture.get<Json[]>('/api/connections')).some((entry) => entry['clientId'] === 'mgmt-v5') ? undefined : true), 'the connection gone');
    await client.endAsync(true);
  });

  test('an MQTT 3.1.1 client is just closed', async () => {
    const client: MqttClient = await connectAsync(`mqtt://127.0.0.1:${fixture.port('mqtt')}`, { clientId: 'mgmt-v3', protocolVersion: 4, reconnectPeriod: 0 });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    let disconnects = 0;
    client.on('disconnect', () => (disconnects += 1));
    const listed = await connectionOf((entry) => entry['clientId'] === 'mgmt-v3', 'the mqtt 3.1.1 connection');
    assert.equal((await fixture.send('DELETE', `/api/connections/${String(listed['id'])}`)).status, 204);
    await within(closed, 'the mqtt 3.1.1 close');
    assert.equal(disconnects, 0, '3.1.1 has no server DISCONNECT');
    await client.endAsync(true);
  });

  test('a STOMP client gets an ERROR frame, then the close', async () => {
    const stomp = await StompTcpClient.connected(fixture.port('stomp'), { login: 'guest', passcode: 'guest' });
    try {
      const listed = await connectionOf((entry) => entry['protocol'] === 'stomp', 'the stomp connection');
      assert.equal((await fixture.send('DELETE', `/api/connections/${String(listed['id'])}`)).status, 204);
      const error = await stomp.expect('ERROR');
      assert.match(error.headers.get('message') ?? '', /administrator/);
      await stomp.waitClosed();
    } finally {
      stomp.destroy();
    }
  });

  test('an HTTP event stream ends when its connection is closed', async () => {
    const before = new Set((await fixture.get<Json[]>('/api/connections')).map((entry) => entry['id']));
    const events = await fixture.api('/api/topics/mgmt.%23/events');
    assert.equal(events.status, 200);
    const listed = await connectionOf((entry) => entry['protocol'] === 'http' && !before.has(entry['id']), 'the event stream connection');
    assert.equal((await fixture.send('DELETE', `/api/connections/${String(listed['id'])}`)).status, 204);
    // The body ends: reading it to the end resolves.
    await within(events.text(), 'the end of the event stream');
  });

  test('dead letters are redriven to the exchange and key they came from, then consumed there', async () => {
    assert.equal((await fixture.send('PUT', '/api/exchanges/orders', { type: 'direct' })).status, 201);
    assert.equal((await fixture.send('PUT', '/api/queues/orders-dlq', {})).status, 201);
    const dlqArguments = { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'orders-dlq' };
    assert.equal((await fixture.send('PUT', '/api/queues/orders-q', { arguments: dlqArguments })).status, 201);
    assert.equal((await fixture.send('POST', '/api/bindings', { source: 'orders', destination: 'orders-q', routingKey: 'new' })).status, 201);

    const connection = await amqp.connect(amqpUrl());
    try {
      const channel = await connection.createConfirmChannel();
      for (const body of ['order-1', 'order-2']) channel.publish('orders', 'new', Buffer.from(body), { persistent: true });
      // One that never died: it has no origin to go back to and stays.
      channel.sendToQueue('orders-dlq', Buffer.from('stray'), { persistent: true });
      await channel.waitForConfirms();
      // A consumer rejects both orders: they die into orders-dlq with x-death.
      for (let i = 0; i < 2; i++) {
        const msg = await until(async () => (await channel.get('orders-q', { noAck: false })) || undefined, 'an order');
        channel.nack(msg, false, false);
      }
      await until(async () => ((await fixture.get<Json>('/api/queues/orders-dlq'))['messagesReady'] === 3 ? true : undefined), 'three dead letters');

      const peeked = await fixture.get<{ messages: Json[] }>('/api/queues/orders-dlq/peek?max=10');
      const deaths = peeked.messages.slice(1).map((entry) => ((entry['headers'] as Json)['x-death'] as Json[])[0]);
      assert.deepEqual(
        deaths.map((death) => [death?.['reason'], death?.['queue'], death?.['exchange'], death?.['routing-keys']]),
        [
          ['rejected', 'orders-q', 'orders', ['new']],
          ['rejected', 'orders-q', 'orders', ['new']],
        ],
      );

      await expectProblem(await fixture.send('POST', '/api/queues/orders-dlq/redrive', { max: 0 }), 400, 'INVALID_ARGUMENT');
      await expectProblem(await fixture.send('POST', '/api/queues/orders-dlq/redrive', { count: 1 }), 400, 'INVALID_ARGUMENT');
      await expectProblem(await fixture.send('POST', '/api/queues/no-such-dlq/redrive'), 404, 'QUEUE_NOT_FOUND');
      const redriven = await fixture.send('POST', '/api/queues/orders-dlq/redrive');
      assert.equal(redriven.status, 200);
      assert.deepEqual(await redriven.json(), { moved: 2, skipped: 1 });

      const left = await fixture.get<{ messages: Json[] }>('/api/queues/orders-dlq/peek');
      assert.deepEqual(left.messages.map((entry) => Buffer.from(String(entry['body']), 'base64').toString()), ['stray']);
      // Looked at, not delivered: a redrive costs the message that stays no delivery attempt, however
      // often it is run (an x-delivery-limit would otherwise drop it in the end).
      assert.deepEqual(await (await fixture.send('POST', '/api/queues/orders-dlq/redrive')).json(), { moved: 0, skipped: 1 });
      const stray = (await fixture.get<{ messages: Json[] }>('/api/queues/orders-dlq/peek')).messages[0]!;
      assert.equal(stray['deliveryCount'], 0);
      assert.equal(stray['redelivered'], false);
      const back = await fixture.get<Json>('/api/queues/orders-q');
      assert.equal(back['messagesReady'], 2);

      const received: string[] = [];
      const consumer = await connection.createChannel();
      const done = new Promise<void>((resolve) => {
        void consumer.consume('orders-q', (msg) => {
          if (!msg) return;
          received.push(msg.content.toString());
          assert.ok(msg.properties.headers?.['x-death'], 'the death history is kept');
          consumer.ack(msg);
          if (received.length === 2) resolve();
        });
      });
      await within(done, 'the redriven orders');
      assert.deepEqual(received, ['order-1', 'order-2']);
      await until(async () => ((await fixture.get<Json>('/api/queues/orders-q'))['messagesUnacked'] === 0 ? true : undefined), 'the acks');
    } finally {
      await connection.close();
    }
  });
});
