/**
 * HTTP <-> STOMP, HTTP -> MQTT and AMQP -> HTTP through the core: body bytes, content type and custom
 * headers survive both ways.
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
import { GUEST_AUTH } from './http-harness.js';
import { connectClient, Inbox } from './mqtt-harness.js';
import { testServerConfig } from '../support/server-config.js';

describe('HTTP <-> STOMP, HTTP -> MQTT, AMQP -> HTTP', () => {
  let dataDir: string;
  let server: ServerHandle;
  let base: string;
  let stompPort: number;
  let mqttPort: number;
  let amqpPort: number;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'courier-http-stomp-'));
    const config = testServerConfig(dataDir, { mqttPort: 0, stompPort: 0, httpPort: 0, amqpPort: 0 });
    server = await startServer(config, {
      protocolAdapters: [createMqttAdapterFactory(), createStompAdapterFactory(), createAmqpAdapterFactory()],
    });
    amqpPort = server.addresses.amqp?.port ?? 0;
    base = `http://127.0.0.1:${server.addresses.http?.port ?? 0}`;
    stompPort = server.addresses.stomp?.port ?? 0;
    mqttPort = server.addresses.mqtt?.port ?? 0;
  });
  after(async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('an HTTP topic publish reaches a STOMP /topic subscriber with bytes and headers', async () => {
    const client = await StompTcpClient.connected(stompPort);
    await client.roundTrip('SUBSCRIBE', { id: 's1', destination: '/topic/cross.*', ack: 'auto' });
    const body = Buffer.from([0x68, 0x00, 0x69, 0xff]);
    const response = await fetch(`${base}/api/topics/cross.http/messages`, {
      method: 'POST',
      body,
      headers: { authorization: GUEST_AUTH, 'content-type': 'application/octet-stream', 'x-courier-header-origin': 'http' },
    });
    assert.equal(response.status, 201);
    const frame = await client.expect('MESSAGE');
    assert.deepEqual(Buffer.from(frame.body), body);
    assert.equal(frame.headers.get('content-type'), 'application/octet-stream');
    assert.equal(frame.headers.get('origin'), 'http');
    await client.disconnect();
  });

  it('a STOMP SEND to /queue is pulled over HTTP with its body and content type', async () => {
    const client = await StompTcpClient.connected(stompPort);
    await client.roundTrip('SEND', { destination: '/queue/cross-http', 'content-type': 'text/plain', 'x-trace': 't-1' }, 'from stomp');
    const response = await fetch(`${base}/api/queues/cross-http/messages?wait=5`, { headers: { authorization: GUEST_AUTH } });
    assert.equal(response.status, 200);
    const { messages } = (await response.json()) as { messages: { body: string; contentType: string; headers: Record<string, unknown> }[] };
    assert.equal(messages.length, 1);
    assert.equal(Buffer.from(messages[0]?.body ?? '', 'base64').toString(), 'from stomp');
    assert.equal(messages[0]?.contentType, 'text/plain');
    assert.equal(messages[0]?.headers['x-trace'], 't-1');
    await client.disconnect();
  });

  it('an HTTP topic publish reaches an MQTT 5 subscriber with bytes, content type and user properties', async () => {
    const mqtt = await connectClient(mqttPort, { protocolVersion: 5, clientId: 'http-cross-sub' });
    const inbox = new Inbox(mqtt);
    try {
      await mqtt.subscribeAsync('meters/+', { qos: 1 });
      const body = Buffer.from([0x00, 0xfe, 0x41]);
      const response = await fetch(`${base}/api/topics/meters.m1/messages`, {
        method: 'POST',
        body,
        headers: { authorization: GUEST_AUTH, 'content-type': 'application/x-reading', 'x-courier-header-unit': 'kWh' },
      });
      assert.equal(response.status, 201);
      const [received] = await inbox.waitFor(1);
      assert.equal(received?.topic, 'meters/m1');
      assert.deepEqual(Buffer.from(received?.packet.payload as Buffer), body);
      assert.equal(received?.packet.properties?.contentType, 'application/x-reading');
      assert.equal(received?.packet.properties?.userProperties?.['unit'], 'kWh');
    } finally {
      await mqtt.endAsync();
    }
  });

  it('an AMQP publish to a queue is pulled over HTTP with its bytes, content type, correlation id and headers', async () => {
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${amqpPort}`);
    try {
      const channel = await connection.createConfirmChannel();
      await channel.assertQueue('amqp-to-http', { durable: true });
      const body = Buffer.from([0xca, 0xfe, 0x00, 0x01]);
      channel.sendToQueue('amqp-to-http', body, {
        persistent: true,
        contentType: 'application/x-amqp',
        correlationId: 'c-9',
        headers: { origin: 'amqp' },
      });
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }
    const response = await fetch(`${base}/api/queues/amqp-to-http/messages?wait=5`, { headers: { authorization: GUEST_AUTH } });
    assert.equal(response.status, 200);
    const { messages } = (await response.json()) as {
      messages: { body: string; contentType: string; headers: Record<string, unknown>; properties: Record<string, unknown> }[];
    };
    assert.equal(messages.length, 1);
    assert.deepEqual(Buffer.from(messages[0]?.body ?? '', 'base64'), Buffer.from([0xca, 0xfe, 0x00, 0x01]));
    assert.equal(messages[0]?.contentType, 'application/x-amqp');
    assert.equal(messages[0]?.headers['origin'], 'amqp');
    assert.equal(messages[0]?.properties['correlationId'], 'c-9');
  });
});
