/** Retained messages with the real client: set, clear, delivery on subscribe, flags, restart, expiry. */
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import type { MqttClient } from 'mqtt';
import { ManualClock } from '../../src/core/clock.js';
import { connectClient, connectWithInbox, Inbox, startMqttServer, type MqttTestServer } from './mqtt-harness.js';

describe('mqtt retained messages', () => {
  const servers: MqttTestServer[] = [];
  const clients: MqttClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });
  const server = async (clock?: ManualClock): Promise<MqttTestServer> => {
    const started = await startMqttServer(clock ? { clock } : {});
    servers.push(started);
    return started;
  };
  const client = async (broker: MqttTestServer, options: Parameters<typeof connectClient>[1] = {}): Promise<MqttClient> => {
    const connected = await connectClient(broker.port, options);
    clients.push(connected);
    return connected;
  };
  /** Subscribes a new client to `filters` plus a marker topic, and returns what arrived before the marker. */
  const retainedOnSubscribe = async (
    broker: MqttTestServer,
    filters: Record<string, { qos: 0 | 1 | 2; rh?: number }>,
    options: Parameters<typeof connectClient>[1] = {},
  ): Promise<Inbox['messages']> => {
    const subscriber = await client(broker, options);
    const inbox = new Inbox(subscriber);
    await subscriber.subscribeAsync(filters);
    // Retained messages follow the SUBACK; a marker published afterwards arrives after them.
    await subscriber.subscribeAsync('marker/end', { qos: 1 });
    const publisher = await client(broker);
    await publisher.publishAsync('marker/end', 'marker', { qos: 1 });
    const messages = await inbox.waitForText('marker');
    return messages.filter((message) => message.text !== 'marker');
  };

  it('sends the retained message to new subscribers with RETAIN set, and forwards live with RETAIN clear (3.1.1)', async () => {
    const broker = await server();
    const existing = await client(broker);
    const existingInbox = new Inbox(existing);
    await existing.subscribeAsync('home/+/state', { qos: 1 });
    const publisher = await client(broker);
    await publisher.publishAsync('home/lamp/state', 'on', { qos: 1, retain: true });
    const [live] = await existingInbox.waitFor(1);
    assert.equal(live!.packet.retain, false); // [MQTT-3.3.1-9] (3.1.1)

    const received = await retainedOnSubscribe(broker, { 'home/lamp/state': { qos: 1 } });
    assert.deepEqual(received.map((message) => [message.topic, message.text, message.packet.retain, message.packet.qos]), [
      ['home/lamp/state', 'on', true, 1],
    ]);
  });

  it('replaces the retained message and clears it with an empty payload, still forwarding the empty one [MQTT-3.3.1-10]', async () => {
    const broker = await server();
    const existing = await client(broker);
    const existingInbox = new Inbox(existing);
    await existing.subscribeAsync('door/state', { qos: 1 });
    const publisher = await client(broker);
    await publisher.publishAsync('door/state', 'open', { qos: 1, retain: true });
    await publisher.publishAsync('door/state', 'closed', { qos: 0, retain: true });
    assert.deepEqual((await retainedOnSubscribe(broker, { 'door/state': { qos: 1 } })).map((message) => message.text), ['closed']);
    await publisher.publishAsync('door/state', '', { qos: 1, retain: true });
    await existingInbox.waitFor(3);
    assert.deepEqual(existingInbox.texts, ['open', 'closed', '']);
    assert.deepEqual(await retainedOnSubscribe(broker, { 'door/state': { qos: 1 } }), []);
    assert.equal(await broker.server.broker.retained.get('door.state'), undefined);
  });

  it('matches retained messages with wildcards, never $ topics under a leading wildcard, at the lower QoS', async () => {
    const broker = await server();
    const publisher = await client(broker);
    await publisher.publishAsync('tree/a', 'a', { qos: 1, retain: true });
    await publisher.publishAsync('tree/b/c', 'bc', { qos: 0, retain: true });
    await publisher.publishAsync('$tree/hidden', 'hidden', { qos: 1, retain: true });
    const all = await retainedOnSubscribe(broker, { '#': { qos: 1 } });
    const tree = all.filter((message) => message.topic.startsWith('tree/') || message.topic.startsWith('$tree'));
    assert.deepEqual(tree.map((message) => [message.topic, message.packet.qos]).sort(), [
      ['tree/a', 1],
      ['tree/b/c', 0],
    ]);
    const level = await retainedOnSubscribe(broker, { 'tree/+': { qos: 0 } });
    assert.deepEqual(level.map((message) => [message.topic, message.packet.qos]), [['tree/a', 0]]);
    const dollar = await retainedOnSubscribe(broker, { '$tree/#': { qos: 1 } });
    assert.deepEqual(dollar.map((message) => message.text), ['hidden']);
  });

  it('keeps retained messages across a broker restart', async () => {
    const broker = await server();
    const publisher = await connectClient(broker.port);
    await publisher.publishAsync('durable/retained', 'kept', { qos: 1, retain: true });
    await publisher.endAsync();
    await broker.restart();
    const received = await retainedOnSubscribe(broker, { 'durable/#': { qos: 1 } });
    assert.deepEqual(received.map((message) => [message.text, message.packet.retain]), [['kept', true]]);
  });

  it('follows 5.0 Retain Handling and Retain As Published', async () => {
    const broker = await server();
    const publisher = await client(broker, { protocolVersion: 5 });
    await publisher.publishAsync('rh/x', 'retained', { qos: 1, retain: true });
    assert.deepEqual(await retainedOnSubscribe(broker, { 'rh/#': { qos: 1, rh: 2 } }, { protocolVersion: 5 }), []);

    const { client: subscriber, inbox } = await connectWithInbox(broker.port, { protocolVersion: 5 });
    clients.push(subscriber);
    await subscriber.subscribeAsync({ 'rh/#': { qos: 1, rh: 1, rap: true } });
    await inbox.waitFor(1);
    await subscriber.subscribeAsync({ 'rh/#': { qos: 1, rh: 1, rap: true } }); // not new: nothing sent
    await publisher.publishAsync('rh/x', 'live retained', { qos: 1, retain: true });
    await publisher.publishAsync('rh/x', 'live plain', { qos: 1 });
    await inbox.waitFor(3);
    assert.deepEqual(inbox.messages.map((message) => [message.text, message.packet.retain]), [
      ['retained', true],
      ['live retained', true], // Retain As Published [MQTT-3.3.1-13]
      ['live plain', false],
    ]);
  });

  it('stops sending a retained message once its Message Expiry Interval has passed', async () => {
    const clock = new ManualClock(Date.now());
    const broker = await server(clock);
    const publisher = await client(broker, { protocolVersion: 5 });
    await publisher.publishAsync('expiring/retained', 'short-lived', { qos: 1, retain: true, properties: { messageExpiryInterval: 10 } });
    clock.advance(4_000);
    const early = await retainedOnSubscribe(broker, { 'expiring/#': { qos: 1 } }, { protocolVersion: 5 });
    assert.deepEqual(early.map((message) => [message.text, message.packet.properties?.messageExpiryInterval]), [['short-lived', 6]]);
    clock.advance(7_000);
    assert.deepEqual(await retainedOnSubscribe(broker, { 'expiring/#': { qos: 1 } }, { protocolVersion: 5 }), []);
  });
});
