import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  BASIC_PROPERTIES,
  ClassId,
  decodeContentHeader,
  decodeMethod,
  encodeContentHeader,
  encodeMethod,
  FRAME_END,
  FRAME_METHOD,
  FRAME_MIN_SIZE,
  METHODS,
  methodInfo,
  ReplyCode,
  replyCodeInfo,
} from './amqp-definitions.generated.js';
import type { AmqpMethod, MethodName } from './amqp-definitions.generated.js';
import { CodecReplyCode, isAmqpCodecError } from './codec-error.js';
import { FrameReader } from './frame-reader.js';
import { FrameWriter } from './frame-writer.js';
import { anyMethodArb, assertCodecError, basicPropertiesArb, fromHex, hex, methodArb, shortStrHex } from './test-support.js';
import { FRAME_END_OCTET, WireWriter } from './wire-writer.js';

const methodNames = Object.keys(METHODS) as MethodName[];

function roundTrip(channel: number, method: AmqpMethod): { channel: number; method: AmqpMethod } {
  const writer = new FrameWriter({ frameMax: 0 });
  writer.method(channel, method);
  const reader = new FrameReader({ expectProtocolHeader: false, frameMax: 0 });
  const events = [...reader.read(writer.take())];
  assert.equal(events.length, 1);
  const [frame] = events;
  assert.ok(frame?.kind === 'frame' && frame.type === FRAME_METHOD);
  return { channel: frame.channel, method: decodeMethod(frame.payload) };
}

describe('generated definitions: metadata', () => {
  it('covers every class and method of AMQP 0-9-1 with RabbitMQ extensions', () => {
    assert.equal(methodNames.length, 66); // basic 18, connection 14, channel 6, access 2, exchange 8, queue 10, tx 6, confirm 2
    assert.deepEqual(ClassId, { BASIC: 60, CONNECTION: 10, CHANNEL: 20, ACCESS: 30, EXCHANGE: 40, QUEUE: 50, TX: 90, CONFIRM: 85 });
    for (const name of methodNames) {
      const info = METHODS[name];
      assert.equal(info.name, name);
      assert.equal(methodInfo(info.classId, info.methodId), info);
    }
    assert.equal(methodInfo(60, 41), undefined);
    assert.equal(methodInfo(99, 10), undefined);
  });

  it('knows which methods are synchronous, carry content, and what answers them', () => {
    assert.deepEqual(METHODS['basic.get'].responses, ['basic.get-ok', 'basic.get-empty']);
    assert.deepEqual(METHODS['queue.declare'].responses, ['queue.declare-ok']);
    assert.deepEqual(METHODS['connection.start'].responses, ['connection.start-ok']);
    assert.deepEqual(METHODS['exchange.unbind'].responses, ['exchange.unbind-ok']);
    assert.equal(METHODS['exchange.unbind-ok'].methodId, 51); // RabbitMQ's extension numbers it 51, not 41
    assert.deepEqual(METHODS['basic.publish'].responses, []);
    const withContent = methodNames.filter((name) => METHODS[name].hasContent).sort();
    assert.deepEqual(withContent, ['basic.deliver', 'basic.get-ok', 'basic.publish', 'basic.return']);
    const synchronous = methodNames.filter((name) => METHODS[name].synchronous);
    for (const name of synchronous) assert.ok(METHODS[name].responses.length > 0, name);
    assert.equal(METHODS['basic.ack'].synchronous, false);
    assert.equal(METHODS['confirm.select'].synchronous, true);
    assert.deepEqual(METHODS['connection.update-secret'].responses, ['connection.update-secret-ok']);
  });

  it('has the 14 basic content properties in flag order', () => {
    assert.deepEqual(
      BASIC_PROPERTIES.map((p) => p.name),
      [
        'contentType',
        'contentEncoding',
        'headers',
        'deliveryMode',
        'priority',
        'correlationId',
        'replyTo',
        'expiration',
        'messageId',
        'timestamp',
        'type',
        'userId',
        'appId',
        'clusterId',
      ],
    );
  });

  it('has the specification constants and reply codes, agreeing with the codec errors', () => {
    assert.equal(FRAME_END, FRAME_END_OCTET);
    assert.equal(FRAME_MIN_SIZE, 4096);
    for (const [name, code] of Object.entries(CodecReplyCode)) {
      assert.equal(ReplyCode[name as keyof typeof ReplyCode], code, name);
      assert.equal(replyCodeInfo(code)?.kind, 'hard-error', name);
    }
    assert.deepEqual(replyCodeInfo(404), { code: 404, name: 'NOT_FOUND', kind: 'soft-error' });
    assert.deepEqual(replyCodeInfo(200), { code: 200, name: 'REPLY_SUCCESS', kind: 'success' });
    assert.equal(replyCodeInfo(999), undefined);
  });
});

