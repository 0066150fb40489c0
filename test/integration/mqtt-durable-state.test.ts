/**
 * What a persistent session keeps beyond its queues, with the real `mqtt` client: shared-subscription
 * memberships, Subscription Identifiers on DUP resends, QoS 2 exactly-once state both ways and 5.0
 * delayed wills, across a reconnect and a broker restart.
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { connect, type IClientOptions, type IPublishPacket, type MqttClient, type Packet } from 'mqtt';
import { ManualClock } from '../../src/core/clock.js';
import { closed, connectClient, connectWithInbox, Inbox, sessionGone, startMqttServer, until, WAIT_MS, type MqttTestServer } from './mqtt-harness.js';
import { LossyProxy } from './mqtt-proxy.js';

const persistent = (clientId: string, protocolVersion: 4 | 5): IClientOptions =>
  protocolVersion === 5 ? { clientId, protocolVersion, clean: false, properties: { sessionExpiryInterval: 3600 } } : { clientId, protocolVersion, clean: false };

/** A client connected through `connect` (not awaited) that records every packet it receives from the start. */
function recordingClient(port: number, options: IClientOptions): { client: MqttClient; packets: Packet[]; inbox: Inbox } {
  const client = connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: WAIT_MS, protocolVersion: 4, ...options });
  const packets: Packet[] = [];
  client.on('packetreceive', (packet) => packets.push(packet));
  client.on('error', () => undefined);
  return { client, packets, inbox: new Inbox(client) };
}

const publishes = (packets: readonly Packet[]): IPublishPacket[] => packets.filter((packet): packet is IPublishPacket => packet.cmd === 'publish');
const text = (packet: IPublishPacket): string => Buffer.from(packet.payload).toString('utf8');

