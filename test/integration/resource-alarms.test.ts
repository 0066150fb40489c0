/**
 * Publisher flow control under the memory alarm (DESIGN §4): transient queues are bounded by
 * `memory-high-watermark`; past it, publishers are blocked each as their protocol allows, consumers keep
 * draining, and once memory falls back everything published arrives, nothing lost.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { WebSocket } from 'ws';
import { startServer, type ServerHandle } from '../../src/server/server.js';
import { testServerConfig } from '../support/server-config.js';
import { StompTcpClient } from '../support/stomp-tcp-client.js';
import { until } from '../support/until.js';

const WATERMARK = 1024 * 1024;
const BODY = Buffer.alloc(64 * 1024, 0x62);
/** Four times the watermark: without flow control all of it would sit in memory. */
const MESSAGES = 64;

describe('memory alarm: publishers are blocked and resume, nothing lost', () => {
  let server: ServerHandle;
  let dataDir: string;
  let amqpUrl: string;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'courier-alarm-'));
    server = await startServer(
      testServerConfig(dataDir, { mqttPort: 0, amqpPort: 0, stompPort: 0, memoryHighWatermark: WATERMARK }),
      { version: 'test' },
    );
    amqpUrl = `amqp://guest:guest@127.0.0.1:${server.addresses.amqp!.port}`;
  });
  after(async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** A transient queue nobody consumes yet, bound to amq.topic; its consumer is started by `drain`. */
  async function pile(name: string, routingKey: string) {
    const connection = await amqp.connect(amqpUrl);
    const channel = await connection.createChannel();
    await channel.assertQueue(name, { durable: false });
    await channel.bindQueue(name, 'amq.topic', routingKey);
    const bodies: Buffer[] = [];
    return {
      held: () => server.broker.getQueue(name)?.messageCount ?? 0,
      async drain(expected: number): Promise<Buffer[]> {
        await channel.prefetch(100);
        await channel.consume(name, (message) => {
          if (!message) return;
          bodies.push(message.content);
          channel.ack(message);
        });
        await until(() => bodies.length >= expected, `${expected} messages on ${name}`);
        return bodies;
      },
      /** Deletes the queue, so a failed test leaves no backlog holding the alarm on for the next. */
      async close(): Promise<void> {
        await channel.deleteQueue(name);
        await connection.close();
      },
    };
  }

  const blockedPublishers = (): number => server.broker.listConnections().filter((connection) => connection.publishBlocked).length;

  it('AMQP: connection.blocked with the reason, the publisher is not read, connection.unblocked once drained', async (t) => {
    const queue = await pile('alarm-amqp', 'alarm.amqp');
    const publisher = await amqp.connect(amqpUrl);
    // The queue goes first: its backlog holds the alarm on, and a blocked publisher cannot close.
    t.after(async () => {
      await queue.close();
      await publisher.close();
    });
    const events: string[] = [];
    publisher.on('blocked', (reason: string) => events.push(`blocked: ${reason}`));
    publisher.on('unblocked', () => events.push('unblocked'));
    const channel = await publisher.createConfirmChannel();
    const confirmed: number[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      const body = Buffer.from(BODY);
      body.writeUInt32BE(i, 0);
      channel.publish('amq.topic', 'alarm.amqp', body, {}, (error) => {
        if (!error) confirmed.push(i);
      });
    }
    await until(() => blockedPublishers() === 1 && events.length > 0, 'the publisher to be blocked and told');
    assert.deepEqual(events, ['blocked: low on memory']);
    assert.ok(queue.held() < MESSAGES, `the broker stopped reading at ${queue.held()} messages`);
    assert.ok(confirmed.length < MESSAGES);

    const bodies = await queue.drain(MESSAGES);
    assert.deepEqual(
      bodies.map((body) => body.readUInt32BE(0)),
      Array.from({ length: MESSAGES }, (_, i) => i),
      'every message, once, in order',
    );
    await until(() => confirmed.length === MESSAGES && events.at(-1) === 'unblocked', 'every confirm and connection.unblocked');
    // The rest of the backlog may block it again on its way in: notices alternate, the last one unblocks.
    events.forEach((event, i) => assert.equal(event, i % 2 === 0 ? 'blocked: low on memory' : 'unblocked'));
    assert.equal(blockedPublishers(), 0);
  });

  it('MQTT: the publisher is not read while the alarm is on, keeps its session, and gets every PUBACK after', async (t) => {
    const queue = await pile('alarm-mqtt', 'alarm.mqtt');
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.addresses.mqtt!.port}`, { clientId: 'alarm-pub', reconnectPeriod: 0 });
    t.after(async () => {
      await queue.close();
      await client.endAsync();
    });
    let acked = 0;
    for (let i = 0; i < MESSAGES; i++) {
      const body = Buffer.from(BODY);
      body.writeUInt32BE(i, 0);
      client.publish('alarm/mqtt', body, { qos: 1 }, (error) => {
        if (!error) acked += 1;
      });
    }
    await until(() => blockedPublishers() === 1, 'the publisher to be blocked');
    assert.equal(server.broker.alarms.has('memory'), true);
    assert.ok(queue.held() < MESSAGES, `the broker stopped reading at ${queue.held()} messages`);

    const bodies = await queue.drain(MESSAGES);
    assert.deepEqual(
      bodies.map((body) => body.readUInt32BE(0)),
      Array.from({ length: MESSAGES }, (_, i) => i),
    );
    await until(() => acked === MESSAGES, 'every PUBACK');
    assert.equal(client.connected, true, 'the session survived the pause');
  });

  it('STOMP: a SEND during the alarm is taken and the connection waits; RECEIPTs come once it clears', async (t) => {
    const queue = await pile('alarm-stomp', 'alarm.stomp');
    const client = await StompTcpClient.connected(server.addresses.stomp!.port);
    t.after(async () => {
      await queue.close();
      await client.disconnect();
    });
    for (let i = 0; i < MESSAGES; i++) {
      const body = Buffer.from(BODY);
      body.writeUInt32BE(i, 0);
      client.send('SEND', { destination: '/topic/alarm.stomp', 'content-length': String(body.length) }, body);
    }
    await until(() => blockedPublishers() === 1, 'the publisher to be blocked');
    assert.ok(queue.held() < MESSAGES, `the broker stopped reading at ${queue.held()} messages`);

    const bodies = await queue.drain(MESSAGES);
    assert.deepEqual(
      bodies.map((body) => body.readUInt32BE(0)),
      Array.from({ length: MESSAGES }, (_, i) => i),
    );
    await client.roundTrip('SEND', { destination: '/topic/alarm.stomp' }, 'after the alarm');
  });
});

describe('disk alarm: free space below disk-free-limit blocks publishers from the start', () => {
  it('is on before clients connect and blocks the first publish', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'courier-disk-alarm-'));
    // No test machine has a pebibyte free: the alarm is on before any client connects.
    const server = await startServer(testServerConfig(dataDir, { amqpPort: 0, httpPort: 0, diskFreeLimit: 1024 ** 4 }), { version: 'test' });
    try {
      assert.deepEqual(server.broker.alarms.resources, ['disk']);
      // HTTP cannot leave a request unread: 503 with Retry-After, and the body is not stored.
      const response = await fetch(`http://127.0.0.1:${server.addresses.http!.port}/api/topics/disk.alarm/messages`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
        body: 'refused',
      });
      assert.equal(response.status, 503);
      assert.equal(response.headers.get('retry-after'), '1');
      const problem = (await response.json()) as { code: string; detail: string };
      assert.equal(problem.code, 'RESOURCE_ALARM');
      assert.match(problem.detail, /low on disk/);
      // /ws: requests after a publish wait for the alarm to clear; a socket closed meanwhile leaves no waiter.
      const listenersBefore = server.broker.alarms.listenerCount;
      const socket = new WebSocket(`ws://127.0.0.1:${server.addresses.http!.port}/ws`, {
        headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
      });
      await once(socket, 'open');
      socket.send(JSON.stringify({ op: 'publish', id: 1, topic: 'disk.alarm', body: 'waits' }));
      const wsConnection = (): boolean => server.broker.listConnections().some((connection) => connection.info.protocol === 'ws' && connection.publishBlocked);
      await until(wsConnection, 'the /ws publisher to be blocked');
      assert.equal(server.broker.alarms.listenerCount, listenersBefore + 1);
      socket.close();
      await until(() => server.broker.alarms.listenerCount === listenersBefore, 'the closed socket to stop waiting');

      const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${server.addresses.amqp!.port}`);
      const channel = await connection.createChannel();
      await channel.assertQueue('disk-alarm', { durable: true });
      channel.sendToQueue('disk-alarm', Buffer.from('first'));
      await until(() => server.broker.listConnections()[0]?.publishBlocked === true, 'the publisher to be blocked');
      // The declare went through; the publish stops the reading at its method frame, so its content
      // waits unread (neither stored nor confirmed) until the alarm clears.
      assert.equal(server.broker.getQueue('disk-alarm')?.messageCount, 0);
      // A blocked connection is not read, so the client cannot close it politely until the alarm clears
      // (as with RabbitMQ); the server's close reads again for the handshake.
      connection.on('error', () => undefined);
      const closed = new Promise((resolve) => connection.once('close', resolve));
      await server.close();
      await closed;
    } finally {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
