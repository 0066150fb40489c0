/**
 * `$SYS/broker/...` statistics with the real `mqtt` client: retained, refreshed every interval (driven by
 * a ManualClock, so nothing waits for real time), and not matched by filters starting with a wildcard.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MqttClient } from 'mqtt';
import { ManualClock } from '../../src/core/clock.js';
import { Inbox, connectClient, startMqttServer, type MqttTestServer } from './mqtt-harness.js';

const INTERVAL_MS = 5000;

describe('mqtt $SYS topics', () => {
  let broker: MqttTestServer;
  const clock = new ManualClock(Date.now());
  const clients: MqttClient[] = [];
  before(async () => {
    broker = await startMqttServer({ clock, limits: { sysIntervalMs: INTERVAL_MS } });
  });
  after(async () => {
    await Promise.all(clients.map((client) => client.endAsync(true)));
    await broker.close();
  });
  const client = async (): Promise<MqttClient> => {
    const connected = await connectClient(broker.port);
    clients.push(connected);
    return connected;
  };

  it('publishes the statistics as retained messages at start', async () => {
    const watcher = await client();
    const inbox = new Inbox(watcher);
    await watcher.subscribeAsync('$SYS/#', { qos: 0 });
    const names = [
      'version',
      'uptime',
      'clients/connected',
      'messages/received',
      'messages/sent',
      'load/messages/received/1min',
      'load/messages/received/5min',
      'load/messages/received/15min',
      'load/messages/sent/1min',
      'load/messages/sent/5min',
      'load/messages/sent/15min',
    ];
    await inbox.waitFor(names.length);
    const topics = inbox.messages.map((message) => message.topic);
    assert.deepEqual([...topics].sort(), names.map((name) => `$SYS/broker/${name}`).sort());
    assert.ok(inbox.messages.every((message) => message.packet.retain), 'sent as retained messages');
    const value = (name: string): string | undefined => inbox.messages.find((message) => message.topic === `$SYS/broker/${name}`)?.text;
    assert.match(value('version') ?? '', /^courier/);
    assert.equal(value('uptime'), '0 seconds');
  });

  it('refreshes them every interval with the current counts', async () => {
    const watcher = await client();
    const inbox = new Inbox(watcher);
    await watcher.subscribeAsync({ '$SYS/broker/uptime': { qos: 0 }, '$SYS/broker/clients/connected': { qos: 0 }, '$SYS/broker/messages/received': { qos: 0 } });
    await inbox.waitFor(3); // the retained values
    const connectedNow = broker.server.broker.listConnections().filter((connection) => connection.info.protocol === 'mqtt' && connection.info.clientId !== '$SYS').length;
    clock.advance(INTERVAL_MS);
    await inbox.waitFor(6);
    const fresh = inbox.messages.slice(3);
    const value = (name: string): string | undefined => fresh.find((message) => message.topic === `$SYS/broker/${name}`)?.text;
    assert.equal(value('uptime'), `${INTERVAL_MS / 1000} seconds`);
    assert.equal(value('clients/connected'), String(connectedNow));
    assert.ok(Number(value('messages/received')) >= 4, 'CONNECTs and SUBSCRIBEs were counted');
    assert.ok(fresh.every((message) => !message.packet.retain), 'live updates to a subscriber have RETAIN clear');
  });

  it('does not match $SYS topics with filters starting with a wildcard [MQTT-4.7.2-1]', async () => {
    const everything = await client();
    const inbox = new Inbox(everything);
    await everything.subscribeAsync({ '#': { qos: 0 }, '+/broker/uptime': { qos: 0 } });
    clock.advance(INTERVAL_MS);
    const publisher = await client();
    await publisher.publishAsync('marker', 'after the tick', { qos: 1 });
    await inbox.waitForText('after the tick');
    assert.deepEqual(inbox.texts, ['after the tick']);
  });
});
