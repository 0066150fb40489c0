/**
 * The adapter over a broker with a refusing Authorizer, an authenticator without anonymous logins and a
 * queue that refuses publishes: how core refusals reach MQTT clients as return and reason codes.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { MqttClient, Packet } from 'mqtt';
import { Broker } from '../../src/core/broker.js';
import type { Authorizer } from '../../src/core/ports.js';
import { createMqttAdapterFactory, type MqttAdapter } from '../../src/protocols/mqtt/index.js';
import { DefaultAuthenticator } from '../../src/security/index.js';
import { MemoryLogStore, MemoryMetadataStore } from '../../src/storage/index.js';
import { connectClient, connectRefused, Inbox } from './mqtt-harness.js';

/** The codes of a SUBACK; the client rejects the promise when any filter failed, with the SUBACK attached. */
async function subackCodes(client: MqttClient, filters: Record<string, { qos: 0 | 1 | 2 }>): Promise<number[]> {
  try {
    return (await client.subscribeAsync(filters)).map((grant) => grant.qos);
  } catch (error) {
    return (error as { packet: { granted: number[] } }).packet.granted;
  }
}

/** Reading (binding) and writing (publishing) under `secret.` is refused. */
const authorizer: Authorizer = {
  authorize: (_principal, permission, resource) =>
    !((permission === 'read' || permission === 'write') && resource.kind === 'exchange' && (resource.routingKey ?? '').startsWith('secret')),
};

describe('mqtt and core refusals', () => {
  let broker: Broker;
  let adapter: MqttAdapter;
  let server: Server;
  let port: number;
  const clients: MqttClient[] = [];
  before(async () => {
    broker = await Broker.open({
      logStore: new MemoryLogStore(),
      transientLogStore: new MemoryLogStore(),
      metadataStore: new MemoryMetadataStore(),
      authorizer,
      fsync: { mode: 'never' },
    });
    adapter = createMqttAdapterFactory().create({
      broker,
      logger: broker.logger,
      authenticator: await DefaultAuthenticator.create({ anonymousUser: null }),
    });
    server = createServer((socket) => adapter.accept(socket));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as { port: number }).port;
  });
  after(async () => {
    await Promise.all(clients.map((client) => client.endAsync(true)));
    await adapter.close();
    server.close();
    await broker.close();
  });
  const client = async (options: Parameters<typeof connectClient>[1] = {}): Promise<MqttClient> => {
    const connected = await connectClient(port, { username: 'guest', password: 'guest', ...options });
    clients.push(connected);
    return connected;
  };

  it('refuses an anonymous login: 0x05 in 3.1.1, 0x87 in 5.0', async () => {
    assert.equal((await connectRefused(port, { clientId: 'anon-v3' })).code, 0x05);
    assert.equal((await connectRefused(port, { clientId: 'anon-v5', protocolVersion: 5 })).code, 0x87);
  });

  it('fails only the refused filters of a SUBSCRIBE: 0x80 in 3.1.1, 0x87 in 5.0', async () => {
    const v3 = await client({ clientId: 'sub-v3' });
    assert.deepEqual(await subackCodes(v3, { 'public/a': { qos: 1 }, 'secret/#': { qos: 1 }, 'public/b': { qos: 0 } }), [1, 0x80, 0]);
    const v5 = await client({ clientId: 'sub-v5', protocolVersion: 5 });
    assert.deepEqual(await subackCodes(v5, { 'secret/x': { qos: 2 }, 'public/c': { qos: 2 } }), [0x87, 2]);
    // The granted ones work.
    const inbox = new Inbox(v5);
    await v3.publishAsync('public/c', 'hello', { qos: 1 });
    await inbox.waitFor(1);
  });

  it('answers a refused publish with 5.0 PUBACK 0x87, and acknowledges it in 3.1.1 (nothing else it can say)', async () => {
    const v5 = await client({ clientId: 'pub-v5', protocolVersion: 5 });
    await assert.rejects(v5.publishAsync('secret/plans', 'x', { qos: 1 }), (error: Error & { code?: number }) => error.code === 0x87);
    const v3 = await client({ clientId: 'pub-v3' });
    await v3.publishAsync('secret/plans', 'x', { qos: 1 });
    assert.ok(v3.connected && v5.connected);
  });

  it('explains a refused 5.0 publish in a reason string only when the client asked for problem information', async () => {
    const reasonStrings = async (requestProblemInformation: boolean): Promise<(string | undefined)[]> => {
      const publisher = await client({ protocolVersion: 5, properties: { requestProblemInformation } });
      const acks: Packet[] = [];
      publisher.on('packetreceive', (packet) => packet.cmd === 'puback' && acks.push(packet));
      await assert.rejects(publisher.publishAsync('secret/plans', 'x', { qos: 1 }));
      return acks.map((ack) => (ack.cmd === 'puback' ? ack.properties?.reasonString : 'not a puback'));
    };
    assert.deepEqual(await reasonStrings(true), ['not authorized to publish to this topic']);
    assert.deepEqual(await reasonStrings(false), [undefined]);
  });

  it('says 0x10 when no subscription matched and 0x97 when a queue refused the message (5.0)', async () => {
    const publisher = await client({ clientId: 'quota', protocolVersion: 5 });
    const acks: Packet[] = [];
    publisher.on('packetreceive', (packet) => packet.cmd === 'puback' && acks.push(packet));
    await publisher.publishAsync('nobody/listens', 'x', { qos: 1 });
    assert.deepEqual(acks.map((ack) => ack.cmd === 'puback' && ack.reasonCode), [0x10]);

    const admin = broker.connect({ username: 'guest', tags: [] }, { protocol: 'test', remoteAddress: '127.0.0.1' });
    await admin.declareQueue({ name: 'full', arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' } });
    await admin.bind({ source: 'amq.topic', destination: 'full', destinationKind: 'queue', routingKey: 'quota.#' });
    await assert.rejects(publisher.publishAsync('quota/x', 'x', { qos: 1 }), (error: Error & { code?: number }) => error.code === 0x97);
    await admin.close();
  });
});
