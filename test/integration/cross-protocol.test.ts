/**
 * One message space for every protocol (DESIGN.md §3): MQTT topic `a/b` is routing key `a.b` on
 * `amq.topic`, which STOMP addresses as `/topic/a.b`. Body bytes and headers survive the crossing.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createMqttAdapterFactory } from '../../src/protocols/mqtt/index.js';
import { createStompAdapterFactory } from '../../src/protocols/stomp/index.js';
import { startServer, type ServerHandle } from '../../src/server/server.js';
import { StompTcpClient } from '../support/stomp-tcp-client.js';
import { connectClient, Inbox } from './mqtt-harness.js';

describe('cross-protocol: MQTT <-> STOMP', () => {
  let server: ServerHandle;
  let dataDir: string;
  let mqttPort: number;
  let stompPort: number;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'courier-cross-'));
    server = await startServer(
      {
        configFile: undefined,
        dataDir,
        bind: '127.0.0.1',
        mqttPort: 0,
        amqpPort: null,
        stompPort: 0,
        httpPort: null,
        kafkaPort: null,
        logLevel: 'silent',
        fsync: { mode: 'always' },
        segmentBytes: 1024 * 1024,
      },
      { protocolAdapters: [createMqttAdapterFactory(), createStompAdapterFactory()], version: 'test' },
    );
    mqttPort = server.addresses.mqtt!.port;
    stompPort = server.addresses.stomp!.port;
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
});
