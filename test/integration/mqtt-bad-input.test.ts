/**
 * Bad input closes the offending connection (5.0: DISCONNECT with the reason first); the broker and a
 * bystander client carry on, checked after every case.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IConnackPacket, IDisconnectPacket, MqttClient } from 'mqtt';
import { connectClient, decodeAll, encode, Inbox, rawConnect, RawConnection, startMqttServer, type MqttTestServer } from './mqtt-harness.js';

const MAX_PACKET = 1024;

/** A QoS 0 PUBLISH with raw topic bytes (and the empty property list of 5.0). */
function rawPublish(topic: Buffer, payload: Buffer, protocolVersion: 4 | 5, firstByte = 0x30): Buffer {
  const properties = protocolVersion === 5 ? Buffer.from([0]) : Buffer.alloc(0);
  const body = Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 0xff]), topic, properties, payload]);
  return Buffer.concat([Buffer.from([firstByte]), remainingLength(body.length), body]);
}

function remainingLength(length: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    bytes.push(byte);
  } while (length > 0);
  return Buffer.from(bytes);
}

interface BadCase {
  readonly name: string;
  readonly packet: (protocolVersion: 4 | 5) => Buffer;
  /** 5.0 DISCONNECT reason code expected before the close. */
  readonly reasonCode: number;
}

