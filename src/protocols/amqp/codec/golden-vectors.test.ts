// Golden byte vectors, written out by hand from AMQP 0-9-1 §4.2 and RabbitMQ's field-table errata, and
// checked in both directions: our encoder must produce them and our decoder must read them back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeContentHeader, decodeMethod } from './amqp-definitions.generated.js';
import type { AmqpMethod, BasicDeliver, BasicProperties } from './amqp-definitions.generated.js';
import { FrameReader, PROTOCOL_HEADER } from './frame-reader.js';
import type { AmqpFrame } from './frame-reader.js';
import { FrameWriter } from './frame-writer.js';
import { fromHex, hex, longStrHex, shortStrHex, u32Hex, utf8Hex } from './test-support.js';

function frameHex(type: number, channel: number, payloadHex: string): string {
  const payload = payloadHex.replace(/[\s|]+/g, '');
  return (
    type.toString(16).padStart(2, '0') + channel.toString(16).padStart(4, '0') + u32Hex(payload.length / 2) + payload + 'ce'
  );
}

function encodeMethodFrame(channel: number, method: AmqpMethod): string {
  const writer = new FrameWriter({ frameMax: 131072 });
  writer.method(channel, method);
  return hex(writer.take());
}

function readFrames(bytes: Uint8Array, frameMax = 131072): AmqpFrame[] {
  const reader = new FrameReader({ expectProtocolHeader: false, frameMax });
  const frames: AmqpFrame[] = [];
  for (const event of reader.read(bytes)) {
    assert.equal(event.kind, 'frame');
    frames.push(event);
  }
  assert.equal(reader.buffered, 0);
  return frames;
}

function decodeSingleMethod(frameBytes: string): { channel: number; method: AmqpMethod } {
  const frames = readFrames(fromHex(frameBytes));
  assert.equal(frames.length, 1);
  const [frame] = frames as [AmqpFrame];
  assert.equal(frame.type, 1);
  return { channel: frame.channel, method: decodeMethod(frame.payload) };
}

function checkMethodVector(channel: number, method: AmqpMethod, expectedHex: string): void {
  const expected = expectedHex.replace(/[\s|]+/g, '');
  assert.equal(encodeMethodFrame(channel, method), expected);
  assert.deepEqual(decodeSingleMethod(expected), { channel, method });
}

