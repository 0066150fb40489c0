/**
 * Golden byte vectors, written by hand from the MQTT 3.1.1 and 5.0 specifications: each one must decode
 * to the packet beside it and the packet must encode to exactly these bytes (both directions of the
 * codec, both versions).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Packet } from 'mqtt-packet';
import type { ProtocolVersion } from './connect-sniff.js';
import { MqttDecoder, type DecodeError } from './decoder.js';
import { encodePacket } from './encoder.js';

interface Vector {
  readonly name: string;
  readonly version: ProtocolVersion;
  readonly hex: string;
  readonly packet: Packet;
  /** Vectors of a legal shorter form the encoder does not produce: checked by decoding only. */
  readonly decodeOnly?: boolean;
}

const bytes = (hex: string): Buffer => Buffer.from(hex.replace(/\s+/g, ''), 'hex');
const text = (value: string): Buffer => Buffer.from(value, 'utf8');

/** A CONNECT announcing the version, fed before a vector that is not itself a CONNECT. */
const preface: Record<ProtocolVersion, string> = {
  3: '10 0f 00 06 4d514973647003 02 003c 0001 70',
  4: '10 0d 00 04 4d515454 04 02 003c 0001 70',
  5: '10 0e 00 04 4d515454 05 02 003c 00 0001 70',
};

const vectors: Vector[] = [
  {
    name: 'CONNECT with will, user name and password',
    version: 4,
    hex: '10 1c 0004 4d515454 04 ee 003c 0002 6331 0001 77 0003 627965 0001 75 0001 70',
    packet: {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      keepalive: 60,
      clientId: 'c1',
      will: { topic: 'w', payload: text('bye'), qos: 1, retain: true },
      username: 'u',
      password: text('p'),
    },
  },
  {
    name: 'CONNECT with properties and a will with properties',
    version: 5,
    hex: '10 29 0004 4d515454 05 0e 003c 08 11 00000078 21 000a 0002 6331 09 18 00000005 03 0001 74 0001 77 0003 627965',
    packet: {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 5,
      clean: true,
      keepalive: 60,
      properties: { sessionExpiryInterval: 120, receiveMaximum: 10 },
      clientId: 'c1',
      will: { topic: 'w', payload: text('bye'), qos: 1, retain: false, properties: { willDelayInterval: 5, contentType: 't' } },
    },
  },
  { name: 'CONNACK accepted', version: 4, hex: '20 02 00 00', packet: { cmd: 'connack', sessionPresent: false, returnCode: 0 } },
  { name: 'CONNACK session present', version: 4, hex: '20 02 01 00', packet: { cmd: 'connack', sessionPresent: true, returnCode: 0 } },
  { name: 'CONNACK not authorized', version: 4, hex: '20 02 00 05', packet: { cmd: 'connack', sessionPresent: false, returnCode: 5 } },
  { name: 'CONNACK bad user name or password', version: 5, hex: '20 03 00 86 00', packet: { cmd: 'connack', sessionPresent: false, reasonCode: 0x86 } },
  {
    name: 'CONNACK with Maximum Packet Size',
    version: 5,
    hex: '20 08 01 00 05 27 00000400',
    packet: { cmd: 'connack', sessionPresent: true, reasonCode: 0, properties: { maximumPacketSize: 1024 } },
  },
  {
    name: 'PUBLISH QoS 0',
    version: 4,
    hex: '30 07 0003 612f62 6869',
    packet: { cmd: 'publish', topic: 'a/b', payload: text('hi'), qos: 0, dup: false, retain: false },
  },
  {
    name: 'PUBLISH QoS 1 retained',
    version: 4,
    hex: '33 09 0003 612f62 000a 6869',
    packet: { cmd: 'publish', topic: 'a/b', payload: text('hi'), qos: 1, messageId: 10, dup: false, retain: true },
  },
  {
    name: 'PUBLISH QoS 2 DUP',
    version: 4,
    hex: '3c 09 0003 612f62 1234 6869',
    packet: { cmd: 'publish', topic: 'a/b', payload: text('hi'), qos: 2, messageId: 0x1234, dup: true, retain: false },
  },
  {
    name: 'PUBLISH QoS 0 without properties',
    version: 5,
    hex: '30 08 0003 612f62 00 6869',
    packet: { cmd: 'publish', topic: 'a/b', payload: text('hi'), qos: 0, dup: false, retain: false },
  },
  {
    name: 'PUBLISH QoS 1 with properties',
    version: 5,
    hex: '32 1c 0003 612f62 0001 12 01 01 02 0000003c 03 0001 63 26 0001 6b 0001 76 6869',
    packet: {
      cmd: 'publish',
      topic: 'a/b',
      payload: text('hi'),
      qos: 1,
      messageId: 1,
      dup: false,
      retain: false,
      properties: { payloadFormatIndicator: true, messageExpiryInterval: 60, contentType: 'c', userProperties: { k: 'v' } },
    },
  },
  {
    name: 'PUBLISH QoS 2',
    version: 5,
    hex: '34 0a 0003 612f62 0002 00 6869',
    packet: { cmd: 'publish', topic: 'a/b', payload: text('hi'), qos: 2, messageId: 2, dup: false, retain: false },
  },
  { name: 'PUBACK', version: 4, hex: '40 02 000a', packet: { cmd: 'puback', messageId: 10 } },
  {
    name: 'PUBACK no matching subscribers, short form',
    version: 5,
    hex: '40 03 000a 10',
    packet: { cmd: 'puback', messageId: 10, reasonCode: 0x10 },
    decodeOnly: true,
  },
  {
    name: 'SUBSCRIBE two filters',
    version: 4,
    hex: '82 0c 0001 0003 612f23 01 0001 62 02',
    packet: {
      cmd: 'subscribe',
      messageId: 1,
      subscriptions: [
        { topic: 'a/#', qos: 1 },
        { topic: 'b', qos: 2 },
      ],
    },
  },
  {
    name: 'SUBSCRIBE with options and a Subscription Identifier',
    version: 5,
    hex: '82 0f 0002 02 0b 05 0003 612f2b 2d 0001 62 10',
    packet: {
      cmd: 'subscribe',
      messageId: 2,
      properties: { subscriptionIdentifier: 5 },
      subscriptions: [
        { topic: 'a/+', qos: 1, nl: true, rap: true, rh: 2 },
        { topic: 'b', qos: 0, nl: false, rap: false, rh: 1 },
      ],
    },
  },
  { name: 'SUBACK granted and failure', version: 4, hex: '90 04 0001 01 80', packet: { cmd: 'suback', messageId: 1, granted: [1, 0x80] } },
  { name: 'SUBACK granted and not authorized', version: 5, hex: '90 05 0002 00 01 87', packet: { cmd: 'suback', messageId: 2, granted: [1, 0x87] } },
  { name: 'UNSUBSCRIBE', version: 4, hex: 'a2 08 0003 0001 61 0001 62', packet: { cmd: 'unsubscribe', messageId: 3, unsubscriptions: ['a', 'b'] } },
  { name: 'UNSUBSCRIBE', version: 5, hex: 'a2 09 0003 00 0001 61 0001 62', packet: { cmd: 'unsubscribe', messageId: 3, unsubscriptions: ['a', 'b'] } },
  { name: 'UNSUBACK', version: 4, hex: 'b0 02 0003', packet: { cmd: 'unsuback', messageId: 3 } as Packet },
  { name: 'UNSUBACK success and no subscription existed', version: 5, hex: 'b0 05 0003 00 00 11', packet: { cmd: 'unsuback', messageId: 3, granted: [0, 0x11] } },
  { name: 'PINGREQ', version: 4, hex: 'c0 00', packet: { cmd: 'pingreq' } },
  { name: 'PINGREQ', version: 5, hex: 'c0 00', packet: { cmd: 'pingreq' } },
  { name: 'PINGRESP', version: 5, hex: 'd0 00', packet: { cmd: 'pingresp' } },
  { name: 'DISCONNECT', version: 4, hex: 'e0 00', packet: { cmd: 'disconnect' } },
  { name: 'DISCONNECT normal, no reason', version: 5, hex: 'e0 00', packet: { cmd: 'disconnect' }, decodeOnly: true },
  {
    name: 'DISCONNECT session taken over, with a reason string',
    version: 5,
    hex: 'e0 06 8e 04 1f 0001 78',
    packet: { cmd: 'disconnect', reasonCode: 0x8e, properties: { reasonString: 'x' } },
  },
  {
    name: 'DISCONNECT with will message, short form',
    version: 5,
    hex: 'e0 01 04',
    packet: { cmd: 'disconnect', reasonCode: 0x04 },
    decodeOnly: true,
  },
];