const cases: BadCase[] = [
  {
    name: 'a wildcard in a PUBLISH topic [MQTT-3.3.2-2]',
    packet: (version) => rawPublish(Buffer.from('a/+/c'), Buffer.from('x'), version),
    reasonCode: 0x90,
  },
  {
    name: 'a PUBLISH topic that is not valid UTF-8 [MQTT-1.5.3-1]',
    packet: (version) => rawPublish(Buffer.from([0x61, 0x2f, 0xff, 0xfe]), Buffer.from('x'), version),
    reasonCode: 0x81,
  },
  {
    name: 'a PUBLISH topic containing U+0000 [MQTT-1.5.3-2]',
    packet: (version) => rawPublish(Buffer.from([0x61, 0x00, 0x62]), Buffer.from('x'), version),
    reasonCode: 0x81,
  },
  {
    name: `a packet over the ${MAX_PACKET}-byte maximum`,
    packet: (version) => rawPublish(Buffer.from('big'), Buffer.alloc(MAX_PACKET * 2, 0x61), version),
    reasonCode: 0x95,
  },
  {
    name: 'an empty PUBLISH topic [MQTT-4.7.3-1]',
    packet: (version) => rawPublish(Buffer.alloc(0), Buffer.from('x'), version),
    reasonCode: 0x90,
  },
  {
    name: 'a remaining length longer than four bytes',
    packet: () => Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]),
    reasonCode: 0x81,
  },
  {
    name: 'DUP set on a QoS 0 PUBLISH [MQTT-3.3.1-2]',
    packet: (version) => rawPublish(Buffer.from('dup'), Buffer.from('x'), version, 0x38),
    reasonCode: 0x81,
  },
  {
    name: 'a SUBSCRIBE with wrong reserved flags [MQTT-3.8.1-1]',
    packet: (version) => {
      const packet = encode({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'ok', qos: 0 }] }, version);
      packet[0] = 0x80;
      return packet;
    },
    reasonCode: 0x81,
  },
  {
    name: 'a SUBSCRIBE with an invalid topic filter [MQTT-4.7.1-2]',
    packet: (version) => encode({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/#/b', qos: 1 }] }, version),
    reasonCode: 0x8f,
  },
  {
    name: 'a SUBSCRIBE with a filter mixing + and text in a level [MQTT-4.7.1-3]',
    packet: (version) => encode({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/b+', qos: 0 }] }, version),
    reasonCode: 0x8f,
  },
];

describe('mqtt bad input', () => {
  let broker: MqttTestServer;
  let bystander: MqttClient;
  let bystanderInbox: Inbox;
  let round = 0;
  const raws: RawConnection[] = [];
  before(async () => {
    broker = await startMqttServer({ limits: { maxPacketBytes: MAX_PACKET } });
    bystander = await connectClient(broker.port, { clientId: 'bystander', protocolVersion: 5 });
    bystanderInbox = new Inbox(bystander);
    await bystander.subscribeAsync('bystander/#', { qos: 1 });
  });
  after(async () => {
    for (const raw of raws) raw.destroy();
    await bystander.endAsync(true);
    await broker.close();
  });

  /** The bystander still publishes and receives, and a new client still connects. */
  const othersCarryOn = async (): Promise<void> => {
    const text = `round ${++round}`;
    await bystander.publishAsync('bystander/ping', text, { qos: 1 });
    await bystanderInbox.waitForText(text);
    assert.ok(bystander.connected);
    const fresh = await connectClient(broker.port);
    await fresh.endAsync();
  };

  for (const bad of cases) {
    it(`closes a 3.1.1 connection on ${bad.name}; others carry on`, async () => {
      const connection = await RawConnection.open(broker.port);
      raws.push(connection);
      connection.send(rawConnect({ clientId: `bad-v3-${round}` }));
      await connection.waitForBytes(4);
      connection.send(bad.packet(4));
      const bytes = await connection.closedByServer();
      assert.deepEqual([...bytes], [0x20, 0x02, 0x00, 0x00], 'nothing but the CONNACK');
      await othersCarryOn();
    });

    it(`sends DISCONNECT 0x${bad.reasonCode.toString(16)} to a 5.0 client on ${bad.name}; others carry on`, async () => {
      const connection = await RawConnection.open(broker.port);
      raws.push(connection);
      connection.send(encode({ cmd: 'connect', protocolVersion: 5, clientId: `bad-v5-${round}`, clean: true, keepalive: 60 }, 5));
      await connection.waitForBytes(3);
      connection.send(bad.packet(5));
      const packets = decodeAll(await connection.closedByServer(), 5);
      assert.deepEqual(
        packets.map((packet) => packet.cmd),
        ['connack', 'disconnect'],
      );
      assert.equal((packets[1] as IDisconnectPacket).reasonCode, bad.reasonCode);
      assert.equal((packets[0] as IConnackPacket).properties?.maximumPacketSize, MAX_PACKET);
      await othersCarryOn();
    });
  }

  const v5Only: { name: string; packet: Buffer; reasonCode: number }[] = [
    {
      name: 'a topic alias above the Topic Alias Maximum (10)',
      packet: encode({ cmd: 'publish', topic: 'alias', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: 11 } }, 5),
      reasonCode: 0x94,
    },
    {
      name: 'topic alias 0',
      packet: encode({ cmd: 'publish', topic: 'alias', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: 0 } }, 5),
      reasonCode: 0x94,
    },
    {
      name: 'a topic alias used before it was defined',
      packet: encode({ cmd: 'publish', topic: '', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: 3 } }, 5),
      reasonCode: 0x82,
    },
  ];
  for (const bad of v5Only) {
    it(`sends DISCONNECT 0x${bad.reasonCode.toString(16)} to a 5.0 client on ${bad.name}; others carry on`, async () => {
      const connection = await RawConnection.open(broker.port);
      raws.push(connection);
      connection.send(encode({ cmd: 'connect', protocolVersion: 5, clientId: `v5-only-${round}`, clean: true, keepalive: 60 }, 5));
      await connection.waitForBytes(3);
      connection.send(bad.packet);
      const packets = decodeAll(await connection.closedByServer(), 5);
      assert.deepEqual(packets.map((packet) => packet.cmd), ['connack', 'disconnect']);
      assert.equal((packets[1] as IDisconnectPacket).reasonCode, bad.reasonCode);
      assert.ok((packets[1] as IDisconnectPacket).properties?.reasonString, 'the DISCONNECT explains itself in a reason string');
      await othersCarryOn();
    });
  }

  it('refuses 5.0 enhanced authentication with CONNACK 0x8C', async () => {
    const connection = await RawConnection.open(broker.port);
    raws.push(connection);
    connection.send(encode({ cmd: 'connect', protocolVersion: 5, clientId: 'enhanced', clean: true, keepalive: 60, properties: { authenticationMethod: 'SCRAM-SHA-256' } }, 5));
    const packets = decodeAll(await connection.closedByServer(), 5);
    assert.deepEqual(packets.map((packet) => [packet.cmd, (packet as IConnackPacket).reasonCode]), [['connack', 0x8c]]);
    await othersCarryOn();
  });

  it('closes a connection that sends no CONNECT, not even a whole one, within the connect timeout', async () => {
    const quick = await startMqttServer({ limits: { connectTimeoutMs: 200 } });
    try {
      const connection = await RawConnection.open(quick.port);
      raws.push(connection);
      connection.send([0x10, 0x20, 0x00]); // the start of a CONNECT, never finished
      assert.equal((await connection.closedByServer()).length, 0);
    } finally {
      await quick.close();
    }
  });
});
