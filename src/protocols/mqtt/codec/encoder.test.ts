import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { generate, type Packet } from 'mqtt-packet';
import { encodeFast, encodePacket, encodePublishHeader } from './encoder.js';

const version = fc.constantFrom(4 as const, 5 as const);
const topic = fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }).filter((text) => !text.includes('+') && !text.includes('#') && !text.includes(String.fromCharCode(0)));
const packetId = fc.integer({ min: 1, max: 65_535 });

const publish = fc.record({
  topic,
  payload: fc.oneof(fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)), fc.uint8Array({ minLength: 16_384, maxLength: 20_000 }).map((bytes) => Buffer.from(bytes))),
  qos: fc.constantFrom(0 as const, 1 as const, 2 as const),
  dup: fc.boolean(),
  retain: fc.boolean(),
  messageId: packetId,
});

describe('MQTT encoder fast path', () => {
  it('frames PUBLISH without properties exactly as mqtt-packet does, both versions', () => {
    fc.assert(
      fc.property(publish, version, (fields, protocolVersion) => {
        const packet = { cmd: 'publish', ...fields, dup: fields.qos > 0 && fields.dup } as Packet;
        const fast = encodeFast(packet, protocolVersion);
        assert.ok(fast, 'the fast path takes it');
        assert.deepEqual(fast, generate(packet, { protocolVersion }));
        // Header then payload, as the session writes large bodies, make the same bytes.
        const header = encodePublishHeader(packet as Packet & { cmd: 'publish' }, protocolVersion)!;
        assert.deepEqual(Buffer.concat([header, fields.payload]), fast);
      }),
      { numRuns: 300 },
    );
  });

  it('frames the acknowledgements exactly as mqtt-packet does', () => {
    fc.assert(
      fc.property(fc.constantFrom('puback', 'pubrec', 'pubrel', 'pubcomp'), packetId, version, (cmd, messageId, protocolVersion) => {
        const packet = { cmd, messageId } as Packet;
        assert.deepEqual(encodePacket(packet, protocolVersion), generate(packet, { protocolVersion }));
        const success = { cmd, messageId, reasonCode: 0 } as Packet;
        const fast = encodeFast(success, protocolVersion);
        assert.ok(fast, 'the fast path takes a success');
        assert.deepEqual(fast, generate(success, { protocolVersion }));
      }),
    );
    assert.deepEqual(encodeFast({ cmd: 'pingresp' }, 4), generate({ cmd: 'pingresp' }));
  });

  it('leaves packets with properties or failure reason codes to mqtt-packet', () => {
    const withProperties = { cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 0, dup: false, retain: false, properties: { contentType: 'text/plain' } } as Packet;
    assert.equal(encodeFast(withProperties, 5), undefined);
    assert.deepEqual(encodePacket(withProperties, 5), generate(withProperties, { protocolVersion: 5 }));
    assert.equal(encodeFast({ cmd: 'puback', messageId: 7, reasonCode: 0x10 }, 5), undefined);
    assert.equal(encodeFast({ cmd: 'connack', returnCode: 0, sessionPresent: false }, 4), undefined);
  });
});