function decodeOne(vector: Vector): Packet {
  const packets: Packet[] = [];
  const errors: DecodeError[] = [];
  const decoder = new MqttDecoder(1 << 20, {
    packet: (packet) => {
      packets.push(packet);
      return true;
    },
    error: (error) => errors.push(error),
  });
  if (vector.packet.cmd !== 'connect') decoder.feed(bytes(preface[vector.version]));
  decoder.feed(bytes(vector.hex));
  assert.deepEqual(errors, []);
  const packet = packets.at(-1);
  assert.ok(packet && packets.length === (vector.packet.cmd === 'connect' ? 1 : 2), 'exactly one packet decoded');
  return packet;
}

/** The decoded packet holds every field of the expected one (the parser adds bookkeeping fields). */
function assertHolds(actual: Packet, expected: Packet): void {
  const record = actual as unknown as Record<string, unknown>;
  // structuredClone: the parser builds user properties on null-prototype objects.
  for (const [key, value] of Object.entries(expected)) assert.deepEqual(structuredClone(record[key]), structuredClone(value), `field ${key}`);
}

describe('MQTT golden vectors', () => {
  for (const vector of vectors) {
    const label = `${vector.version === 5 ? '5.0' : '3.1.1'} ${vector.name}`;
    it(`decodes ${label}`, () => assertHolds(decodeOne(vector), vector.packet));
    if (!vector.decodeOnly) {
      it(`encodes ${label}`, () => assert.equal(encodePacket(vector.packet, vector.version).toString('hex'), bytes(vector.hex).toString('hex')));
    }
  }

  it('decodes the 3.1 preface (MQIsdp, level 3)', () => {
    const { packet } = { packet: decodeOne({ name: '', version: 3, hex: preface[3], packet: { cmd: 'connect' } as Packet }) };
    assert.equal((packet as { protocolId?: string }).protocolId, 'MQIsdp');
  });
});
