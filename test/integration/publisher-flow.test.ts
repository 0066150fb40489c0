/**
 * Per-queue publisher flow control (src/core/flow/queue-flow.ts) with real clients: a publisher feeding
 * a queue whose consumer drains it more slowly than it fills is not read (connection state `flow`) until
 * the queue is back at the low mark, in MQTT, AMQP and STOMP alike; nothing is lost or reordered. And a
 * consumer that stops acknowledging holds its publishers no longer than `flow-control-max-hold`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import amqp, { type ConsumeMessage } from 'amqplib';
import mqtt from 'mqtt';
import { WebSocket } from 'ws';
import { DEFAULT_FLOW_LIMITS } from '../../src/core/flow/queue-flow.js';
import { startServer, type ServerHandle } from '../../src/server/server.js';
import { testServerConfig } from '../support/server-config.js';
import { StompTcpClient } from '../support/stomp-tcp-client.js';
import { until } from '../support/until.js';

/** Three times the high mark; 1 KiB bodies so that one read of the socket holds ~60 of them, not all. */
const MESSAGES = 3 * DEFAULT_FLOW_LIMITS.highMessages;
const PREFETCH = 100;

function body(index: number): Buffer {
  const bytes = Buffer.alloc(1024, 0x66);
  bytes.writeUInt32BE(index, 0);
  return bytes;
}

const inOrder = (bodies: readonly Buffer[]): number[] => bodies.map((bytes) => bytes.readUInt32BE(0));
const allIndexes = Array.from({ length: MESSAGES }, (_, i) => i);

async function startFlowServer(maxHoldMs: number): Promise<{ server: ServerHandle; dataDir: string; amqpUrl: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'courier-flow-'));
  const server = await startServer(testServerConfig(dataDir, { mqttPort: 0, amqpPort: 0, stompPort: 0, httpPort: 0, flowControlMaxHold: maxHoldMs }), {
    version: 'test',
  });
  return { server, dataDir, amqpUrl: `amqp://guest:guest@127.0.0.1:${server.addresses.amqp!.port}` };
}

/** A transient queue bound to amq.topic whose AMQP consumer takes PREFETCH messages and acks none until `release`. */
async function slowQueue(server: ServerHandle, amqpUrl: string, name: string, routingKey: string) {
  const connection = await amqp.connect(amqpUrl);
  const channel = await connection.createChannel();
  await channel.assertQueue(name, { durable: false });
  await channel.bindQueue(name, 'amq.topic', routingKey);
  await channel.prefetch(PREFETCH);
  const received: ConsumeMessage[] = [];
  let acking = false;
  await channel.consume(name, (message) => {
    if (!message) return;
    received.push(message);
    if (acking) channel.ack(message);
  });
  return {
    ready: (): number => server.broker.getQueue(name)?.messageCount ?? 0,
    received: (): number => received.length,
    /** Acks what came and everything after, and waits for `expected` messages in all. */
    async release(expected: number): Promise<Buffer[]> {
      acking = true;
      const last = received.at(-1);
      if (last) channel.ack(last, true);
      await until(() => received.length >= expected, `${expected} messages on ${name}`);
      return received.map((message) => message.content);
    },
    async close(): Promise<void> {
      await channel.deleteQueue(name);
      await connection.close();
    },
  };
}