describe('mqtt session state across reconnects and restarts', () => {
  const servers: MqttTestServer[] = [];
  const clients: MqttClient[] = [];
  const proxies: LossyProxy[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });
  const server = async (clock?: ManualClock): Promise<MqttTestServer> => {
    const started = await startMqttServer(clock ? { clock } : {});
    servers.push(started);
    return started;
  };
  const client = async (broker: MqttTestServer, options: IClientOptions = {}): Promise<MqttClient> => {
    const connected = await connectClient(broker.port, options);
    clients.push(connected);
    return connected;
  };
  const withInbox = async (broker: MqttTestServer, options: IClientOptions): ReturnType<typeof connectWithInbox> => {
    const connected = await connectWithInbox(broker.port, options);
    clients.push(connected.client);
    return connected;
  };
  /** Ends a client whose broker went away (restart), without waiting for a goodbye. */
  const drop = async (gone: MqttClient): Promise<void> => {
    await gone.endAsync(true);
  };

  for (const protocolVersion of [4, 5] as const) {
    it(`keeps a persistent session's shared subscription across a reconnect and a restart (level ${protocolVersion})`, async () => {
      const broker = await server();
      const clientId = `member-v${protocolVersion}`;
      const filter = `$share/workers/shared-v${protocolVersion}/#`;
      const topic = `shared-v${protocolVersion}/job`;
      const first = await withInbox(broker, persistent(clientId, protocolVersion));
      await first.client.subscribeAsync(filter, { qos: 1 });
      await first.client.endAsync();
      await sessionGone(broker, clientId);

      let publisher = await client(broker);
      await publisher.publishAsync(topic, 'while away', { qos: 1 });
      const second = await withInbox(broker, persistent(clientId, protocolVersion));
      assert.equal(second.connack.sessionPresent, true, 'the membership is session state');
      await second.inbox.waitForText('while away'); // without subscribing again
      await second.client.endAsync();
      await sessionGone(broker, clientId);

      await publisher.publishAsync(topic, 'before restart', { qos: 1 });
      await broker.restart();
      await drop(publisher);
      publisher = await client(broker);
      await publisher.publishAsync(topic, 'after restart', { qos: 1 });
      const third = await withInbox(broker, persistent(clientId, protocolVersion));
      assert.equal(third.connack.sessionPresent, true, 'the membership survived the restart');
      await third.inbox.waitForText('after restart');
      await publisher.publishAsync(topic, 'live', { qos: 1 });
      await third.inbox.waitForText('live');
      assert.deepEqual(third.inbox.texts, ['before restart', 'after restart', 'live']);

      // Unsubscribing ends the membership for good: the resumed session no longer has it.
      await third.client.unsubscribeAsync(filter);
      await third.client.endAsync();
      await sessionGone(broker, clientId);
      const fourth = await withInbox(broker, persistent(clientId, protocolVersion));
      assert.equal(fourth.connack.sessionPresent, true);
      await fourth.client.subscribeAsync(`shared-v${protocolVersion}/marker`, { qos: 1 });
      await publisher.publishAsync(topic, 'not a member any more', { qos: 1 });
      await publisher.publishAsync(`shared-v${protocolVersion}/marker`, 'marker', { qos: 1 });
      await fourth.inbox.waitForText('marker');
      assert.deepEqual(fourth.inbox.texts, ['marker']);
    });
  }

  it('forgets a shared membership when the client starts clean', async () => {
    const broker = await server();
    const first = await withInbox(broker, persistent('member-clean', 5));
    await first.client.subscribeAsync('$share/cleaners/clean/#', { qos: 1 });
    await first.client.endAsync();
    await sessionGone(broker, 'member-clean');
    const clean = await withInbox(broker, { clientId: 'member-clean', protocolVersion: 5, clean: true, properties: { sessionExpiryInterval: 3600 } });
    assert.equal(clean.connack.sessionPresent, false);
    await clean.client.subscribeAsync('clean/marker', { qos: 1 });
    const publisher = await client(broker);
    await publisher.publishAsync('clean/job', 'not for the new session', { qos: 1 });
    await publisher.publishAsync('clean/marker', 'marker', { qos: 1 });
    await clean.inbox.waitForText('marker');
    assert.deepEqual(clean.inbox.texts, ['marker']);
  });

  for (const between of ['reconnect', 'restart'] as const) {
    it(`sends the Subscription Identifier again on a DUP resend after a ${between} (5.0)`, async () => {
      const broker = await server();
      const options = persistent(`sid-${between}`, 5);
      // A client that never acknowledges: the message stays in flight.
      const holder = recordingClient(broker.port, { ...options, customHandleAcks: () => undefined });
      clients.push(holder.client);
      await new Promise((resolve) => holder.client.once('connect', resolve));
      await holder.client.subscribeAsync({ 'sid/#': { qos: 1 } }, { properties: { subscriptionIdentifier: 42 } });
      const publisher = await client(broker, { protocolVersion: 5 });
      await publisher.publishAsync('sid/x', 'tagged', { qos: 1 });
      await until(() => publishes(holder.packets).length > 0, 'the first delivery');
      const [firstDelivery] = publishes(holder.packets);
      assert.deepEqual([firstDelivery!.dup, firstDelivery!.properties?.subscriptionIdentifier], [false, 42]);

      holder.client.stream.destroy();
      await sessionGone(broker, options.clientId!);
      if (between === 'restart') {
        await broker.restart();
        await drop(publisher);
      }
      const resumed = await withInbox(broker, options);
      const [again] = await resumed.inbox.waitForText('tagged');
      assert.equal(again!.packet.dup, true);
      assert.equal(again!.packet.properties?.subscriptionIdentifier, 42, 'the resend carries the identifier it had');
    });
  }

  for (const protocolVersion of [4, 5] as const) {
    it(`publishes a QoS 2 message once when the client resends it after a restart [MQTT-4.3.3-10] (level ${protocolVersion})`, async () => {
      const broker = await server();
      const subscriberOptions = persistent(`q2-sink-v${protocolVersion}`, protocolVersion);
      const subscriber = await withInbox(broker, subscriberOptions);
      await subscriber.client.subscribeAsync('q2in/#', { qos: 1 });

      const proxy = await LossyProxy.start(broker.port);
      proxies.push(proxy);
      const publisher = await connectClient(proxy.port, persistent(`q2-source-v${protocolVersion}`, protocolVersion));
      clients.push(publisher);
      publisher.on('error', () => undefined);
      // The PUBREC is lost: the client will resend the PUBLISH with the same packet identifier.
      proxy.dropFromBroker = true;
      const completed = publisher.publishAsync('q2in/x', 'exactly once', { qos: 2 });
      completed.catch(() => undefined);
      await subscriber.inbox.waitForText('exactly once');
      await until(() => proxy.dropped > 0, 'the PUBREC to be sent (and lost)');

      const publisherClosed = closed(publisher);
      await broker.restart();
      await publisherClosed;
      await drop(subscriber.client);
      proxy.dropFromBroker = false;
      // The same stores: the client resends what it has in flight (reconnect() alone would start empty ones).
      publisher.reconnect({ incomingStore: publisher.incomingStore, outgoingStore: publisher.outgoingStore });
      await completed; // PUBREC, PUBREL, PUBCOMP with the resent identifier

      const resumed = await withInbox(broker, subscriberOptions);
      assert.equal(resumed.connack.sessionPresent, true);
      await publisher.publishAsync('q2in/x', 'marker', { qos: 2 });
      await resumed.inbox.waitForText('marker');
      assert.deepEqual(resumed.inbox.texts, ['marker'], 'the resent PUBLISH was not published again');
    });
  }

  it('resumes an outbound QoS 2 flow with PUBREL after a restart, never a second PUBLISH', async () => {
    const broker = await server();
    const options = persistent('q2-out-restart', 5);
    const first = recordingClient(broker.port, options);
    clients.push(first.client);
    // The message is handed over at PUBREL; holding it there means PUBCOMP is never sent.
    first.client.handleMessage = () => undefined;
    await new Promise((resolve) => first.client.once('connect', resolve));
    await first.client.subscribeAsync('q2out/#', { qos: 2 });
    const publisher = await client(broker, { protocolVersion: 5 });
    await publisher.publishAsync('q2out/x', 'exactly once', { qos: 2 });
    await first.inbox.waitForText('exactly once');
    const [sent] = publishes(first.packets);
    assert.equal(sent!.qos, 2);
    first.client.stream.destroy();
    await sessionGone(broker, 'q2-out-restart');

    await broker.restart();
    await drop(publisher);
    const resumed = recordingClient(broker.port, options);
    clients.push(resumed.client);
    await until(() => resumed.packets.some((packet) => packet.cmd === 'pubrel'), 'the PUBREL again');
    const pubrel = resumed.packets.find((packet) => packet.cmd === 'pubrel');
    assert.equal(pubrel!.messageId, sent!.messageId, 'the same packet identifier');
    const markerPublisher = await client(broker, { protocolVersion: 5 });
    await markerPublisher.publishAsync('q2out/y', 'marker', { qos: 2 });
    await resumed.inbox.waitForText('marker');
    assert.deepEqual(publishes(resumed.packets).map(text), ['marker']);
  });

  it('expires a 5.0 session whose client stays away its Session Expiry Interval after a restart', async () => {
    const clock = new ManualClock(Date.now());
    const broker = await server(clock);
    const options = (clientId: string): IClientOptions => ({ clientId, protocolVersion: 5, clean: false, keepalive: 0, properties: { sessionExpiryInterval: 10 } });
    for (const clientId of ['expiry-back-soon', 'expiry-back-late']) {
      const away = await client(broker, options(clientId));
      await away.subscribeAsync('expiring/#', { qos: 1 });
      await away.endAsync();
      await sessionGone(broker, clientId);
    }
    let publisher = await client(broker, { keepalive: 0 });
    await publisher.publishAsync('expiring/x', 'kept', { qos: 1 });
    await broker.restart();
    await drop(publisher);
    publisher = await client(broker, { keepalive: 0 });

    clock.advance(5_000);
    const soon = await withInbox(broker, options('expiry-back-soon'));
    assert.equal(soon.connack.sessionPresent, true);
    await soon.inbox.waitForText('kept');

    clock.advance(6_000); // 11 s: the other session's queue expired
    const late = await withInbox(broker, options('expiry-back-late'));
    assert.equal(late.connack.sessionPresent, false);
    await late.client.subscribeAsync('expiring/marker', { qos: 1 });
    await publisher.publishAsync('expiring/marker', 'marker', { qos: 1 });
    await late.inbox.waitForText('marker');
    assert.deepEqual(late.inbox.texts, ['marker']);
  });

  describe('5.0 delayed wills', () => {
    const willOptions = (clientId: string): IClientOptions => ({
      ...persistent(clientId, 5),
      keepalive: 0,
      will: { topic: `wills/${clientId}`, payload: Buffer.from(`${clientId} is gone`), qos: 1, retain: false, properties: { willDelayInterval: 60 } },
    });
    /** A persistent watcher of `wills/#`, so wills published while nobody is connected wait for it. */
    const watch = async (broker: MqttTestServer): Promise<Awaited<ReturnType<typeof connectWithInbox>>> => {
      const watcher = await withInbox(broker, { ...persistent('will-watcher', 5), keepalive: 0 });
      await watcher.client.subscribeAsync('wills/#', { qos: 1 });
      return watcher;
    };
    /** The wills that arrived before a marker published now. */
    const willsSoFar = async (broker: MqttTestServer, inbox: Inbox): Promise<string[]> => {
      const publisher = await client(broker, { keepalive: 0 });
      await publisher.publishAsync('wills/marker', 'marker', { qos: 1 });
      await inbox.waitForText('marker');
      const texts = inbox.texts.filter((entry) => entry !== 'marker');
      inbox.messages.length = 0;
      return texts;
    };
    /** Connects the will's owner and loses its connection: the will starts waiting. */
    const vanish = async (broker: MqttTestServer, clientId: string): Promise<void> => {
      const owner = await client(broker, willOptions(clientId));
      owner.stream.destroy();
      await sessionGone(broker, clientId);
    };

    it('publishes a delayed will after a restart once the delay, counted from the disconnect, ends', async () => {
      const clock = new ManualClock(Date.now());
      const broker = await server(clock);
      await vanish(broker, 'will-after-restart');
      clock.advance(40_000);
      await broker.restart();
      const watcher = await watch(broker);
      assert.deepEqual(await willsSoFar(broker, watcher.inbox), []);
      clock.advance(21_000); // 61 s after the disconnect
      await watcher.inbox.waitForText('will-after-restart is gone');
    });

    it('drops a stored delayed will when the session is resumed after a restart', async () => {
      const clock = new ManualClock(Date.now());
      const broker = await server(clock);
      await vanish(broker, 'will-resumed');
      await broker.restart();
      const watcher = await watch(broker);
      const back = await withInbox(broker, willOptions('will-resumed'));
      assert.equal(back.connack.sessionPresent, true);
      await back.client.endAsync(); // a normal DISCONNECT: no will either
      await sessionGone(broker, 'will-resumed');
      clock.advance(120_000);
      assert.deepEqual(await willsSoFar(broker, watcher.inbox), []);
      // Nor after another restart: the record is gone.
      await broker.restart();
      await drop(watcher.client);
      const again = await withInbox(broker, { ...persistent('will-watcher', 5), keepalive: 0 });
      assert.deepEqual(await willsSoFar(broker, again.inbox), []);
    });

    it('publishes at startup a delayed will whose delay ended while the broker was down', async () => {
      const clock = new ManualClock(Date.now());
      const broker = await server(clock);
      const watcher = await watch(broker);
      await watcher.client.endAsync();
      await sessionGone(broker, 'will-watcher');
      await vanish(broker, 'will-overdue');
      await broker.restart(() => clock.advance(61_000));
      const back = await withInbox(broker, { ...persistent('will-watcher', 5), keepalive: 0 });
      await back.inbox.waitForText('will-overdue is gone');
    });
  });
});
