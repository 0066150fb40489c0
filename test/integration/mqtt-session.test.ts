/**
 * Persistent sessions (3.1.1 clean session 0, 5.0 Session Expiry Interval): messages queued while the
 * client is away, across a broker restart, in-flight redelivery with DUP, QoS 2 exactly-once both ways.
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import type { IConnackPacket, IPublishPacket, MqttClient } from 'mqtt';
import { ManualClock } from '../../src/core/clock.js';
import {
  connectClient,
  connectWithInbox,
  decodeAll,
  encode,
  rawConnect,
  RawConnection,
  startMqttServer,
  until,
  type MqttTestServer,
} from './mqtt-harness.js';

describe('mqtt persistent sessions', () => {
  const servers: MqttTestServer[] = [];
  const clients: MqttClient[] = [];
  const raws: RawConnection[] = [];
  afterEach(async () => {
    for (const raw of raws.splice(0)) raw.destroy();
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });
  const server = async (limits = {}): Promise<MqttTestServer> => {
    const started = await startMqttServer({ limits });
    servers.push(started);
    return started;
  };
  const publisherFor = async (broker: MqttTestServer): Promise<MqttClient> => {
    const publisher = await connectClient(broker.port, { clientId: `publisher-${clients.length}` });
    clients.push(publisher);
    return publisher;
  };
  /** No connection of this client id left on the server (its session ended, its deliveries returned). */
  const gone = (broker: MqttTestServer, clientId: string): Promise<void> =>
    until(() => !broker.server.broker.listConnections().some((connection) => connection.info.clientId === clientId), `${clientId} to be gone`);

  for (const protocolVersion of [4, 5] as const) {
    const persistentOptions =
      protocolVersion === 5 ? { protocolVersion, clean: false, properties: { sessionExpiryInterval: 3600 } } : { protocolVersion, clean: false };

    it(`queues messages while a persistent client is away, also across a broker restart (level ${protocolVersion})`, async () => {
      const broker = await server();
      const clientId = `persistent-v${protocolVersion}`;
      const first = await connectWithInbox(broker.port, { clientId, ...persistentOptions });
      assert.equal(first.connack.sessionPresent, false);
      await first.client.subscribeAsync({ 'away/+/data': { qos: 1 }, 'away/qos2': { qos: 2 } });
      await first.client.endAsync();
      await gone(broker, clientId);

      const publisher = await publisherFor(broker);
      await publisher.publishAsync('away/a/data', 'one', { qos: 1 });
      await publisher.publishAsync('away/b/data', 'two', { qos: 1 });
      await publisher.publishAsync('away/qos2', 'three', { qos: 2 });
      await publisher.publishAsync('away/c/data', 'four (qos 0)', { qos: 0 });

      const second = await connectWithInbox(broker.port, { clientId, ...persistentOptions });
      clients.push(second.client);
      assert.equal(second.connack.sessionPresent, true); // [MQTT-3.2.2-2]
      await second.inbox.waitFor(4);
      assert.deepEqual(
        second.inbox.messages.map((message) => [message.text, message.packet.qos]).sort(),
        [['four (qos 0)', 0], ['one', 1], ['three', 2], ['two', 1]],
      );
      await second.client.endAsync();
      await gone(broker, clientId);

      await publisher.publishAsync('away/a/data', 'before restart', { qos: 1 });
      await publisher.publishAsync('away/a/data', 'transient, lost in the restart', { qos: 0 });
      await publisher.endAsync();
      await broker.restart();

      const third = await connectWithInbox(broker.port, { clientId, ...persistentOptions });
      clients.push(third.client);
      assert.equal(third.connack.sessionPresent, true);
      await third.inbox.waitFor(1);
      // The subscriptions survived the restart too: a new message is delivered live.
      const afterRestart = await publisherFor(broker);
      await afterRestart.publishAsync('away/z/data', 'after restart', { qos: 1 });
      await third.inbox.waitFor(2);
      assert.deepEqual(third.inbox.texts, ['before restart', 'after restart']);
    });
  }

  it('discards a persistent session when the client connects with a clean session [MQTT-3.1.2-6]', async () => {
    const broker = await server();
    const first = await connectWithInbox(broker.port, { clientId: 'discard-me', clean: false });
    await first.client.subscribeAsync('discard/#', { qos: 1 });
    await first.client.endAsync();
    await gone(broker, 'discard-me');
    const publisher = await publisherFor(broker);
    await publisher.publishAsync('discard/x', 'queued', { qos: 1 });

    const clean = await connectWithInbox(broker.port, { clientId: 'discard-me', clean: true });
    assert.equal(clean.connack.sessionPresent, false); // [MQTT-3.2.2-1]
    assert.equal(broker.server.broker.getQueue('mqtt-subscription-discard-meqos1'), undefined);
    await clean.client.endAsync();
    await gone(broker, 'discard-me');
    const again = await connectWithInbox(broker.port, { clientId: 'discard-me', clean: false });
    clients.push(again.client);
    assert.equal(again.connack.sessionPresent, false);
    await publisher.publishAsync('discard/x', 'not subscribed any more', { qos: 1 });
    await again.client.subscribeAsync('marker', { qos: 1 });
    await publisher.publishAsync('marker', 'marker', { qos: 1 });
    await again.inbox.waitFor(1);
    assert.deepEqual(again.inbox.texts, ['marker']);
  });

  it('expires a 5.0 session after its Session Expiry Interval', async () => {
    const broker = await server();
    const options = { clientId: 'short-lived', protocolVersion: 5 as const, clean: false, properties: { sessionExpiryInterval: 1 } };
    const first = await connectWithInbox(broker.port, options);
    await first.client.subscribeAsync('expiring/#', { qos: 1 });
    await first.client.endAsync();
    await until(() => broker.server.broker.getQueue('mqtt-subscription-short-livedqos1') === undefined, 'the session queue to expire');
    const second = await connectWithInbox(broker.port, options);
    clients.push(second.client);
    assert.equal(second.connack.sessionPresent, false);
  });

  it('keeps only the newest messages of an absent session beyond its bound (drop-head)', async () => {
    const broker = await server({ maxQueuedMessages: 3 });
    const first = await connectWithInbox(broker.port, { clientId: 'bounded', clean: false });
    await first.client.subscribeAsync('bounded/#', { qos: 1 });
    await first.client.endAsync();
    await gone(broker, 'bounded');
    const publisher = await publisherFor(broker);
    for (let i = 1; i <= 5; i++) await publisher.publishAsync('bounded/x', `m${i}`, { qos: 1 });
    const second = await connectWithInbox(broker.port, { clientId: 'bounded', clean: false });
    clients.push(second.client);
    await second.inbox.waitFor(3);
    assert.deepEqual(second.inbox.texts, ['m3', 'm4', 'm5']);
  });

  it('redelivers an unacknowledged QoS 1 message with DUP and its packet identifier after a reconnect [MQTT-4.4.0-1]', async () => {
    const broker = await server();
    const received: IPublishPacket[] = [];
    const withholding = await connectClient(broker.port, {
      clientId: 'no-acks',
      protocolVersion: 5, // the client offers customHandleAcks in 5.0 only
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
      // Never acknowledges: the message stays in flight.
      customHandleAcks: (_topic, _message, packet: IPublishPacket) => void received.push(packet),
    });
    await withholding.subscribeAsync('inflight/#', { qos: 1 });
    const publisher = await publisherFor(broker);
    await publisher.publishAsync('inflight/x', 'unacked', { qos: 1 });
    await until(() => received.length === 1, 'the first delivery');
    assert.equal(received[0]!.dup, false);
    withholding.stream.destroy();
    await gone(broker, 'no-acks');

    const again = await connectWithInbox(broker.port, { clientId: 'no-acks', protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 3600 } });
    clients.push(again.client);
    const [redelivered] = await again.inbox.waitFor(1);
    assert.equal(redelivered!.text, 'unacked');
    assert.equal(redelivered!.packet.dup, true); // [MQTT-3.3.1-1]
    assert.equal(redelivered!.packet.messageId, received[0]!.messageId);
  });

  it('redelivers an unacknowledged QoS 1 message after a broker restart', async () => {
    const broker = await server();
    const received: IPublishPacket[] = [];
    const withholding = await connectClient(broker.port, {
      clientId: 'restart-inflight',
      protocolVersion: 5,
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
      customHandleAcks: (_topic, _message, packet: IPublishPacket) => void received.push(packet),
    });
    await withholding.subscribeAsync('restart-inflight/#', { qos: 1 });
    const publisher = await publisherFor(broker);
    await publisher.publishAsync('restart-inflight/x', 'in flight at restart', { qos: 1 });
    await until(() => received.length === 1, 'the first delivery');
    await publisher.endAsync(true);
    await broker.restart();
    withholding.stream.destroy();

    const again = await connectWithInbox(broker.port, {
      clientId: 'restart-inflight',
      protocolVersion: 5,
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
    });
    clients.push(again.client);
    const [redelivered] = await again.inbox.waitFor(1);
    assert.equal(redelivered!.text, 'in flight at restart');
    assert.equal(redelivered!.packet.dup, true);
  });

  it('receives a QoS 2 message exactly once when the client resends it before PUBREL [MQTT-4.3.3-10]', async () => {
    const broker = await server();
    const subscriber = await connectWithInbox(broker.port, { clientId: 'qos2-sink' });
    clients.push(subscriber.client);
    await subscriber.client.subscribeAsync('exactly/once', { qos: 2 });
    const sender = await RawConnection.open(broker.port);
    raws.push(sender);
    sender.send(rawConnect({ clientId: 'qos2-source' }));
    await sender.waitForBytes(4);
    const publish = { cmd: 'publish', topic: 'exactly/once', payload: Buffer.from('once'), qos: 2, messageId: 7, retain: false } as const;
    sender.send(encode({ ...publish, dup: false }));
    await sender.waitForBytes(8);
    sender.send(encode({ ...publish, dup: true })); // PUBREC lost, say: the client resends
    await sender.waitForBytes(12);
    sender.send(encode({ cmd: 'pubrel', messageId: 7 }));
    await sender.waitForBytes(16);
    const replies = decodeAll(sender.bytes.subarray(4)).map((packet) => [packet.cmd, packet.messageId]);
    assert.deepEqual(replies, [['pubrec', 7], ['pubrec', 7], ['pubcomp', 7]]);
    sender.send(encode({ cmd: 'publish', topic: 'exactly/once', payload: Buffer.from('marker'), qos: 1, messageId: 8, retain: false, dup: false }));
    await subscriber.inbox.waitFor(2);
    // The client hands a QoS 2 message over once its own flow completes, so the marker may come first.
    assert.deepEqual(subscriber.inbox.texts.sort(), ['marker', 'once']);
  });

  it('completes an outbound QoS 2 flow across a reconnect with PUBREL, never a second PUBLISH', async () => {
    const broker = await server();
    const connectBytes = rawConnect({ clientId: 'qos2-out', flags: 0x00 });
    const first = await RawConnection.open(broker.port);
    raws.push(first);
    first.send(connectBytes);
    await first.waitForBytes(4);
    first.send(encode({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'q2out/#', qos: 2 }] }));
    await first.waitForBytes(9); // SUBACK
    const publisher = await publisherFor(broker);
    await publisher.publishAsync('q2out/x', 'exactly once', { qos: 2 });
    await until(() => decodeAll(first.bytes.subarray(9)).some((packet) => packet.cmd === 'publish'), 'the QoS 2 PUBLISH');
    const sent = decodeAll(first.bytes.subarray(9)).find((packet) => packet.cmd === 'publish') as IPublishPacket;
    assert.equal(sent.qos, 2);
    const receivedBefore = first.bytes.length;
    first.send(encode({ cmd: 'pubrec', messageId: sent.messageId! }));
    await first.waitForBytes(receivedBefore + 4); // PUBREL
    first.destroy(); // before PUBCOMP
    await gone(broker, 'qos2-out');

    const second = await RawConnection.open(broker.port);
    raws.push(second);
    second.send(connectBytes);
    await until(() => decodeAll(second.bytes).some((packet) => packet.cmd === 'pubrel'), 'the PUBREL again');
    const resumed = decodeAll(second.bytes);
    assert.deepEqual([resumed[0]!.cmd, (resumed[0] as IConnackPacket).sessionPresent], ['connack', true]);
    assert.deepEqual(resumed.slice(1).map((packet) => [packet.cmd, packet.messageId]), [['pubrel', sent.messageId]]);
    second.send(encode({ cmd: 'pubcomp', messageId: sent.messageId! }));
    await publisher.publishAsync('q2out/y', 'marker', { qos: 1 });
    await until(() => decodeAll(second.bytes).some((packet) => packet.cmd === 'publish'), 'the marker');
    const publishes = decodeAll(second.bytes).filter((packet): packet is IPublishPacket => packet.cmd === 'publish');
    assert.deepEqual(publishes.map((packet) => packet.payload.toString()), ['marker']);
  });

  it('does not deliver a queued message whose Message Expiry Interval passed, and forwards what remains of the others', async () => {
    const clock = new ManualClock(Date.now());
    const broker = await startMqttServer({ clock });
    servers.push(broker);
    const options = { clientId: 'expiry', protocolVersion: 5 as const, clean: false, properties: { sessionExpiryInterval: 3600 } };
    const first = await connectWithInbox(broker.port, options);
    await first.client.subscribeAsync('expiry/#', { qos: 1 });
    await first.client.endAsync();
    await gone(broker, 'expiry');
    const publisher = await connectClient(broker.port, { protocolVersion: 5 });
    clients.push(publisher);
    await publisher.publishAsync('expiry/short', 'expires', { qos: 1, properties: { messageExpiryInterval: 10 } });
    await publisher.publishAsync('expiry/long', 'lives', { qos: 1, properties: { messageExpiryInterval: 100 } });
    clock.advance(11_000);
    const second = await connectWithInbox(broker.port, options);
    clients.push(second.client);
    await publisher.publishAsync('expiry/marker', 'marker', { qos: 1 });
    await second.inbox.waitForText('marker');
    assert.deepEqual(
      second.inbox.messages.map((message) => [message.text, message.packet.properties?.messageExpiryInterval]),
      [
        ['lives', 89], // [MQTT-3.3.2-6]: the remaining interval
        ['marker', undefined],
      ],
    );
  });
});
