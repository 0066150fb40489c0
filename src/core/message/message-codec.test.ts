import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isBrokerError } from '../errors.js';
import { createMessage } from './message.js';
import type { HeaderTable, HeaderValue, Message, MessageProperties } from './message.js';
import {
  decodeMessage,
  encodedMessageSize,
  encodeMessage,
  MAX_HEADER_DEPTH,
  readBodyLength,
  readMessageSummary,
} from './message-codec.js';

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function fromHex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
}

function assertCorrupt(fn: () => unknown): void {
  assert.throws(fn, (error: unknown) => isBrokerError(error, 'STORAGE_CORRUPT'));
}

function roundTrip(message: Message): Message {
  const encoded = encodeMessage(message);
  assert.equal(encoded.byteLength, encodedMessageSize(message));
  return decodeMessage(encoded);
}

const golden = createMessage({
  exchange: 'ex',
  routingKey: 'a.b',
  properties: { priority: 5, contentType: 'text/plain' },
  headers: { n: 1 },
  body: new Uint8Array([1, 2, 3]),
  persistent: true,
});

const goldenHex = [
  '01', // format version
  '03', // flags: persistent, headers
  '0a00', // property mask: priority (bit 1), contentType (bit 3)
  '03000000', // body length 3
  '0405', // priority: uint 5
  '04 6578', // exchange 'ex' (varint 2 * 2)
  '06 612e62', // routing key 'a.b'
  '14 746578742f706c61696e', // contentType 'text/plain'
  '01 02 6e 04 01', // one header: 'n' = uint 1
  '010203', // body
].join('');

describe('message codec: golden bytes', () => {
  it('encodes a small message to the documented layout', () => {
    assert.equal(hex(encodeMessage(golden)), goldenHex.replace(/\s+/g, ''));
  });

  it('decodes the golden bytes back to the message', () => {
    assert.deepEqual(decodeMessage(fromHex(goldenHex)), golden);
  });

  it('encodes an empty message in 10 bytes', () => {
    const encoded = encodeMessage(createMessage({ body: new Uint8Array(0) }));
    assert.equal(hex(encoded), '01000000' + '00000000' + '00' + '00');
  });
});

describe('message codec: round trips', () => {
  const everyProperty: MessageProperties = {
    contentType: 'application/json',
    contentEncoding: 'gzip',
    messageId: 'm-1',
    correlationId: 'c-1',
    replyTo: 'amq.rabbitmq.reply-to',
    timestamp: 1_700_000_000_123,
    expiration: 60_000,
    priority: 9,
    userId: 'guest',
    appId: 'app',
    type: 'order.created',
    key: new Uint8Array([0, 255, 7]),
  };

  const everyHeaderType: HeaderTable = {
    s: 'text',
    empty: '',
    unicode: 'grüße 🚀 日本',
    long: 'x'.repeat(70_000),
    loneSurrogate: 'a\ud800b',
    zero: 0,
    negativeZero: -0,
    int32: 2_147_483_647,
    negInt32: -2_147_483_648,
    maxSafe: Number.MAX_SAFE_INTEGER,
    minSafe: Number.MIN_SAFE_INTEGER,
    beyondSafe: 2 ** 60,
    fraction: 1.5,
    nan: Number.NaN,
    infinity: Number.POSITIVE_INFINITY,
    negInfinity: Number.NEGATIVE_INFINITY,
    tiny: Number.MIN_VALUE,
    bigZero: 0n,
    bigSmall: -5n,
    bigInt64: -(2n ** 63n),
    bigHuge: 2n ** 200n + 12345n,
    yes: true,
    no: false,
    nothing: null,
    bytes: new Uint8Array([1, 2, 3]),
    noBytes: new Uint8Array(0),
    array: [1, 'two', [3, [4]], { five: 5 }, null, new Uint8Array([6])],
    emptyArray: [],
    table: { nested: { deeper: { deepest: 'yes' } }, list: [true] },
    emptyTable: {},
    'x-death': [{ count: 2n, reason: 'rejected', queue: 'q', time: 1_700_000_000 }],
    'ünïcödé name': 1,
  };

  it('round-trips every property and every header type', () => {
    const message = createMessage({
      exchange: 'amq.topic',
      routingKey: 'sensors.room-1.temperature',
      properties: everyProperty,
      headers: everyHeaderType,
      body: new TextEncoder().encode('{"celsius":21.5}'),
      persistent: true,
    });
    const decoded = roundTrip(message);
    assert.deepEqual(decoded, message);
    assert.ok(Object.is(decoded.headers['negativeZero'], -0));
    assert.equal(decoded.headers['loneSurrogate'], 'a\ud800b');
  });

  it('keeps a __proto__ header as a header, not as a prototype', () => {
    const headers: HeaderTable = {};
    Object.defineProperty(headers, '__proto__', { value: 'x', enumerable: true, writable: true, configurable: true });
    const decoded = roundTrip(createMessage({ headers, body: new Uint8Array(0) }));
    assert.equal(Object.getPrototypeOf(decoded.headers), Object.prototype);
    assert.deepEqual(Object.keys(decoded.headers), ['__proto__']);
    assert.equal(Object.getOwnPropertyDescriptor(decoded.headers, '__proto__')?.value, 'x');
  });

  it('decodes from a view at a non-zero offset and returns the body as a view', () => {
    const encoded = encodeMessage(golden);
    const backing = new Uint8Array(encoded.byteLength + 10);
    backing.set(encoded, 5);
    const view = backing.subarray(5, 5 + encoded.byteLength);
    const decoded = decodeMessage(view);
    assert.deepEqual(decoded, golden);
    assert.equal(decoded.body.buffer, backing.buffer);
  });

  it('keeps integers as numbers and large bigints exact', () => {
    const decoded = roundTrip(createMessage({ headers: { a: 42, b: 2n ** 64n }, body: new Uint8Array(0) }));
    assert.equal(typeof decoded.headers['a'], 'number');
    assert.equal(decoded.headers['b'], 2n ** 64n);
  });
});

