/**
 * MQTT 5 features negotiated in CONNECT / CONNACK: topic aliases from the client, the server's Receive
 * Maximum, Server Keep Alive, with the real `mqtt` client (raw bytes where it cannot misbehave).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IDisconnectPacket, MqttClient, Packet } from 'mqtt';
import { Inbox, RawConnection, connectClient, connectWithInbox, decodeAll, encode, startMqttServer, type MqttTestServer } from './mqtt-harness.js';

const RECEIVE_MAXIMUM = 3;

describe('mqtt 5 negotiated features', () => {
  let broker: MqttTestServer;
  const clients: MqttClient[] = [];
  const raws: RawConnection[] = [];
  before(async () => {
    broker = await startMqttServer({ limits: { receiveMaximum: RECEIVE_MAXIMUM, topicAliasMaximum: 4, maxKeepAliveSeconds: 30 } });
  });
  after(async () => {
    await Promise.all(clients.map((client) => client.endAsync(true)));
    for (const raw of raws) raw.destroy();
    await broker.close();
  });
  const client = async (options: Parameters<typeof connectClient>[1] = {}): Promise<MqttClient> => {
    const connected = await connectClient(broker.port, { protocolVersion: 5, ...options });
    clients.push(connected);
    return connected;
  };

  it('advertises Receive Maximum and Topic Alias Maximum in CONNACK', async () => {
    const { client: connected, connack } = await connectWithInbox(broker.port, { protocolVersion: 5, keepalive: 10 });
    clients.push(connected);
    assert.equal(connack.properties?.receiveMaximum, RECEIVE_MAXIMUM);
    assert.equal(connack.properties?.topicAliasMaximum, 4);
    assert.equal(connack.properties?.serverKeepAlive, undefined, 'a keep-alive under the cap is kept');
  });

  it('resolves topic aliases a client defines and uses', async () => {
    const subscriber = await client();
    const inbox = new Inbox(subscriber);
    await subscriber.subscribeAsync('alias/#', { qos: 1 });
    const publisher = await client({ autoAssignTopicAlias: true });
    const sent: Packet[] = [];
    publisher.on('packetsend', (packet) => packet.cmd === 'publish' && sent.push(packet));
    for (let i = 0; i < 3; i++) await publisher.publishAsync('alias/long/topic/name', `m${i}`, { qos: 1 });
    await publisher.publishAsync('alias/other', 'other', { qos: 0 });
    const messages = await inbox.waitFor(4);
    assert.deepEqual(
      messages.map((message) => [message.topic, message.text]),
      [
        ['alias/long/topic/name', 'm0'],
        ['alias/long/topic/name', 'm1'],
        ['alias/long/topic/name', 'm2'],
        ['alias/other', 'other'],
      ],
    );
    // The client really used the alias: after the first PUBLISH the topic went out empty.
    const topics = sent.map((packet) => (packet.cmd === 'publish' ? [packet.topic, packet.properties?.topicAlias] : []));
    assert.deepEqual(topics.slice(0, 3), [
      ['alias/long/topic/name', 1],
      ['', 1],
      ['', 1],
    ]);
  });

  it("uses topic aliases towards a client up to its Topic Alias Maximum", async () => {
    const subscriber = await client({ properties: { topicAliasMaximum: 1 } });
    const inbox = new Inbox(subscriber);
    const raw: Packet[] = [];
    subscriber.on('packetreceive', (packet) => packet.cmd === 'publish' && raw.push(packet));
    await subscriber.subscribeAsync('out/#', { qos: 1 });
    const publisher = await client();
    for (const topic of ['out/first', 'out/first', 'out/second', 'out/first']) await publisher.publishAsync(topic, topic, { qos: 1 });
    const messages = await inbox.waitFor(4);
    assert.deepEqual(
      messages.map((message) => message.topic),
      ['out/first', 'out/first', 'out/second', 'out/first'],
    );
    // What went over the wire: alias 1 defined for the first topic, then used; no room for a second one.
    assert.deepEqual(
      raw.map((packet) => (packet.cmd === 'publish' ? [packet.topic, packet.properties?.topicAlias] : [])),
      [
        ['out/first', 1],
        ['', 1],
        ['out/second', undefined],
        ['', 1],
      ],
    );
  });

  it('disconnects with 0x93 a client that exceeds the Receive Maximum', async () => {
    const connection = await RawConnection.open(broker.port);
    raws.push(connection);
    connection.send(encode({ cmd: 'connect', protocolVersion: 5, clientId: 'too-many', clean: true, keepalive: 60 }, 5));
    await connection.waitForBytes(3);
    // QoS 2 publishes stay unacknowledged until PUBREL, which this client never sends.
    for (let i = 1; i <= RECEIVE_MAXIMUM + 1; i++) {
      connection.send(encode({ cmd: 'publish', topic: 'flood', payload: Buffer.from('x'), qos: 2, messageId: i, retain: false, dup: false }, 5));
    }
    const packets = decodeAll(await connection.closedByServer(), 5);
    // PUBRECs of publishes not yet durable when the connection ends are never sent: only some may precede.
    const cmds = packets.map((packet) => packet.cmd);
    assert.equal(cmds[0], 'connack');
    assert.equal(cmds.at(-1), 'disconnect');
    assert.ok(cmds.slice(1, -1).every((cmd) => cmd === 'pubrec') && cmds.length - 2 <= RECEIVE_MAXIMUM, cmds.join(', '));
    assert.equal((packets.at(-1) as IDisconnectPacket).reasonCode, 0x93);
  });

  it('allows the Receive Maximum when the client completes its flows', async () => {
    const publisher = await client();
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: RECEIVE_MAXIMUM }, (_, i) => publisher.publishAsync('within', `m${i}`, { qos: i % 2 === 0 ? 1 : 2 })));
    }
    assert.ok(publisher.connected);
  });

  it('returns the Subscription Identifiers of every matching subscription, also on retained messages', async () => {
    const publisher = await client();
    await publisher.publishAsync('ids/retained', 'kept', { qos: 1, retain: true });
    const { client: subscriber, inbox, connack } = await connectWithInbox(broker.port, { protocolVersion: 5 });
    clients.push(subscriber);
    assert.equal(connack.properties?.subscriptionIdentifiersAvailable, true);
    await subscriber.subscribeAsync('ids/#', { qos: 1, properties: { subscriptionIdentifier: 7 } });
    await inbox.waitForText('kept');
    await subscriber.subscribeAsync('ids/+/deep', { qos: 1, properties: { subscriptionIdentifier: 300 } });
    await subscriber.subscribeAsync('ids/plain', { qos: 1 });
    await publisher.publishAsync('ids/a/deep', 'both', { qos: 1 });
    await publisher.publishAsync('ids/plain', 'one', { qos: 0 });
    await inbox.waitFor(3);
    const ids = (text: string): unknown => inbox.messages.find((message) => message.text === text)?.packet.properties?.subscriptionIdentifier;
    assert.equal(ids('kept'), 7);
    assert.deepEqual([ids('both')].flat().sort((a, b) => Number(a) - Number(b)), [7, 300]);
    assert.equal(ids('one'), 7, 'the plain subscription adds no identifier');
  });

  it("does not send a client its own messages on a No Local subscription, but others' and other subscriptions' ones", async () => {
    const self = await client({ clientId: 'no-local-self' });
    const inbox = new Inbox(self);
    await self.subscribeAsync('local/#', { qos: 1, nl: true });
    const other = await client();
    await self.publishAsync('local/a', 'mine', { qos: 1 });
    await other.publishAsync('local/a', 'theirs', { qos: 1 });
    await inbox.waitForText('theirs');
    // A second subscription without No Local matching the same topic still gets the client's own messages.
    await self.subscribeAsync('local/b', { qos: 0 });
    await self.publishAsync('local/b', 'mine again', { qos: 1 });
    await inbox.waitForText('mine again');
    assert.deepEqual(inbox.texts, ['theirs', 'mine again']);
  });

  it('keeps Subscription Identifiers and No Local in a persistent session across a broker restart', async () => {
    const options = { clientId: 'ids-persistent', clean: false, properties: { sessionExpiryInterval: 600 } };
    const first = await client(options);
    await first.subscribeAsync('persist/#', { qos: 1, nl: true, properties: { subscriptionIdentifier: 42 } });
    await first.endAsync();
    await broker.restart();
    const { client: resumed, inbox } = await connectWithInbox(broker.port, { protocolVersion: 5, ...options });
    clients.push(resumed);
    const other = await client();
    await resumed.publishAsync('persist/x', 'mine', { qos: 1 });
    await other.publishAsync('persist/x', 'theirs', { qos: 1 });
    const [message] = await inbox.waitForText('theirs');
    assert.deepEqual(inbox.texts, ['theirs']);
    assert.equal(message!.packet.properties?.subscriptionIdentifier, 42);
  });

  it('caps the keep-alive with Server Keep Alive and applies it', async () => {
    for (const keepalive of [0, 120]) {
      const { client: connected, connack } = await connectWithInbox(broker.port, { protocolVersion: 5, keepalive });
      clients.push(connected);
      assert.equal((connack).properties?.serverKeepAlive, 30, `keep-alive ${keepalive} is capped`);
    }
  });
});