describe('publisher flow control: a queue drained more slowly than it fills holds its publishers', () => {
  let server: ServerHandle;
  let dataDir: string;
  let amqpUrl: string;

  before(async () => {
    // Holds end only by draining here, so what is held stays held while the test looks.
    ({ server, dataDir, amqpUrl } = await startFlowServer(60_000));
  });
  after(async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const heldPublishers = (): number => server.broker.listConnections().filter((connection) => connection.state === 'flow').length;

  it('MQTT: the publisher is not read past the high mark and gets every PUBACK once the queue drains', async (t) => {
    const queue = await slowQueue(server, amqpUrl, 'flow-mqtt', 'flow.mqtt');
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.addresses.mqtt!.port}`, { clientId: 'flow-pub', reconnectPeriod: 0 });
    t.after(async () => {
      await client.endAsync();
      await queue.close();
    });
    let acked = 0;
    for (let i = 0; i < MESSAGES; i++) {
      client.publish('flow/mqtt', body(i), { qos: 1 }, (error) => {
        if (!error) acked += 1;
      });
    }
    await until(() => heldPublishers() === 1, 'the publisher to be held');
    assert.equal(queue.received(), PREFETCH);
    assert.ok(queue.ready() < 2 * DEFAULT_FLOW_LIMITS.highMessages, `the broker stopped reading at ${queue.ready()} ready`);
    assert.ok(acked < MESSAGES);

    assert.deepEqual(inOrder(await queue.release(MESSAGES)), allIndexes, 'every message, once, in order');
    await until(() => acked === MESSAGES, 'every PUBACK');
    assert.equal(heldPublishers(), 0);
    assert.equal(client.connected, true);
  });

  it('AMQP: the publishing connection is in flow, not read, and gets every confirm once the queue drains', async (t) => {
    const queue = await slowQueue(server, amqpUrl, 'flow-amqp', 'flow.amqp');
    const publisher = await amqp.connect(amqpUrl);
    t.after(async () => {
      await publisher.close();
      await queue.close();
    });
    const channel = await publisher.createConfirmChannel();
    let confirmed = 0;
    for (let i = 0; i < MESSAGES; i++) {
      channel.publish('amq.topic', 'flow.amqp', body(i), {}, (error) => {
        if (!error) confirmed += 1;
      });
    }
    await until(() => heldPublishers() === 1, 'the publisher to be held');
    assert.ok(queue.ready() < 2 * DEFAULT_FLOW_LIMITS.highMessages, `the broker stopped reading at ${queue.ready()} ready`);
    assert.ok(confirmed < MESSAGES);

    assert.deepEqual(inOrder(await queue.release(MESSAGES)), allIndexes);
    await until(() => confirmed === MESSAGES, 'every confirm');
    assert.equal(heldPublishers(), 0);
  });

  it('STOMP: the connection is not read past the high mark, and a receipt comes once the queue drains', async (t) => {
    const queue = await slowQueue(server, amqpUrl, 'flow-stomp', 'flow.stomp');
    const client = await StompTcpClient.connected(server.addresses.stomp!.port);
    t.after(async () => {
      await client.disconnect();
      await queue.close();
    });
    for (let i = 0; i < MESSAGES; i++) client.send('SEND', { destination: '/topic/flow.stomp', 'content-length': '1024' }, body(i));
    await until(() => heldPublishers() === 1, 'the publisher to be held');
    assert.ok(queue.ready() < 2 * DEFAULT_FLOW_LIMITS.highMessages, `the broker stopped reading at ${queue.ready()} ready`);

    assert.deepEqual(inOrder(await queue.release(MESSAGES)), allIndexes);
    await client.roundTrip('SEND', { destination: '/topic/flow.stomp' }, 'after the hold');
    assert.equal(heldPublishers(), 0);
  });
});

describe('publisher flow control over /ws', () => {
  it('later requests wait while the queue a publish fed is congested; every receipt comes once it drains', async () => {
    const { server, dataDir, amqpUrl } = await startFlowServer(60_000);
    try {
      const queue = await slowQueue(server, amqpUrl, 'flow-ws', 'flow.ws');
      const socket = new WebSocket(`ws://127.0.0.1:${server.addresses.http!.port}/ws`, {
        headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
      });
      await once(socket, 'open');
      const receipts: number[] = [];
      socket.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString()) as { op: string; id?: number };
        if (frame.op === 'receipt' && frame.id !== undefined) receipts.push(frame.id);
      });
      const text = (i: number): string => String(i).padStart(8, '0') + 'w'.repeat(1016);
      for (let i = 0; i < MESSAGES; i++) socket.send(JSON.stringify({ op: 'publish', id: i, topic: 'flow.ws', body: text(i) }));
      const held = (): boolean => server.broker.listConnections().some((connection) => connection.info.protocol === 'ws' && connection.state === 'flow');
      await until(held, 'the /ws publisher to be held');
      assert.ok(receipts.length < MESSAGES);

      const bodies = await queue.release(MESSAGES);
      assert.deepEqual(
        bodies.map((body) => body.toString().slice(0, 8)),
        allIndexes.map((i) => text(i).slice(0, 8)),
      );
      await until(() => receipts.length === MESSAGES, 'every receipt');
      assert.deepEqual(receipts, allIndexes);
      socket.close();
      await once(socket, 'close');
      await queue.close();
    } finally {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('publisher flow control: a consumer that stops acknowledging', () => {
  it('holds its publisher no longer than flow-control-max-hold; then the queue buffers every message', async () => {
    const { server, dataDir, amqpUrl } = await startFlowServer(50);
    try {
      const queue = await slowQueue(server, amqpUrl, 'flow-stalled', 'flow.stalled');
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.addresses.mqtt!.port}`, { clientId: 'stalled-pub', reconnectPeriod: 0 });
      let acked = 0;
      for (let i = 0; i < MESSAGES; i++) {
        client.publish('flow/stalled', body(i), { qos: 1 }, (error) => {
          if (!error) acked += 1;
        });
      }
      // Every publish is taken though the consumer acknowledged nothing: the queue holds the rest.
      await until(() => acked === MESSAGES, 'every PUBACK while the consumer is stalled');
      assert.equal(queue.received(), PREFETCH);
      assert.equal(queue.ready(), MESSAGES - PREFETCH);
      assert.deepEqual(inOrder(await queue.release(MESSAGES)), allIndexes);
      await client.endAsync();
      await queue.close();
    } finally {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
