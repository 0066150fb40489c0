import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generate, type Packet } from 'mqtt-packet';
import { MqttDecoder, type DecodeError } from './decoder.js';
import { PacketFramer } from './framer.js';
import { stringFieldsWellFormed } from './utf8-fields.js';

function decoderFor(maxPacketBytes = 1 << 20): { decoder: MqttDecoder; packets: Packet[]; errors: DecodeError[] } {
  const packets: Packet[] = [];
  const errors: DecodeError[] = [];
  const decoder = new MqttDecoder(maxPacketBytes, {
    packet: (packet) => {
      packets.push(packet);
      return true;
    },
    error: (error) => errors.push(error),
  });
  return { decoder, packets, errors };
}

const connect5 = generate({ cmd: 'connect', protocolVersion: 5, clientId: 'c', clean: true, keepalive: 10 }, { protocolVersion: 5 });
const publish5 = generate(
  {
    cmd: 'publish',
    topic: 't/ü',
    payload: Buffer.from('hello'),
    qos: 1,
    messageId: 3,
    retain: false,
    dup: false,
    properties: { userProperties: { k: 'v' }, contentType: 'text/plain' },
  },
  { protocolVersion: 5 },
);

describe('PacketFramer', () => {
  it('reassembles packets split anywhere, including inside the fixed header', () => {
    const stream = Buffer.concat([connect5, publish5, publish5]);
    for (let cut = 1; cut < stream.length; cut++) {
      const framer = new PacketFramer(1 << 20);
      const packets: Buffer[] = [];
      const collect = (packet: Buffer): boolean => packets.push(Buffer.from(packet)) > 0;
      assert.equal(framer.push(stream.subarray(0, cut), collect), undefined);
      assert.equal(framer.push(stream.subarray(cut), collect), undefined);
      assert.deepEqual(packets, [connect5, publish5, publish5], `cut at ${cut}`);
      assert.equal(framer.bufferedBytes, 0);
    }
  });

  it('refuses a packet over the maximum as soon as its length is known', () => {
    const framer = new PacketFramer(100);
    // Only the fixed header of a 1 MiB PUBLISH has arrived.
    assert.deepEqual(framer.push(Buffer.from([0x30, 0x80, 0x80, 0x40]), () => true), { kind: 'too-large', size: 1048580 });
  });

  it('refuses a remaining length with a fifth byte', () => {
    const framer = new PacketFramer(1 << 30);
    assert.deepEqual(framer.push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]), () => true), { kind: 'malformed-length' });
  });
});

describe('stringFieldsWellFormed', () => {
  it('accepts well-formed strings, including U+FFFD itself', () => {
    assert.ok(stringFieldsWellFormed(publish5, 5));
    assert.ok(stringFieldsWellFormed(connect5, 5));
    const replacement = generate({ cmd: 'publish', topic: 'a/\uFFFD', payload: Buffer.alloc(0), qos: 0, retain: false, dup: false }, { protocolVersion: 4 });
    assert.ok(stringFieldsWellFormed(replacement, 4));
  });

  it('refuses ill-formed UTF-8 and U+0000 in topics, filters and properties', () => {
    const badTopic = Buffer.from(publish5);
    badTopic[2 + 2 + 2] = 0xff; // fixed header, topic length, `t/`, then the first byte of `ü`: 0xff is never UTF-8
    assert.ok(!stringFieldsWellFormed(badTopic, 5));
    const withNull = generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a\u0000b', qos: 0 }] }, { protocolVersion: 4 });
    assert.ok(!stringFieldsWellFormed(withNull, 4));
    const badProperty = Buffer.from(publish5);
    const at = badProperty.indexOf(Buffer.from('text/plain'));
    badProperty[at] = 0xed; // ED A0 80 would be a surrogate; ED + 'ex' is ill-formed either way
    assert.ok(!stringFieldsWellFormed(badProperty, 5));
  });
});

describe('MqttDecoder', () => {
  it('decodes a 5.0 session byte by byte', () => {
    const { decoder, packets, errors } = decoderFor();
    for (const byte of Buffer.concat([connect5, publish5])) decoder.feed(Buffer.from([byte]));
    assert.deepEqual(errors, []);
    assert.deepEqual(packets.map((packet) => packet.cmd), ['connect', 'publish']);
    assert.equal(decoder.version, 5);
    const publish = packets[1] as Extract<Packet, { cmd: 'publish' }>;
    assert.equal(publish.topic, 't/ü');
    assert.deepEqual({ ...publish.properties?.userProperties }, { k: 'v' });
  });

  it('reports an unsupported protocol level instead of a parse error', () => {
    const { decoder, errors } = decoderFor();
    const connect = Buffer.from(connect5);
    connect[8] = 6; // the level byte after the fixed header (2) and "MQTT" (6)
    decoder.feed(connect);
    assert.deepEqual(errors, [{ kind: 'unsupported-level', level: 6 }]);
  });

  it('refuses a first packet that is not CONNECT, and decodes nothing after an error', () => {
    const { decoder, packets, errors } = decoderFor();
    decoder.feed(Buffer.concat([Buffer.from([0xc0, 0x00]), connect5]));
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.kind, 'protocol');
    assert.deepEqual(packets, []);
  });

  it('reports malformed packets (reserved flags) and oversize ones', () => {
    const bad = decoderFor();
    const subscribe = generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a', qos: 0 }] }, { protocolVersion: 5 });
    subscribe[0] = 0x80;
    bad.decoder.feed(Buffer.concat([connect5, subscribe]));
    assert.equal(bad.errors[0]?.kind, 'malformed');
    const big = decoderFor(64);
    big.decoder.feed(Buffer.concat([connect5, generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(100), qos: 0, retain: false, dup: false }, { protocolVersion: 5 })]));
    assert.deepEqual(big.errors, [{ kind: 'too-large', size: 106 }]);
  });
});