describe('message codec: cheap readers', () => {
  it('reads the body length and the numeric properties without decoding', () => {
    const message = createMessage({
      properties: { expiration: 1500, priority: 3, timestamp: 99, contentType: 'x' },
      headers: { h: 'v' },
      body: new Uint8Array(1234),
      persistent: true,
    });
    const encoded = encodeMessage(message);
    assert.equal(readBodyLength(encoded), 1234);
    assert.deepEqual(readMessageSummary(encoded), {
      persistent: true,
      expiration: 1500,
      priority: 3,
      timestamp: 99,
      bodyLength: 1234,
    });
  });

  it('reports absent properties as undefined', () => {
    const summary = readMessageSummary(encodeMessage(createMessage({ body: new Uint8Array(2) })));
    assert.deepEqual(summary, {
      persistent: false,
      expiration: undefined,
      priority: undefined,
      timestamp: undefined,
      bodyLength: 2,
    });
  });

  it('refuses damaged records with STORAGE_CORRUPT', () => {
    assertCorrupt(() => readBodyLength(new Uint8Array([1, 0, 0])));
    assertCorrupt(() => readBodyLength(fromHex('0100000009000000')));
    assertCorrupt(() => readMessageSummary(fromHex('01000100 00000000 07')));
  });
});

describe('message codec: refusing what it cannot store', () => {
  const refuses = (headers: HeaderTable): void => {
    assert.throws(
      () => encodeMessage(createMessage({ headers, body: new Uint8Array(0) })),
      (error: unknown) => isBrokerError(error, 'INVALID_ARGUMENT'),
    );
  };

  it('refuses undefined, functions and class instances as header values', () => {
    refuses({ a: undefined as unknown as HeaderValue });
    refuses({ a: (() => 1) as unknown as HeaderValue });
    refuses({ a: new Date() as unknown as HeaderValue });
  });

  it('refuses cycles and nesting past the depth limit', () => {
    const cyclic: HeaderTable = {};
    cyclic['self'] = cyclic;
    refuses(cyclic);
    let deep: HeaderValue = 1;
    for (let i = 0; i < MAX_HEADER_DEPTH + 1; i++) deep = [deep];
    refuses({ deep });
  });

  it('accepts nesting right at the depth limit', () => {
    let deep: HeaderValue = 1;
    for (let i = 0; i < MAX_HEADER_DEPTH; i++) deep = [deep];
    const message = createMessage({ headers: { deep }, body: new Uint8Array(0) });
    assert.deepEqual(roundTrip(message), message);
  });
});

