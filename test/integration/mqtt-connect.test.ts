/** CONNECT / CONNACK, client identifiers, authentication, takeover, keep-alive, PINGREQ, over real sockets. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IConnackPacket, IDisconnectPacket, MqttClient } from 'mqtt';
import {
  closed,
  connectClient,
  connectRefused,
  decodeAll,
  encode,
  Inbox,
  rawConnect,
  RawConnection,
  startMqttServer,
  until,
  type MqttTestServer,
} from './mqtt-harness.js';

describe('mqtt connect', () => {
  let broker: MqttTestServer;
  const clients: MqttClient[] = [];
  const raws: RawConnection[] = [];
  before(async () => {
    broker = await startMqttServer();
  });
  after(async () => {
    for (const raw of raws) raw.destroy();
    await Promise.all(clients.map((client) => client.endAsync(true)));
    await broker.close();
  });
  const client = async (options: Parameters<typeof connectClient>[1] = {}): Promise<MqttClient> => {
    const connected = await connectClient(broker.port, options);
    clients.push(connected);
    return connected;
  };
  const raw = async (): Promise<RawConnection> => {
    const connection = await RawConnection.open(broker.port);
    raws.push(connection);
    return connection;
  };

  it('answers an unsupported 3.x protocol level with CONNACK 0x01 and closes [MQTT-3.1.2-2]', async () => {
    const connection = await raw();
    connection.send(rawConnect({ level: 2 }));
    assert.deepEqual([...(await connection.closedByServer())], [0x20, 0x02, 0x00, 0x01]);
  });

  it('answers a protocol level above 5 with a 5.0 CONNACK 0x84 and closes', async () => {
    const connection = await raw();
    connection.send(rawConnect({ level: 6 }));
    assert.deepEqual([...(await connection.closedByServer())], [0x20, 0x03, 0x00, 0x84, 0x00]);
  });

  it('closes a connection whose first packet is not CONNECT, without answering [MQTT-3.1.0-1]', async () => {
    const connection = await raw();
    connection.send([0xc0, 0x00]); // PINGREQ
    assert.equal((await connection.closedByServer()).length, 0);
  });

  it('closes a connection that sends a second CONNECT [MQTT-3.1.0-2]', async () => {
    const connection = await raw();
    connection.send(rawConnect({ clientId: 'twice' }));
    await connection.waitForBytes(4);
    connection.send(rawConnect({ clientId: 'twice' }));
    const bytes = await connection.closedByServer();
    assert.deepEqual([...bytes], [0x20, 0x02, 0x00, 0x00]);
  });

  it('answers PINGREQ with PINGRESP [MQTT-3.12.4-1]', async () => {
    const connection = await raw();
    connection.send(rawConnect({ clientId: 'pinger' }));
    await connection.waitForBytes(4);
    connection.send([0xc0, 0x00]);
    assert.deepEqual([...(await connection.waitForBytes(6)).subarray(4)], [0xd0, 0x00]);
  });

  it('refuses an empty client identifier with a persistent session in 3.1.1 (0x02) [MQTT-3.1.3-8]', async () => {
    const connection = await raw();
    connection.send(rawConnect({ clientId: '', flags: 0x00 }));
    assert.deepEqual([...(await connection.closedByServer())], [0x20, 0x02, 0x00, 0x02]);
  });

  it('assigns a client identifier to an empty one: 3.1.1 with a clean session, 5.0 returning it in CONNACK', async () => {
    const v3 = await raw();
    v3.send(rawConnect({ clientId: '', flags: 0x02 }));
    assert.deepEqual([...(await v3.waitForBytes(4))], [0x20, 0x02, 0x00, 0x00]);

    const v5 = await raw();
    v5.send(encode({ cmd: 'connect', protocolVersion: 5, clientId: '', clean: true, keepalive: 60 }, 5));
    await v5.waitForBytes(4);
    const [connack] = decodeAll(v5.bytes, 5) as IConnackPacket[];
    assert.equal(connack!.reasonCode, 0);
    const assigned = connack!.properties?.assignedClientIdentifier;
    assert.ok(assigned && assigned.length > 0, 'an Assigned Client Identifier [MQTT-3.2.2-16]');
    assert.ok(broker.server.broker.listConnections().some((connection) => connection.info.clientId === assigned));
  });

  it('refuses a client identifier that cannot name its queues (0x85 in 5.0, 0x02 in 3.1.1)', async () => {
    const tooLong = 'x'.repeat(300);
    assert.equal((await connectRefused(broker.port, { clientId: tooLong, protocolVersion: 5 })).code, 0x85);
    assert.equal((await connectRefused(broker.port, { clientId: tooLong, protocolVersion: 4 })).code, 0x02);
  });

  it('authenticates user name and password: accepted, or refused with 0x05 (3.1.1) / 0x86 (5.0)', async () => {
    const accepted = await client({ clientId: 'with-credentials', username: 'guest', password: 'guest' });
    assert.ok(accepted.connected);
    assert.equal((await connectRefused(broker.port, { clientId: 'bad-v3', username: 'guest', password: 'wrong' })).code, 0x05);
    assert.equal(
      (await connectRefused(broker.port, { clientId: 'bad-v5', username: 'nobody', password: 'x', protocolVersion: 5 })).code,
      0x86,
    );
    assert.ok(!broker.server.broker.listConnections().some((connection) => connection.info.clientId === 'bad-v3'));
  });

  it('takes over a session: the older connection is closed (3.1.1) [MQTT-3.1.4-2]', async () => {
    const first = await client({ clientId: 'takeover-v3', clean: true });
    const firstClosed = closed(first);
    const second = await client({ clientId: 'takeover-v3', clean: true });
    await firstClosed;
    assert.ok(second.connected);
    const holders = broker.server.broker.listConnections().filter((connection) => connection.info.clientId === 'takeover-v3');
    assert.equal(holders.length, 1);
  });

  it('takes over a session in 5.0 with DISCONNECT 0x8E to the older connection', async () => {
    const first = await client({ clientId: 'takeover-v5', protocolVersion: 5 });
    const disconnect = new Promise<IDisconnectPacket>((resolve) => first.once('disconnect', resolve));
    const second = await client({ clientId: 'takeover-v5', protocolVersion: 5 });
    assert.equal((await disconnect).reasonCode, 0x8e);
    // The new session works.
    const inbox = new Inbox(second);
    await second.subscribeAsync('takeover/after', { qos: 1 });
    await second.publishAsync('takeover/after', 'still here', { qos: 1 });
    await inbox.waitFor(1);
  });

  it('closes a 3.1.1 connection silent for 1.5 x its keep-alive [MQTT-3.1.2-24]', async () => {
    const connection = await raw();
    const started = Date.now();
    connection.send(rawConnect({ clientId: 'sleepy-v3', keepAliveSeconds: 1 }));
    const bytes = await connection.closedByServer();
    assert.deepEqual([...bytes], [0x20, 0x02, 0x00, 0x00]);
    assert.ok(Date.now() - started >= 1400, `closed after ${Date.now() - started} ms, before 1.5 x keep-alive`);
  });

  it('keeps a connection that pings within its keep-alive, and sends 5.0 DISCONNECT 0x8D when it stops', async () => {
    const connection = await raw();
    connection.send(encode({ cmd: 'connect', protocolVersion: 5, clientId: 'sleepy-v5', clean: true, keepalive: 1 }, 5));
    await connection.waitForBytes(3);
    // Pings every ~0.5 s keep it alive past the 1.5 s limit.
    const started = Date.now();
    for (let pings = 0; Date.now() - started < 2000; pings++) {
      connection.send([0xc0, 0x00]);
      const expected = connection.bytes.length + 2;
      await connection.waitForBytes(expected);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const packets = decodeAll(await connection.closedByServer(), 5);
    const last = packets[packets.length - 1] as IDisconnectPacket;
    assert.equal(last.cmd, 'disconnect');
    assert.equal(last.reasonCode, 0x8d);
    assert.ok(packets.filter((packet) => packet.cmd === 'pingresp').length >= 3);
  });

  it('keeps serving other clients while one session is refused or taken over', async () => {
    const subscriber = await client({ clientId: 'bystander' });
    const inbox = new Inbox(subscriber);
    await subscriber.subscribeAsync('bystander/#', { qos: 1 });
    await connectRefused(broker.port, { clientId: 'bad-again', username: 'guest', password: 'nope' });
    await subscriber.publishAsync('bystander/x', 'ok', { qos: 1 });
    await inbox.waitFor(1);
    await until(() => subscriber.connected, 'the bystander to stay connected');
  });
});
