/** Publish / subscribe with the real mqtt client, 3.1.1 and 5.0, QoS 0, 1 and 2, with wildcards. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MqttClient } from 'mqtt';
import type { Delivery } from '../../src/core/channel.js';
import { createMessage } from '../../src/core/message/message.js';
import { connectClient, Inbox, startMqttServer, until, type MqttTestServer } from './mqtt-harness.js';

describe('mqtt publish and subscribe', () => {
  let broker: MqttTestServer;
  const clients: MqttClient[] = [];
  before(async () => {
    broker = await startMqttServer();
  });
  after(async () => {
    await Promise.all(clients.map((client) => client.endAsync(true)));
    await broker.close();
  });
  const client = async (options: Parameters<typeof connectClient>[1] = {}): Promise<MqttClient> => {
    const connected = await connectClient(broker.port, options);
    clients.push(connected);
    return connected;
  };

  for (const protocolVersion of [4, 5] as const) {
    for (const qos of [0, 1, 2] as const) {
      it(`delivers QoS ${qos} messages through + and # filters (protocol level ${protocolVersion})`, async () => {
        const subscriber = await client({ protocolVersion });
        const publisher = await client({ protocolVersion });
        const inbox = new Inbox(subscriber);
        const prefix = `pubsub/v${protocolVersion}/q${qos}`;
        const granted = await subscriber.subscribeAsync({ [`${prefix}/+/temp`]: { qos }, [`${prefix}/other/#`]: { qos } });
        assert.deepEqual(granted.map((grant) => grant.qos), [qos, qos]);
        await publisher.publishAsync(`${prefix}/kitchen/temp`, 'a', { qos });
        await publisher.publishAsync(`${prefix}/kitchen/humidity`, 'not matched', { qos });
        await publisher.publishAsync(`${prefix}/other`, 'b', { qos }); // # matches the parent level too
        await publisher.publishAsync(`${prefix}/other/x/y`, 'c', { qos });
        const messages = await inbox.waitFor(3);
        assert.deepEqual(messages.map((message) => [message.topic, message.text, message.packet.qos, message.packet.retain]), [
          [`${prefix}/kitchen/temp`, 'a', qos, false],
          [`${prefix}/other`, 'b', qos, false],
          [`${prefix}/other/x/y`, 'c', qos, false],
        ]);
      });
    }
  }

  it('delivers at the lower of the published and the subscribed QoS', async () => {
    const subscriber = await client();
    const publisher = await client();
    const inbox = new Inbox(subscriber);
    await subscriber.subscribeAsync({ 'downgrade/one': { qos: 1 }, 'downgrade/two': { qos: 2 }, 'downgrade/zero': { qos: 0 } });
    await publisher.publishAsync('downgrade/one', 'published 2, subscribed 1', { qos: 2 });
    await publisher.publishAsync('downgrade/two', 'published 0, subscribed 2', { qos: 0 });
    await publisher.publishAsync('downgrade/two', 'published 2, subscribed 2', { qos: 2 });
    await publisher.publishAsync('downgrade/zero', 'published 2, subscribed 0', { qos: 2 });
    const messages = await inbox.waitFor(4);
    const qosByText = Object.fromEntries(messages.map((message) => [message.text, message.packet.qos]));
    assert.deepEqual(qosByText, {
      'published 2, subscribed 1': 1,
      'published 0, subscribed 2': 0,
      'published 2, subscribed 2': 2,
      'published 2, subscribed 0': 0,
    });
  });

  it('sends one copy per QoS class for overlapping subscriptions, at the highest QoS of the class', async () => {
    const subscriber = await client({ protocolVersion: 5 });
    const publisher = await client();
    const inbox = new Inbox(subscriber);
    // Two filters of the QoS 1/2 class and one of the QoS 0 class match the same topic.
    await subscriber.subscribeAsync({ 'overlap/#': { qos: 1 }, 'overlap/+/x': { qos: 2 }, 'overlap/a/+': { qos: 0 } });
    await publisher.publishAsync('overlap/a/x', 'm', { qos: 2 });
    await publisher.publishAsync('overlap/end', 'marker', { qos: 1 });
    const messages = await inbox.waitFor(3);
    const copies = messages.filter((message) => message.text === 'm').map((message) => message.packet.qos).sort();
    assert.deepEqual(copies, [0, 2]);
    assert.equal(messages.filter((message) => message.text === 'marker').length, 1);
  });

  it('stops delivering after UNSUBSCRIBE and reports filters that had no subscription (5.0)', async () => {
    const subscriber = await client({ protocolVersion: 5 });
    const publisher = await client();
    const inbox = new Inbox(subscriber);
    await subscriber.subscribeAsync({ 'unsub/a': { qos: 1 }, 'unsub/b': { qos: 1 } });
    const unsuback = await subscriber.unsubscribeAsync(['unsub/a', 'unsub/never']);
    assert.deepEqual((unsuback as unknown as { granted: number[] }).granted, [0x00, 0x11]);
    await publisher.publishAsync('unsub/a', 'gone', { qos: 1 });
    await publisher.publishAsync('unsub/b', 'kept', { qos: 1 });
    await inbox.waitFor(1);
    assert.deepEqual(inbox.texts, ['kept']);
  });

  it('does not match $ topics with a leading wildcard, but with an explicit $ filter [MQTT-4.7.2-1]', async () => {
    const wildcard = await client();
    const explicit = await client();
    const publisher = await client();
    const wildcardInbox = new Inbox(wildcard);
    const explicitInbox = new Inbox(explicit);
    await wildcard.subscribeAsync({ '#': { qos: 1 }, '+/status': { qos: 0 } });
    await explicit.subscribeAsync({ '$internal/#': { qos: 1 } });
    await publisher.publishAsync('$internal/status', 'dollar', { qos: 1 });
    await publisher.publishAsync('dollar-test/end', 'marker', { qos: 1 });
    await explicitInbox.waitFor(1);
    await wildcardInbox.waitForText('marker');
    assert.deepEqual(explicitInbox.texts, ['dollar']);
    assert.ok(!wildcardInbox.texts.includes('dollar'), wildcardInbox.texts.join());
  });

  it('carries MQTT 5 properties end to end and forwards the remaining expiry', async () => {
    const subscriber = await client({ protocolVersion: 5 });
    const publisher = await client({ protocolVersion: 5 });
    const inbox = new Inbox(subscriber);
    await subscriber.subscribeAsync({ 'props/+': { qos: 1 } });
    await publisher.publishAsync('props/request', '{"q":1}', {
      qos: 1,
      properties: {
        contentType: 'application/json',
        responseTopic: 'props/reply.to',
        correlationData: Buffer.from([0xff, 0x00, 0x01]),
        userProperties: { tenant: 'acme', tag: ['a', 'b'] },
        payloadFormatIndicator: true,
        messageExpiryInterval: 3600,
      },
    });
    const [message] = await inbox.waitFor(1);
    const properties = message!.packet.properties!;
    assert.equal(properties.contentType, 'application/json');
    assert.equal(properties.responseTopic, 'props/reply.to');
    assert.deepEqual(properties.correlationData, Buffer.from([0xff, 0x00, 0x01]));
    assert.deepEqual({ ...properties.userProperties }, { tenant: 'acme', tag: ['a', 'b'] });
    assert.equal(properties.payloadFormatIndicator, true);
    assert.ok(properties.messageExpiryInterval! > 3500 && properties.messageExpiryInterval! <= 3600, String(properties.messageExpiryInterval));
  });

  it('routes MQTT publishes through amq.topic to core queues, with properties mapped to headers', async () => {
    const core = broker.server.broker;
    const connection = core.connect({ username: 'guest', tags: [] }, { protocol: 'test', remoteAddress: '127.0.0.1' });
    const channel = connection.openChannel();
    try {
      await connection.declareQueue({ name: 'cross-check', exclusive: true });
      await connection.bind({ source: 'amq.topic', destination: 'cross-check', destinationKind: 'queue', routingKey: 'cross.*.temp' });
      const publisher = await client({ protocolVersion: 5 });
      await publisher.publishAsync('cross/room.1/temp', '21.5', {
        qos: 1,
        properties: { contentType: 'text/plain', correlationData: Buffer.from('req-7'), responseTopic: 'replies/room.1', userProperties: { unit: 'C' } },
      });
      await until(() => core.getQueue('cross-check')!.messageCount > 0, 'the message in the core queue');
      const delivery: Delivery | undefined = await connection.get(channel, 'cross-check', true);
      assert.ok(delivery);
      const message = delivery.message;
      assert.equal(message.exchange, 'amq.topic');
      // `/` separates levels, a `.` inside a level travels as `/`.
      assert.equal(message.routingKey, 'cross.room/1.temp');
      assert.equal(message.persistent, true);
      assert.equal(Buffer.from(message.body).toString(), '21.5');
      assert.equal(message.properties.contentType, 'text/plain');
      assert.equal(message.properties.correlationId, 'req-7');
      assert.equal(message.properties.replyTo, 'replies.room/1');
      assert.equal(message.headers['unit'], 'C');
      assert.equal(message.headers['x-mqtt-publish-qos'], 1);
      assert.deepEqual(message.headers['x-correlation-data'], new Uint8Array(Buffer.from('req-7')));
    } finally {
      await connection.close();
    }
  });

  it('delivers messages published by other protocols (core) to MQTT subscribers, headers as user properties', async () => {
    const subscriber = await client({ protocolVersion: 5 });
    const inbox = new Inbox(subscriber);
    await subscriber.subscribeAsync({ 'from-core/#': { qos: 1 } });
    const core = broker.server.broker;
    const connection = core.connect({ username: 'guest', tags: [] }, { protocol: 'test', remoteAddress: '127.0.0.1' });
    try {
      const outcome = connection.publish(
        createMessage({
          exchange: 'amq.topic',
          routingKey: 'from-core.orders/eu.created',
          body: new TextEncoder().encode('order'),
          persistent: true,
          headers: { region: 'eu', attempt: 2 },
          properties: { contentType: 'text/plain', correlationId: 'c-1', replyTo: 'answers' },
        }),
      );
      assert.ok(outcome.routed >= 1);
      const [message] = await inbox.waitFor(1);
      assert.equal(message!.topic, 'from-core/orders.eu/created');
      assert.equal(message!.packet.qos, 1); // persistent, no MQTT QoS header: QoS 1
      const properties = message!.packet.properties!;
      assert.deepEqual({ ...properties.userProperties }, { region: 'eu', attempt: '2' });
      assert.equal(properties.contentType, 'text/plain');
      assert.deepEqual(properties.correlationData, Buffer.from('c-1'));
      assert.equal(properties.responseTopic, 'answers');
    } finally {
      await connection.close();
    }
  });

  it('replaces the subscription of a filter subscribed again [MQTT-3.8.4-3]', async () => {
    const subscriber = await client();
    const publisher = await client();
    const inbox = new Inbox(subscriber);
    await subscriber.subscribeAsync('again/x', { qos: 0 });
    await subscriber.subscribeAsync('again/x', { qos: 1 });
    await publisher.publishAsync('again/x', 'once', { qos: 1 });
    await publisher.publishAsync('again/x', 'marker', { qos: 1 });
    await inbox.waitForText('marker');
    assert.deepEqual(inbox.messages.map((message) => [message.text, message.packet.qos]), [
      ['once', 1],
      ['marker', 1],
    ]);
  });

  it("keeps at most the client's Receive Maximum of QoS 1 messages in flight (5.0)", async () => {
    const received: number[] = [];
    const slow = await client({
      clientId: 'receive-max',
      protocolVersion: 5,
      properties: { receiveMaximum: 2 },
      customHandleAcks: (_topic, _message, packet: { messageId?: number }) => void received.push(packet.messageId ?? 0),
    });
    await slow.subscribeAsync('window/#', { qos: 1 });
    const publisher = await client();
    for (let i = 0; i < 5; i++) await publisher.publishAsync('window/x', `m${i}`, { qos: 1 });
    const queue = broker.server.broker.getQueue('mqtt-subscription-receive-maxqos1')!;
    // The server sent two and holds the rest back (the client handles one PUBLISH at a time while it withholds acks).
    await until(() => queue.unackedCount === 2 && queue.messageCount === 3, 'two messages in flight, three waiting');
    assert.ok(received.length >= 1);
  });

  it("drops messages larger than the client's Maximum Packet Size for that client only (5.0) [MQTT-3.1.2-25]", async () => {
    const small = await client({ protocolVersion: 5, properties: { maximumPacketSize: 200 } });
    const large = await client({ protocolVersion: 5 });
    const smallInbox = new Inbox(small);
    const largeInbox = new Inbox(large);
    await small.subscribeAsync('sized/#', { qos: 1 });
    await large.subscribeAsync('sized/#', { qos: 1 });
    const publisher = await client();
    await publisher.publishAsync('sized/big', 'x'.repeat(500), { qos: 1 });
    await publisher.publishAsync('sized/small', 'marker', { qos: 1 });
    await smallInbox.waitForText('marker');
    await largeInbox.waitFor(2);
    assert.deepEqual(smallInbox.texts, ['marker']);
    assert.ok(small.connected);
  });
});
