/** Will messages: sent on abnormal ends (lost connection, keep-alive timeout, takeover), not after DISCONNECT. */
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import type { IClientOptions, MqttClient } from 'mqtt';
import { ManualClock } from '../../src/core/clock.js';
import {
  closed,
  connectClient,
  encode,
  Inbox,
  RawConnection,
  sessionGone,
  startMqttServer,
  type MqttTestServer,
} from './mqtt-harness.js';

describe('mqtt will messages', () => {
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
  /** A watcher of `wills/#` and a way to prove a will did not come: a marker published after the session ended. */
  const watcher = async (broker: MqttTestServer): Promise<{ inbox: Inbox; messagesBeforeMarker: () => Promise<string[]> }> => {
    const watching = await client(broker);
    const inbox = new Inbox(watching);
    await watching.subscribeAsync('wills/#', { qos: 1 });
    return {
      inbox,
      messagesBeforeMarker: async () => {
        await watching.publishAsync('wills/marker', 'marker', { qos: 1 });
        const messages = await inbox.waitForText('marker');
        return messages.map((message) => message.text).filter((text) => text !== 'marker');
      },
    };
  };
  const willOf = (clientId: string, extra: Partial<NonNullable<IClientOptions['will']>> = {}): IClientOptions['will'] => ({
    topic: `wills/${clientId}`,
    payload: Buffer.from(`${clientId} is gone`),
    qos: 1,
    retain: false,
    ...extra,
  });

  for (const protocolVersion of [4, 5] as const) {
    it(`publishes the will when the connection is lost (level ${protocolVersion}) [MQTT-3.1.2-8]`, async () => {
      const broker = await server();
      const { inbox } = await watcher(broker);
      const clientId = `lost-v${protocolVersion}`;
      const dying = await client(broker, { clientId, protocolVersion, will: willOf(clientId) });
      dying.stream.destroy();
      const [will] = await inbox.waitFor(1);
      assert.deepEqual([will!.topic, will!.text, will!.packet.qos], [`wills/${clientId}`, `${clientId} is gone`, 1]);
    });

    it(`does not publish the will after a DISCONNECT (level ${protocolVersion}) [MQTT-3.1.2-10]`, async () => {
      const broker = await server();
      const { messagesBeforeMarker } = await watcher(broker);
      const clientId = `polite-v${protocolVersion}`;
      const polite = await connectClient(broker.port, { clientId, protocolVersion, will: willOf(clientId) });
      await polite.endAsync();
      await sessionGone(broker, clientId);
      assert.deepEqual(await messagesBeforeMarker(), []);
    });
  }

  it('publishes the will after DISCONNECT with reason 0x04 (5.0)', async () => {
    const broker = await server();
    const { inbox } = await watcher(broker);
    const leaving = await connectClient(broker.port, { clientId: 'asks-for-will', protocolVersion: 5, will: willOf('asks-for-will') });
    await leaving.endAsync(false, { reasonCode: 0x04 });
    await inbox.waitForText('asks-for-will is gone');
  });

  it('publishes the will on a keep-alive timeout', async () => {
    const broker = await server();
    const { inbox } = await watcher(broker);
    const silent = await RawConnection.open(broker.port);
    raws.push(silent);
    silent.send(
      encode({
        cmd: 'connect',
        clientId: 'silent',
        keepalive: 1,
        clean: true,
        will: { topic: 'wills/silent', payload: Buffer.from('timed out'), qos: 0, retain: false },
      }),
    );
    await silent.closedByServer();
    await inbox.waitForText('timed out');
  });

  it('publishes the will when the server closes the connection for a protocol error', async () => {
    const broker = await server();
    const { inbox } = await watcher(broker);
    const offender = await RawConnection.open(broker.port);
    raws.push(offender);
    offender.send(encode({ cmd: 'connect', clientId: 'offender', keepalive: 60, clean: true, will: { topic: 'wills/offender', payload: Buffer.from('broke the rules'), qos: 1, retain: false } }));
    await offender.waitForBytes(4);
    offender.send(encode({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/#/b', qos: 0 }] }));
    await offender.closedByServer();
    await inbox.waitForText('broke the rules');
  });

  it('publishes the will of a 3.1.1 session that is taken over', async () => {
    const broker = await server();
    const { inbox } = await watcher(broker);
    const first = await client(broker, { clientId: 'replaced', will: willOf('replaced') });
    const firstClosed = closed(first);
    await client(broker, { clientId: 'replaced' });
    await firstClosed;
    await inbox.waitForText('replaced is gone');
  });

  it('stores a retained will as the retained message of its topic', async () => {
    const broker = await server();
    const dying = await client(broker, { clientId: 'retained-will', will: willOf('retained-will', { retain: true }) });
    dying.stream.destroy();
    await sessionGone(broker, 'retained-will');
    const stored = await broker.server.broker.retained.get('wills.retained-will');
    assert.equal(Buffer.from(stored!.message.body).toString(), 'retained-will is gone');
  });

  it('waits the 5.0 Will Delay Interval, and drops the will when the client comes back first', async () => {
    const clock = new ManualClock(Date.now());
    const broker = await server(clock);
    const { inbox, messagesBeforeMarker } = await watcher(broker);
    const options: IClientOptions = {
      clientId: 'delayed',
      protocolVersion: 5,
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
      will: willOf('delayed', { properties: { willDelayInterval: 60 } }),
    };
    const first = await connectClient(broker.port, options);
    first.stream.destroy();
    await sessionGone(broker, 'delayed');
    clock.advance(30_000);
    assert.deepEqual(await messagesBeforeMarker(), []);

    const back = await connectClient(broker.port, options); // within the delay: the will is dropped
    clock.advance(60_000);
    back.stream.destroy();
    await sessionGone(broker, 'delayed');
    inbox.messages.length = 0;
    assert.deepEqual(await messagesBeforeMarker(), []);
    clock.advance(61_000);
    await inbox.waitForText('delayed is gone');
  });
});
