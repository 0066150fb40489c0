/**
 * MQTT over WebSocket at ws://HOST:HTTP_PORT/mqtt with the real `mqtt` client (ws:// URLs), talking to
 * TCP clients through the same broker; raw WebSocket messages check subprotocol and reassembly.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { Inbox, WAIT_MS, closed, connectClient, decodeAll, encode, rawConnect, startMqttServer, until, type MqttTestServer } from './mqtt-harness.js';

function connectWs(port: number, options: IClientOptions = {}): Promise<MqttClient> {
  return connectAsync(`ws://127.0.0.1:${port}/mqtt`, { reconnectPeriod: 0, connectTimeout: WAIT_MS, protocolVersion: 4, ...options });
}

/** A raw WebSocket collecting what the server sends, for bytes the client library would never split. */
async function rawWebSocket(port: number, protocols: string[]): Promise<{ ws: WebSocket; received: () => Buffer; closed: Promise<void> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/mqtt`, protocols);
  let received = Buffer.alloc(0);
  ws.on('message', (data: Buffer) => (received = Buffer.concat([received, data])));
  const wsClosed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, received: () => received, closed: wsClosed };
}

describe('MQTT over WebSocket', () => {
  let broker: MqttTestServer;
  before(async () => {
    broker = await startMqttServer({ webSocket: true });
  });
  after(() => broker.close());

  it('serves the mqtt client over ws:// in 3.1.1 and 5.0, to and from TCP clients', async () => {
    for (const protocolVersion of [4, 5] as const) {
      const web = await connectWs(broker.httpPort, { protocolVersion, clientId: `ws-${protocolVersion}` });
      const tcp = await connectClient(broker.port, { protocolVersion });
      const webInbox = new Inbox(web);
      const tcpInbox = new Inbox(tcp);
      await web.subscribeAsync('ws/from-tcp', { qos: 1 });
      await tcp.subscribeAsync('ws/from-web', { qos: 2 });
      await tcp.publishAsync('ws/from-tcp', 'hello web', { qos: 1 });
      await web.publishAsync('ws/from-web', 'hello tcp', { qos: 2 });
      const [fromTcp] = await webInbox.waitFor(1);
      const [fromWeb] = await tcpInbox.waitFor(1);
      assert.equal(fromTcp!.text, 'hello web');
      assert.equal(fromTcp!.packet.qos, 1);
      assert.equal(fromWeb!.text, 'hello tcp');
      assert.equal(fromWeb!.packet.qos, 2);
      await web.endAsync();
      await tcp.endAsync();
    }
  });

  it('carries large messages that span many WebSocket frames', async () => {
    const web = await connectWs(broker.httpPort);
    const inbox = new Inbox(web);
    await web.subscribeAsync('ws/big', { qos: 1 });
    const payload = Buffer.alloc(300_000, 7);
    await web.publishAsync('ws/big', payload, { qos: 1 });
    const [message] = await inbox.waitFor(1);
    assert.equal(message!.packet.payload.length, payload.length);
    assert.ok(Buffer.from(message!.packet.payload).equals(payload));
    await web.endAsync();
  });

  it('takes over a TCP session of the same client identifier', async () => {
    const tcp = await connectClient(broker.port, { clientId: 'ws-takeover' });
    const tcpClosed = closed(tcp);
    const web = await connectWs(broker.httpPort, { clientId: 'ws-takeover' });
    await tcpClosed;
    assert.ok(web.connected);
    await web.endAsync();
    await tcp.endAsync(true);
  });

  it('reassembles packets split across binary messages and several packets in one message', async () => {
    const { ws, received } = await rawWebSocket(broker.httpPort, ['mqtt']);
    assert.equal(ws.protocol, 'mqtt');
    const connect = rawConnect({ clientId: 'ws-raw' });
    for (const byte of connect) ws.send(Buffer.of(byte));
    await until(() => received().length >= 4, 'a CONNACK');
    assert.equal(decodeAll(received())[0]?.cmd, 'connack');
    // Two PINGREQs in one message.
    ws.send(Buffer.concat([encode({ cmd: 'pingreq' }), encode({ cmd: 'pingreq' })]));
    await until(() => decodeAll(received()).filter((packet) => packet.cmd === 'pingresp').length === 2, 'two PINGRESPs');
    ws.close();
  });

  it('refuses a WebSocket without the mqtt subprotocol', async () => {
    await assert.rejects(rawWebSocket(broker.httpPort, ['v12.stomp']));
  });

  it('closes the WebSocket on a malformed packet while other clients carry on', async () => {
    const other = await connectWs(broker.httpPort);
    const { ws, closed: wsClosed } = await rawWebSocket(broker.httpPort, ['mqtt']);
    ws.send(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01]));
    await wsClosed;
    await other.publishAsync('ws/still-alive', 'yes', { qos: 1 });
    await other.endAsync();
  });
});