describe('message codec: malformed input', () => {
  const valid = encodeMessage(
    createMessage({
      exchange: 'e',
      routingKey: 'k',
      properties: { expiration: 5, messageId: 'id' },
      headers: { a: [1, { b: 2n }], c: 'd' },
      body: new Uint8Array([9, 9]),
    }),
  );

  it('refuses every truncation of a valid record', () => {
    for (let length = 0; length < valid.byteLength; length++) {
      assertCorrupt(() => decodeMessage(valid.subarray(0, length)));
    }
  });

  it('refuses trailing bytes, a wrong version and unknown flags', () => {
    const longer = new Uint8Array(valid.byteLength + 1);
    longer.set(valid);
    assertCorrupt(() => decodeMessage(longer));
    for (const [index, value] of [
      [0, 2],
      [1, 0x80],
      [3, 0x10],
    ] as const) {
      const damaged = valid.slice();
      damaged[index] = value;
      assertCorrupt(() => decodeMessage(damaged));
    }
  });

  it('refuses invalid UTF-8, overlong varints and over-deep nesting', () => {
    assertCorrupt(() => decodeMessage(fromHex('01000000 00000000 04ff fe 00')));
    assertCorrupt(() => decodeMessage(fromHex('01000000 00000000 8000 00')));
    const deep = '01020000 00000000 00 00 01 02 61' + '0901'.repeat(MAX_HEADER_DEPTH + 1) + '00';
    assertCorrupt(() => decodeMessage(fromHex(deep)));
  });

  it('refuses a huge array count without allocating it', () => {
    assertCorrupt(() => decodeMessage(fromHex('01020000 00000000 00 00 01 02 61 09 ffffffffffff0f')));
  });
});

// --------------------------------------------------------------------------------------------------
// Properties

const anyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  // Any UTF-16 code unit, lone surrogates included.
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)) }),
);

const anyNumber = fc.oneof(
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double(),
  fc.constantFrom(0, -0, Number.NaN, Number.MAX_SAFE_INTEGER + 1, -(2 ** 63), 2 ** 64),
);

const { value: anyHeaderValue } = fc.letrec<{ value: HeaderValue; table: HeaderTable }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    anyString,
    anyNumber,
    fc.bigInt(),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 16 }),
    fc.array(tie('value'), { maxLength: 4 }),
    tie('table'),
  ),
  table: fc.dictionary(anyString, tie('value'), { maxKeys: 4, noNullPrototype: true }),
}));

const anyHeaders: fc.Arbitrary<HeaderTable> = fc.dictionary(anyString, anyHeaderValue, {
  maxKeys: 6,
  noNullPrototype: true,
});

const anyProperties: fc.Arbitrary<MessageProperties> = fc.record(
  {
    contentType: anyString,
    contentEncoding: anyString,
    messageId: anyString,
    correlationId: anyString,
    replyTo: anyString,
    timestamp: anyNumber,
    expiration: anyNumber,
    priority: anyNumber,
    userId: anyString,
    appId: anyString,
    type: anyString,
    key: fc.uint8Array({ maxLength: 32 }),
  },
  { requiredKeys: [], noNullPrototype: true },
);

const anyMessage: fc.Arbitrary<Message> = fc.record({
  exchange: anyString,
  routingKey: anyString,
  headers: anyHeaders,
  properties: anyProperties,
  body: fc.uint8Array({ maxLength: 256 }),
  persistent: fc.boolean(),
}, { noNullPrototype: true });

function decodesOrCorrupt(bytes: Uint8Array): void {
  try {
    const message = decodeMessage(bytes);
    // Whatever decodes must be a message the encoder accepts.
    encodeMessage(message);
  } catch (error) {
    assert.ok(isBrokerError(error, 'STORAGE_CORRUPT'), `unexpected ${String(error)}`);
  }
}

describe('message codec: properties', () => {
  it('round-trips any message exactly', () => {
    fc.assert(
      fc.property(anyMessage, (message) => {
        const encoded = encodeMessage(message);
        assert.equal(encoded.byteLength, encodedMessageSize(message));
        assert.deepEqual(decodeMessage(encoded), message);
        const summary = readMessageSummary(encoded);
        assert.equal(summary.persistent, message.persistent);
        assert.equal(summary.bodyLength, message.body.byteLength);
        assert.ok(Object.is(summary.expiration, message.properties.expiration));
        assert.ok(Object.is(summary.priority, message.properties.priority));
      }),
      { numRuns: 500 },
    );
  });

  it('decodes any random bytes or throws STORAGE_CORRUPT', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), decodesOrCorrupt), { numRuns: 2000 });
  });

  it('decodes any damaged record or throws STORAGE_CORRUPT', () => {
    const damaged = fc
      .tuple(anyMessage, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }))
      .map(([message, edits]) => {
        const bytes = encodeMessage(message);
        for (const [at, value] of edits) {
          if (bytes.byteLength > 0) bytes[at % bytes.byteLength] = value;
        }
        return bytes;
      });
    fc.assert(fc.property(damaged, decodesOrCorrupt), { numRuns: 2000 });
  });
});
