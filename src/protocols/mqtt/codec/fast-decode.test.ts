import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { generate, parser, type Packet } from 'mqtt-packet';
import { decodeFast } from './fast-decode.js';

function parsedByMqttPacket(bytes: Buffer, protocolVersion: 4 | 5): Packet {
  const packets: Packet[] = [];
  const reader = parser({ protocolVersion });
  reader.on('packet', (packet: Packet) => packets.push(packet));
  reader.on('error', (error: Error) => assert.fail(error));
  reader.parse(bytes);
  assert.equal(packets.length, 1);
  return packets[0]!;
}

const version = fc.constantFrom(4 as const, 5 as const);
const packetId = fc.integer({ min: 1, max: 65_535 });
const topic = fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }).filter((text) => !text.includes(String.fromCharCode(0)));

describe('MQTT fast decode', () => {
  it('reads PUBLISH without properties exactly as mqtt-packet does', () => {
    fc.assert(
      fc.property(
        topic,
        fc.uint8Array({ maxLength: 20_000 }),
        fc.constantFrom(0 as const, 1 as const, 2 as const),
        fc.boolean(),
        fc.boolean(),
        packetId,
        version,
        (name, body, qos, dup, retain, messageId, protocolVersion) => {
          const bytes = generate({ cmd: 'publish', topic: name, payload: Buffer.from(body), qos, dup: qos > 0 && dup, retain, messageId }, { protocolVersion });
          const fast = decodeFast(bytes, protocolVersion);
          assert.ok(fast, 'the fast path takes it');
          assert.deepEqual({ ...fast }, { ...parsedByMqttPacket(bytes, protocolVersion) });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads the acknowledgements and PINGREQ exactly as mqtt-packet does', () => {
    fc.assert(
      fc.property(fc.constantFrom('puback', 'pubrec', 'pubrel', 'pubcomp'), packetId, version, (cmd, messageId, protocolVersion) => {
        const bytes = generate({ cmd, messageId, reasonCode: 0 }, { protocolVersion });
        const fast = decodeFast(bytes, protocolVersion);
        assert.ok(fast);
        assert.deepEqual({ ...fast }, { ...parsedByMqttPacket(bytes, protocolVersion) });
      }),
    );
    const ping = generate({ cmd: 'pingreq' });
    assert.deepEqual({ ...decodeFast(ping, 4) }, { ...parsedByMqttPacket(ping, 4) });
  });

  it('leaves unusual packets to mqtt-packet: properties, QoS 3, DUP on QoS 0, id 0, wrong PUBREL flags', () => {
    const withProperties = generate({ cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 0, dup: false, retain: false, properties: { contentType: 'a' } }, { protocolVersion: 5 });
    assert.equal(decodeFast(withProperties, 5), undefined);
    assert.equal(decodeFast(Buffer.from([0x36, 0x05, 0x00, 0x01, 0x74, 0x00, 0x01]), 4), undefined, 'QoS 3');
    assert.equal(decodeFast(Buffer.from([0x38, 0x03, 0x00, 0x01, 0x74]), 4), undefined, 'DUP on QoS 0');
    assert.equal(decodeFast(Buffer.from([0x32, 0x05, 0x00, 0x01, 0x74, 0x00, 0x00]), 4), undefined, 'packet id 0');
    assert.equal(decodeFast(Buffer.from([0x60, 0x02, 0x00, 0x01]), 4), undefined, 'PUBREL with flags 0000');
    assert.equal(decodeFast(Buffer.from([0x40, 0x03, 0x00, 0x01, 0x10]), 5), undefined, 'a 5.0 reason code');
    assert.equal(decodeFast(Buffer.from([0x30, 0x05, 0x00, 0x09, 0x74]), 4), undefined, 'topic longer than the packet');
  });
});