describe('golden vectors', () => {
  it('protocol header', () => {
    assert.equal(hex(PROTOCOL_HEADER), '414d515000000901');
    const writer = new FrameWriter();
    writer.protocolHeader();
    assert.equal(hex(writer.take()), '414d515000000901');
    const reader = new FrameReader();
    const events = [...reader.read(fromHex('414d515000000901'))];
    assert.deepEqual(events, [{ kind: 'protocol-header', received: fromHex('414d515000000901') }]);
  });

  it('connection.start with server properties', () => {
    const product = shortStrHex('product') + '53' + longStrHex('Courier'); // 20 octets
    const confirms = shortStrHex('publisher_confirms') + '74' + '01'; // 21 octets
    const capabilities = shortStrHex('capabilities') + '46' + u32Hex(21) + confirms; // 39 octets
    const payload = [
      '000a 000a', // class 10 connection, method 10 start
      '00 09', // version-major 0, version-minor 9
      u32Hex(59) + product + capabilities, // server-properties
      longStrHex('PLAIN'),
      longStrHex('en_US'),
    ].join('');
    checkMethodVector(
      0,
      {
        name: 'connection.start',
        versionMajor: 0,
        versionMinor: 9,
        serverProperties: { product: 'Courier', capabilities: { publisher_confirms: true } },
        mechanisms: fromHex(utf8Hex('PLAIN')),
        locales: fromHex(utf8Hex('en_US')),
      },
      frameHex(1, 0, payload),
    );
    assert.equal(frameHex(1, 0, payload).slice(0, 14), '01000000000057'); // 87-octet payload
  });

  it('connection.start-ok with client properties and a PLAIN response', () => {
    const product = shortStrHex('product') + '53' + longStrHex('test'); // 17 octets
    const nack = shortStrHex('basic.nack') + '74' + '01'; // 13 octets
    const capabilities = shortStrHex('capabilities') + '46' + u32Hex(13) + nack; // 31 octets
    const payload = [
      '000a 000b',
      u32Hex(48) + product + capabilities,
      shortStrHex('PLAIN'),
      '0000000c 00 6775657374 00 6775657374', // "\0guest\0guest"
      shortStrHex('en_US'),
    ].join('');
    checkMethodVector(
      0,
      {
        name: 'connection.start-ok',
        clientProperties: { product: 'test', capabilities: { 'basic.nack': true } },
        mechanism: 'PLAIN',
        response: fromHex('00 6775657374 00 6775657374'),
        locale: 'en_US',
      },
      frameHex(1, 0, payload),
    );
  });

  it('connection.tune', () => {
    checkMethodVector(
      0,
      { name: 'connection.tune', channelMax: 2047, frameMax: 131072, heartbeat: 60 },
      '01 0000 0000000c | 000a 001e | 07ff | 00020000 | 003c | ce',
    );
  });

  it('queue.declare with arguments', () => {
    const ttl = shortStrHex('x-message-ttl') + '49' + '0000ea60'; // 19 octets, 60000 as I
    const type = shortStrHex('x-queue-type') + '53' + longStrHex('quorum'); // 24 octets
    checkMethodVector(
      1,
      {
        name: 'queue.declare',
        ticket: 0,
        queue: 'q1',
        passive: false,
        durable: true,
        exclusive: false,
        autoDelete: false,
        nowait: false,
        arguments: { 'x-message-ttl': 60000, 'x-queue-type': 'quorum' },
      },
      frameHex(1, 1, `0032 000a | 0000 | ${shortStrHex('q1')} | 02 | ${u32Hex(43)} ${ttl} ${type}`),
    );
  });

  it('basic.publish, a content header with several properties, and a body split over two frames', () => {
    const body = new Uint8Array(60).map((_, i) => i);
    const properties: BasicProperties = {
      contentType: 'text/plain',
      headers: { k: 'v' },
      deliveryMode: 2,
      correlationId: 'c1',
      timestamp: 1_700_000_000,
    };
    const expected = [
      frameHex(1, 1, `003c 0028 | 0000 | ${shortStrHex('ex')} | ${shortStrHex('rk')} | 01`), // mandatory
      frameHex(
        2,
        1,
        [
          '003c 0000', // class 60, weight 0
          '000000000000003c', // body size 60
          'b440', // content-type, headers, delivery-mode, correlation-id, timestamp
          shortStrHex('text/plain'),
          u32Hex(8) + shortStrHex('k') + '53' + longStrHex('v'), // 8 octets
          '02',
          shortStrHex('c1'),
          '000000006553f100',
        ].join(''),
      ),
      frameHex(3, 1, hex(body.subarray(0, 56))), // frame-max 64 leaves 56 octets per body frame
      frameHex(3, 1, hex(body.subarray(56))),
    ].join('');
    const publish: AmqpMethod = {
      name: 'basic.publish',
      ticket: 0,
      exchange: 'ex',
      routingKey: 'rk',
      mandatory: true,
      immediate: false,
    };

    const writer = new FrameWriter({ frameMax: 64 });
    writer.methodWithContent(1, publish, properties, body);
    assert.equal(hex(writer.take()), expected);

    const frames = readFrames(fromHex(expected), 64);
    assert.deepEqual(
      frames.map((f) => [f.type, f.channel, f.payload.byteLength]),
      [
        [1, 1, 13],
        [2, 1, 49],
        [3, 1, 56],
        [3, 1, 4],
      ],
    );
    const [methodFrame, headerFrame, body1, body2] = frames as [AmqpFrame, AmqpFrame, AmqpFrame, AmqpFrame];
    assert.deepEqual(decodeMethod(methodFrame.payload), publish);
    assert.deepEqual(decodeContentHeader(headerFrame.payload), { classId: 60, weight: 0, bodySize: 60, properties });
    assert.deepEqual(Buffer.concat([body1.payload, body2.payload]), Buffer.from(body));
  });

  it('basic.deliver, with a small and a 41-bit delivery tag', () => {
    const deliver = (deliveryTag: number): BasicDeliver => ({
      name: 'basic.deliver',
      consumerTag: 'ctag',
      deliveryTag,
      redelivered: false,
      exchange: '',
      routingKey: 'q',
    });
    checkMethodVector(1, deliver(1), frameHex(1, 1, `003c 003c | ${shortStrHex('ctag')} | 0000000000000001 | 00 | 00 | 0171`));
    checkMethodVector(
      1,
      { ...deliver(2 ** 40 + 5), redelivered: true },
      frameHex(1, 1, `003c 003c | ${shortStrHex('ctag')} | 0000010000000005 | 01 | 00 | 0171`),
    );
  });

  it('heartbeat', () => {
    const writer = new FrameWriter();
    writer.heartbeat();
    assert.equal(hex(writer.take()), '080000000000' + '00ce');
    assert.deepEqual(readFrames(fromHex('08 0000 00000000 ce')), [
      { kind: 'frame', type: 8, channel: 0, payload: new Uint8Array(0) },
    ]);
  });

  it('a batch of frames comes out as one buffer in call order', () => {
    const writer = new FrameWriter({ frameMax: 131072 });
    writer.method(0, { name: 'connection.tune', channelMax: 2047, frameMax: 131072, heartbeat: 60 });
    writer.heartbeat();
    writer.method(1, { name: 'channel.open-ok', channelId: new Uint8Array(0) });
    assert.equal(
      hex(writer.take()),
      '010000' + '0000000c' + '000a001e07ff00020000003c' + 'ce' + '0800000000000' + '0ce' + frameHex(1, 1, '0014 000b 00000000'),
    );
    assert.equal(writer.length, 0);
    assert.equal(writer.take().byteLength, 0);
  });
});
