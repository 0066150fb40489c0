/**
 * QoS 2 stays exactly-once when `courier serve` is killed with SIGKILL mid-flow, with the real `mqtt`
 * client and persistent sessions:
 * - inbound: the broker stored a message and sent PUBREC, which was lost; after the restart the client
 *   resends the PUBLISH with the same packet identifier and it is not published a second time;
 * - outbound: the subscriber answered PUBREC and got PUBREL but its PUBCOMP never came; after the
 *   restart the session resumes with PUBREL for that identifier, not a second PUBLISH.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { connect, type IClientOptions, type IPublishPacket, type MqttClient, type Packet } from 'mqtt';
import { Inbox, until } from '../integration/mqtt-harness.js';
import { LossyProxy } from '../integration/mqtt-proxy.js';
import { ChildProcesses, type LineChild } from '../support/child-process.js';
import { freePort, serveCourier } from '../support/courier-child.js';

// Compiled to dist/test/crash/: the repository root is three levels up.
const WAIT_MS = 20_000;


interface Recorded {
  readonly client: MqttClient;
  readonly packets: Packet[];
  readonly inbox: Inbox;
  readonly connected: Promise<void>;
}

function mqttClient(port: number, options: IClientOptions): Recorded {
  const client = connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: WAIT_MS, keepalive: 0, ...options });
  const packets: Packet[] = [];
  client.on('packetreceive', (packet) => packets.push(packet));
  client.on('error', () => undefined);
  const connected = new Promise<void>((resolve) => client.once('connect', () => resolve()));
  return { client, packets, inbox: new Inbox(client), connected };
}

const persistent = (clientId: string): IClientOptions => ({ clientId, protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 3600 } });
const publishTexts = (packets: readonly Packet[]): string[] =>
  packets.filter((packet): packet is IPublishPacket => packet.cmd === 'publish').map((packet) => Buffer.from(packet.payload).toString('utf8'));

describe('crash: SIGKILL in the middle of MQTT QoS 2 flows', () => {
  const children = new ChildProcesses();
  const clients: MqttClient[] = [];
  const proxies: LossyProxy[] = [];
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'courier-mqtt-qos2-crash-'));
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  });
  after(async () => {
    await children.killAll();
    await rm(root, { recursive: true, force: true });
  });

  const serve = (dataDir: string, port: number): Promise<LineChild> => serveCourier(children, dataDir, '--mqtt-port', port, WAIT_MS);

  const track = (recorded: Recorded): Recorded => {
    clients.push(recorded.client);
    return recorded;
  };

  it('does not publish a resent QoS 2 PUBLISH twice after a SIGKILL', async () => {
    const dataDir = join(root, 'inbound');
    const port = await freePort();
    const first = await serve(dataDir, port);
    const subscriber = track(mqttClient(port, persistent('kill-q2-sink')));
    await subscriber.connected;
    await subscriber.client.subscribeAsync('kill/q2in', { qos: 1 });

    const proxy = await LossyProxy.start(port);
    proxies.push(proxy);
    const publisher = track(mqttClient(proxy.port, persistent('kill-q2-source')));
    await publisher.connected;
    proxy.dropFromBroker = true; // the PUBREC is lost
    const completed = publisher.client.publishAsync('kill/q2in', 'exactly once', { qos: 2 });
    completed.catch(() => undefined);
    await subscriber.inbox.waitForText('exactly once', WAIT_MS);
    // PUBREC is sent once the message and the packet identifier are both stored.
    await until(() => proxy.dropped > 0, 'the PUBREC', WAIT_MS);
    assert.deepEqual(await first.killHard(), { code: null, signal: 'SIGKILL' });
    await subscriber.client.endAsync(true);

    await serve(dataDir, port);
    proxy.dropFromBroker = false;
    await until(() => !publisher.client.connected, 'the publisher to notice', WAIT_MS);
    publisher.client.reconnect({ incomingStore: publisher.client.incomingStore, outgoingStore: publisher.client.outgoingStore });
    await completed;
    const resumed = track(mqttClient(port, persistent('kill-q2-sink')));
    await resumed.connected;
    await publisher.client.publishAsync('kill/q2in', 'marker', { qos: 2 });
    await resumed.inbox.waitForText('marker', WAIT_MS);
    assert.deepEqual(resumed.inbox.texts, ['marker']);
  });

  it('resumes an outbound QoS 2 flow with PUBREL after a SIGKILL', async () => {
    const dataDir = join(root, 'outbound');
    const port = await freePort();
    const first = await serve(dataDir, port);
    const subscriber = track(mqttClient(port, persistent('kill-q2-out')));
    // The message is handed over at PUBREL; holding it there means PUBCOMP is never sent.
    subscriber.client.handleMessage = () => undefined;
    await subscriber.connected;
    await subscriber.client.subscribeAsync('kill/q2out', { qos: 2 });
    const publisher = track(mqttClient(port, { clientId: 'kill-q2-out-publisher' }));
    await publisher.connected;
    await publisher.client.publishAsync('kill/q2out', 'exactly once', { qos: 2 });
    await subscriber.inbox.waitForText('exactly once', WAIT_MS); // PUBREL arrived
    const sent = subscriber.packets.find((packet): packet is IPublishPacket => packet.cmd === 'publish');
    assert.deepEqual(await first.killHard(), { code: null, signal: 'SIGKILL' });
    await subscriber.client.endAsync(true);
    await publisher.client.endAsync(true);

    await serve(dataDir, port);
    const resumed = track(mqttClient(port, persistent('kill-q2-out')));
    await until(() => resumed.packets.some((packet) => packet.cmd === 'pubrel'), 'the PUBREL again', WAIT_MS);
    assert.equal(resumed.packets.find((packet) => packet.cmd === 'pubrel')?.messageId, sent?.messageId);
    const markerPublisher = track(mqttClient(port, { clientId: 'kill-q2-out-marker' }));
    await markerPublisher.connected;
    await markerPublisher.client.publishAsync('kill/q2out', 'marker', { qos: 2 });
    await resumed.inbox.waitForText('marker', WAIT_MS);
    assert.deepEqual(publishTexts(resumed.packets), ['marker']);
  });
});