describe('generated definitions: bit packing', () => {
  it('packs consecutive bits into one octet, lowest bit first', () => {
    const writer = new WireWriter();
    encodeMethod(
      0,
      { name: 'access.request', realm: '/data', exclusive: true, passive: false, active: true, write: false, read: true },
      writer,
    );
    // realm, then exclusive(1) | active(4) | read(16) in a single octet
    assert.equal(hex(writer.take()), `010000 0000000b 001e000a ${shortStrHex('/data')} 15 ce`.replace(/\s/g, ''));
  });

  it('starts a new octet after a non-bit argument', () => {
    const writer = new WireWriter();
    encodeMethod(1, { name: 'basic.nack', deliveryTag: 7, multiple: true, requeue: true }, writer);
    assert.equal(hex(writer.take()), '010001 0000000d 003c0078 0000000000000007 03 ce'.replace(/\s/g, ''));
  });

  it('ignores unused bits when decoding, as RabbitMQ does', () => {
    assert.deepEqual(decodeMethod(fromHex('003c0078 0000000000000007 fd')), {
      name: 'basic.nack',
      deliveryTag: 7,
      multiple: true,
      requeue: false,
    });
  });
});

describe('generated definitions: round trips', () => {
  for (const name of methodNames) {
    it(`${name} decodes to what was encoded`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 0xffff }), methodArb(name), (channel, method) => {
          assert.deepEqual(roundTrip(channel, method), { channel, method });
        }),
        { numRuns: 25 },
      );
    });
  }

  it('content headers decode to what was encoded', () => {
    fc.assert(
      fc.property(basicPropertiesArb, fc.maxSafeNat(), (properties, bodySize) => {
        const writer = new WireWriter();
        encodeContentHeader(3, 60, bodySize, properties, writer);
        const bytes = writer.take();
        const reader = new FrameReader({ expectProtocolHeader: false, frameMax: 0 });
        const [frame] = [...reader.read(bytes)];
        assert.ok(frame?.kind === 'frame' && frame.type === 2 && frame.channel === 3);
        assert.deepEqual(decodeContentHeader(frame.payload), { classId: 60, weight: 0, bodySize, properties });
      }),
      { numRuns: 300 },
    );
  });
});

describe('generated definitions: malformed methods', () => {
  it('reports an unknown class or method as NOT_IMPLEMENTED with its ids', () => {
    for (const payload of ['0063000a', '003c0029', '003c0029 00']) {
      assert.throws(
        () => decodeMethod(fromHex(payload)),
        (error: unknown) => isAmqpCodecError(error, 'NOT_IMPLEMENTED') && error.classId === parseInt(payload.slice(0, 4), 16),
      );
    }
  });

  it('reports truncation and trailing octets as FRAME_ERROR, attributed to the method', () => {
    const cases = ['003c', '003c0028 0000 02 65', '003c0028 0000 00 00 00 00', '000a001e 07ff 00020000'];
    for (const payload of cases) assertCodecError(() => decodeMethod(fromHex(payload)), 'FRAME_ERROR');
    assert.throws(
      () => decodeMethod(fromHex('0032000a 0000 02 7131 00')), // queue.declare without its arguments table
      (error: unknown) => isAmqpCodecError(error, 'FRAME_ERROR') && error.classId === 50 && error.methodId === 10,
    );
  });

  it('refuses malformed UTF-8 in a short string argument', () => {
    assertCodecError(() => decodeMethod(fromHex('0032000a 0000 02 c328 00 00000000')), 'FRAME_ERROR', /UTF-8/);
  });

  it('refuses a field table with an unknown type tag with SYNTAX_ERROR', () => {
    assertCodecError(() => decodeMethod(fromHex('0032000a 0000 00 00 00000003 01 61 7a')), 'SYNTAX_ERROR');
  });
});

