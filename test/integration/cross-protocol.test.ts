/**
 * One message space for every protocol (DESIGN.md §3): MQTT topic `a/b` is routing key `a.b` on
 * `amq.topic`, which STOMP addresses as `/topic/a.b` and AMQP clients bind to. Body bytes and headers
 * survive the crossing.
 */
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createAmqpAdapterFactory } from '../../src/protocols/amqp/index.js';
import { createMqttAdapterFactory } from '../../src/protocols/mqtt/index.js';
import { createStompAdapterFactory } from '../../src/protocols/stomp/index.js';
import { startServer, type ServerHandle } from '../../src/server/server.js';
import { StompTcpClient } from '../support/stomp-tcp-client.js';
import { connectClient, Inbox } from './mqtt-harness.js';
import { testServerConfig } from '../support/server-config.js';

describe('cross-protocol: MQTT, STOMP and AMQP', () => {
  let server: ServerHandle;
  let dataDir: string;
  let mqttPort: number;
  let stompPort: number;
  let amqpPort: number;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'courier-cross-'));
    server = await startServer(
      testServerConfig(dataDir, { mqttPort: 0, amqpPort: 0, stompPort: 0 }),
      { protocolAdapters: [createMqttAdapterFactory(), createStompAdapterFactory(), createAmqpAdapterFactory()], version: 'test' },
    );
    mqttPort = server.addresses.mqtt!.port;
    stompPort = server.addresses.stomp!.port;
    amqpPort = server.addresses.amqp!.port;
  });

  after(async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a STOMP SEND to /topic/sensors.kitchen reaches an MQTT subscriber of sensors/+ with the exact bytes', async () => {
    const mqtt = await connectClient(mqttPort, { protocolVersion: 5, clientId: 'cross-sub' });
    const inbox = new Inbox(mqtt);
    try {
      await mqtt.subscribeAsync('sensors/+', { qos: 1 });
      const body = Buffer.from([0x00, 0x01, 0xfe, 0xff, 0x7b]);
      const stomp = await StompTcpClient.connected(stompPort);
      await stomp.roundTrip(
        'SEND',
        { destination: '/topic/sensors.kitchen', 'content-type': 'application/octet-stream', 'content-length': String(body.length), 'x-site': 'lyon' },
        body,
      );
      const [received] = await inbox.waitFor(1);
      assert.equal(received!.topic, 'sensors/kitchen');
      assert.deepEqual(Buffer.from(received!.packet.payload as Buffer), body);
      assert.equal(received!.packet.properties?.contentType, 'application/octet-stream');
      assert.deepEqual(received!.packet.properties?.userProperties?.['x-site'], 'lyon');
      await stomp.disconnect();
    } finally {
      await mqtt.endAsync();
    }
  });

  it('an MQTT 5 PUBLISH to orders/eu reaches a STOMP subscriber of /topic/orders.* with properties as headers', async () => {
    const stomp = await StompTcpClient.connected(stompPort);
    await stomp.roundTrip('SUBSCRIBE', { id: 'sub-1', destination: '/topic/orders.*', ack: 'auto' });
    const mqtt = await connectClient(mqttPort, { protocolVersion: 5, clientId: 'cross-pub' });
    try {
      await mqtt.publishAsync('orders/eu', Buffer.from('{"id":42}'), {
        qos: 1,
        properties: { contentType: 'application/json', userProperties: { tenant: 'acme' } },
      });
      const frame = await stomp.expect('MESSAGE');
      const header = (name: string): string | undefined => frame.headers.get(name);
      assert.equal(header('destination'), '/topic/orders.eu');
      assert.equal(header('content-type'), 'application/json');
      assert.equal(header('tenant'), 'acme');
      assert.equal(Buffer.from(frame.body).toString('utf8'), '{"id":42}');
    } finally {
      await mqtt.endAsync();
      await stomp.disconnect();
    }
  });

  it('an AMQP publish to amq.topic reaches an MQTT 5 subscriber with its properties and headers', async () => {
    const mqtt = await connectClient(mqttPort, { protocolVersion: 5, clientId: 'cross-amqp-sub' });
    const inbox = new Inbox(mqtt);
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${amqpPort}`);
    try {
      await mqtt.subscribeAsync('billing/#', { qos: 1 });
      const channel = await connection.createConfirmChannel();
      const body = Buffer.from([0xde, 0xad, 0x00, 0xbe, 0xef]);
      channel.publish('amq.topic', 'billing.invoice.created', body, {
        contentType: 'application/vnd.courier+bin',
        correlationId: 'req-7',
        persistent: true,
        headers: { tenant: 'acme', attempt: 2 },
      });
      await channel.waitForConfirms();
      const [received] = await inbox.waitFor(1);
      assert.equal(received!.topic, 'billing/invoice/created');
      assert.deepEqual(Buffer.from(received!.packet.payload as Buffer), body);
      assert.equal(received!.packet.qos, 1);
      assert.equal(received!.packet.properties?.contentType, 'application/vnd.courier+bin');
      assert.equal(Buffer.from(received!.packet.properties?.correlationData ?? []).toString('utf8'), 'req-7');
      assert.equal(received!.packet.properties?.userProperties?.['tenant'], 'acme');
      assert.equal(received!.packet.properties?.userProperties?.['attempt'], '2');
    } finally {
      await connection.close();
      await mqtt.endAsync();
    }
  });

  it('STOMP and MQTT publishes reach an AMQP consumer bound to amq.topic, bytes and headers intact', async () => {
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${amqpPort}`);
    const channel = await connection.createChannel();
    const stomp = await StompTcpClient.connected(stompPort);
    const mqtt = await connectClient(mqttPort, { protocolVersion: 5, clientId: 'cross-amqp-pub' });
    try {
      const { queue } = await channel.assertQueue('', { exclusive: true });
      await channel.bindQueue(queue, 'amq.topic', 'events.#');
      const received: amqp.ConsumeMessage[] = [];
      let notify: () => void = () => {};
      await channel.consume(queue, (message) => {
        if (message) received.push(message);
        notify();
      }, { noAck: true });
      const body = Buffer.from([0x01, 0x00, 0x02]);
      await stomp.roundTrip(
        'SEND',
        { destination: '/topic/events.stomp', 'content-type': 'application/octet-stream', 'content-length': String(body.length), 'x-origin': 'stomp' },
        body,
      );
      await mqtt.publishAsync('events/mqtt', Buffer.from('hello'), { qos: 1, properties: { userProperties: { origin: 'mqtt' } } });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`got ${received.length} of 2 messages`)), 10_000);
        notify = () => {
          if (received.length >= 2) {
            clearTimeout(timer);
            resolve();
          }
        };
        notify();
      });
      const fromStomp = received.find((message) => message.fields.routingKey === 'events.stomp')!;
      const fromMqtt = received.find((message) => message.fields.routingKey === 'events.mqtt')!;
      assert.deepEqual(fromStomp.content, body);
      assert.equal(fromStomp.properties.contentType, 'application/octet-stream');
      assert.equal(fromStomp.properties.headers?.['x-origin'], 'stomp');
      assert.equal(fromMqtt.content.toString('utf8'), 'hello');
      assert.equal(fromMqtt.properties.headers?.['origin'], 'mqtt');
    } finally {
      await mqtt.endAsync();
      await stomp.disconnect();
      await connection.close();
    }
  });
});
