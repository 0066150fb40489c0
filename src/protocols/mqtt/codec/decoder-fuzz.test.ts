/**
 * Fuzzing the decoder with fast-check: random bytes and mutated valid packet streams, fed in random
 * chunks, only ever yield packets or one of the decoder's typed errors. Nothing throws, nothing comes
 * after an error, and every run ends (each test has a timeout, so a hang fails it).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { generate, type Packet } from 'mqtt-packet';
import { MqttDecoder } from './decoder.js';

const ERROR_KINDS = new Set(['malformed', 'protocol', 'too-large', 'unsupported-level']);
const TIMEOUT = { timeout: 60_000 };

type Event = { readonly type: 'packet'; readonly packet: Packet } | { readonly type: 'error'; readonly kind: string };

/** Feeds the chunks; returns what the sink saw. Any exception escapes and fails the property. */
function run(chunks: readonly Uint8Array[], maxPacketBytes = 4096): Event[] {
  const events: Event[] = [];
  const decoder = new MqttDecoder(maxPacketBytes, {
    packet: (packet) => {
      events.push({ type: 'packet', packet });
      return true;
    },
    error: (error) => events.push({ type: 'error', kind: error.kind }),
  });
  for (const chunk of chunks) decoder.feed(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  return events;
}

function assertWellBehaved(events: readonly Event[]): void {
  const errorAt = events.findIndex((event) => event.type === 'error');
  if (errorAt === -1) return;
  assert.equal(errorAt, events.length - 1, 'nothing is decoded after an error');
  const last = events[errorAt]!;
  assert.ok(last.type === 'error' && ERROR_KINDS.has(last.kind), `typed error, got ${JSON.stringify(last)}`);
}

/** Cuts bytes at the given offsets (taken modulo the length). */
function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  if (bytes.length === 0) return [bytes];
  const points = [...new Set(cuts.map((cut) => cut % bytes.length))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

function validStream(version: 4 | 5): Buffer {
  const opts = { protocolVersion: version };
  const properties5 = version === 5 ? { properties: { contentType: 'text/plain', userProperties: { a: 'b' }, messageExpiryInterval: 9 } } : {};
  const packets: Packet[] = [
    {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: version,
      clean: false,
      keepalive: 30,
      clientId: 'fuzz',
      username: 'u',
      password: Buffer.from('p'),
      will: { topic: 'w/t', payload: Buffer.from('gone'), qos: 1, retain: true },
    },
    { cmd: 'publish', topic: 'a/b', payload: Buffer.from('x'), qos: 0, dup: false, retain: false, ...properties5 },
    { cmd: 'publish', topic: 'a/ü', payload: Buffer.from('yy'), qos: 1, messageId: 7, dup: false, retain: true, ...properties5 },
    { cmd: 'publish', topic: 'a', payload: Buffer.alloc(40, 1), qos: 2, messageId: 8, dup: true, retain: false },
    { cmd: 'pubrel', messageId: 8 },
    { cmd: 'subscribe', messageId: 9, subscriptions: [{ topic: 'a/#', qos: 1 }, { topic: '+/b', qos: 2 }] },
    { cmd: 'unsubscribe', messageId: 10, unsubscriptions: ['a/#'] },
    { cmd: 'puback', messageId: 3 },
    { cmd: 'pingreq' },
    { cmd: 'disconnect' },
  ];
  return Buffer.concat(packets.map((packet) => generate(packet, opts)));
}

const streams = [validStream(4), validStream(5)];

describe('MqttDecoder fuzzing', () => {
  it('random bytes in random chunks yield packets or one typed error', TIMEOUT, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 12 }), (bytes, cuts) => {
        assertWellBehaved(run(split(bytes, cuts)));
      }),
      { numRuns: 3000 },
    );
  });

  it('random bytes after a valid CONNECT yield packets or one typed error', TIMEOUT, () => {
    fc.assert(
      fc.property(fc.constantFrom(0, 1), fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 12 }), (which, tail, cuts) => {
        const stream = streams[which]!;
        const connectLength = stream[1]! + 2;
        const bytes = Buffer.concat([stream.subarray(0, connectLength), tail]);
        const events = run(split(bytes, cuts));
        assert.equal(events[0]?.type, 'packet', 'the valid CONNECT decodes');
        assertWellBehaved(events);
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated valid streams (flipped, inserted, removed bytes, truncation) yield packets or one typed error', TIMEOUT, () => {
    const mutation = fc.oneof(
      fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ op: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ op: fc.constant('remove' as const), at: fc.nat(), value: fc.constant(0) }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(0, 1),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        fc.option(fc.nat()),
        fc.array(fc.nat(), { maxLength: 12 }),
        (which, mutations, truncateAt, cuts) => {
          const bytes = [...streams[which]!];
          for (const { op, at, value } of mutations) {
            const index = at % (bytes.length + 1);
            if (op === 'set' && index < bytes.length) bytes[index] = value;
            else if (op === 'insert') bytes.splice(index, 0, value);
            else if (op === 'remove' && index < bytes.length) bytes.splice(index, 1);
          }
          const mutated = Uint8Array.from(truncateAt === null ? bytes : bytes.slice(0, truncateAt % (bytes.length + 1)));
          assertWellBehaved(run(split(mutated, cuts)));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('a valid stream cut anywhere decodes to the same packets as whole', TIMEOUT, () => {
    const whole = streams.map((stream) => run([stream]));
    for (const events of whole) assert.ok(events.length === 10 && events.every((event) => event.type === 'packet'));
    fc.assert(
      fc.property(fc.constantFrom(0, 1), fc.array(fc.nat(), { maxLength: 30 }), (which, cuts) => {
        const events = run(split(streams[which]!, cuts));
        assert.deepEqual(
          events.map((event) => (event.type === 'packet' ? event.packet.cmd : event.kind)),
          whole[which]!.map((event) => (event.type === 'packet' ? event.packet.cmd : event.kind)),
        );
      }),
      { numRuns: 1000 },
    );
  });
});