describe('generated definitions: content headers', () => {
  it('decodes property short strings leniently, within 255 octets', () => {
    const header = decodeContentHeader(fromHex('003c 0000 0000000000000000 8000 02 ff61'));
    assert.deepEqual(header.properties, { contentType: '\ufffda' });
    const long = decodeContentHeader(fromHex(`003c 0000 0000000000000000 8000 ff ${'61'.repeat(250)} f09f9880 ff`));
    assert.equal(long.properties.contentType, 'a'.repeat(250) + '\u{1f600}');
  });

  it('ignores the unused flag bit and the continuation bit, as RabbitMQ does', () => {
    assert.deepEqual(decodeContentHeader(fromHex('003c 0000 0000000000000005 0003')), {
      classId: 60,
      weight: 0,
      bodySize: 5,
      properties: {},
    });
  });

  it('reports a header for a class without content as UNEXPECTED_FRAME', () => {
    assertCodecError(() => decodeContentHeader(fromHex('000a 0000 0000000000000000 0000')), 'UNEXPECTED_FRAME');
  });

  it('reports truncation, trailing octets and impossible body sizes as FRAME_ERROR', () => {
    assertCodecError(() => decodeContentHeader(fromHex('003c 0000 0000000000000000 8000 05 61')), 'FRAME_ERROR');
    assertCodecError(() => decodeContentHeader(fromHex('003c 0000 0000000000000000 0000 00')), 'FRAME_ERROR');
    assertCodecError(() => decodeContentHeader(fromHex('003c 0000 ffffffffffffffff 0000')), 'FRAME_ERROR', /body size/);
  });
});

describe('generated definitions: encoding errors', () => {
  it('removes a partly written frame and throws INTERNAL_ERROR for values the wire cannot carry', () => {
    const writer = new WireWriter();
    encodeMethod(0, { name: 'connection.close-ok' }, writer);
    const before = writer.length;
    const bad: AmqpMethod[] = [
      { name: 'basic.cancel', consumerTag: 'x'.repeat(256), nowait: false },
      { name: 'basic.cancel', consumerTag: 'é'.repeat(128), nowait: false },
      { name: 'basic.qos', prefetchSize: 0, prefetchCount: 65536, global: false },
      { name: 'basic.qos', prefetchSize: -1, prefetchCount: 0, global: false },
      { name: 'basic.ack', deliveryTag: 1.5, multiple: false },
      { name: 'basic.ack', deliveryTag: 2 ** 64, multiple: false },
      { name: 'nope' } as unknown as AmqpMethod,
    ];
    for (const method of bad) {
      assertCodecError(() => encodeMethod(0, method, writer), 'INTERNAL_ERROR');
      assert.equal(writer.length, before);
    }
    assertCodecError(() => encodeMethod(65536, { name: 'connection.close-ok' }, writer), 'INTERNAL_ERROR', /channel/);
    assert.equal(hex(writer.take()), '0100000000000400 0a0033ce'.replace(/\s/g, ''));
  });

  it('writes a short string of exactly 255 octets', () => {
    const tag = 'é'.repeat(127) + 'x';
    assert.deepEqual(roundTrip(1, { name: 'basic.cancel-ok', consumerTag: tag }).method, {
      name: 'basic.cancel-ok',
      consumerTag: tag,
    });
  });

  it('writes 64-bit integers beyond 2^53 as the double holds them', () => {
    const writer = new WireWriter();
    encodeMethod(1, { name: 'basic.ack', deliveryTag: 2 ** 63, multiple: false }, writer);
    assert.equal(hex(writer.take()).slice(22, 38), '8000000000000000');
  });
});

describe('generated definitions: any method', () => {
  it('round-trips random methods on random channels', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), anyMethodArb, (channel, method) => {
        assert.deepEqual(roundTrip(channel, method), { channel, method });
      }),
      { numRuns: 300 },
    );
  });
});
