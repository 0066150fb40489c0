// Cross-check against amqplib's own encoder and decoder (its generated lib/defs.js and lib/codec.js),
// an independent implementation used here only as a test reference: production code never imports it.
// amqplib's package exports hide these files, so they are loaded by path; the tests skip, saying why,
// if that ever stops working.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeContentHeader, decodeMethod, encodeContentHeader, encodeMethod, METHODS } from './amqp-definitions.generated.js';
import type { AmqpMethod, MethodName } from './amqp-definitions.generated.js';
import { decodeFieldTable, encodeFieldTable } from './field-table.js';
import type { FieldTable, FieldValue } from './field-table.js';
import { fieldKeyArb, hex, methodArb } from './test-support.js';
import { WireWriter } from './wire-writer.js';

interface AmqplibDefs {
  encodeMethod(id: number, channel: number, fields: Record<string, unknown>): Buffer;
  encodeProperties(classId: number, channel: number, size: number, fields: Record<string, unknown>): Buffer;
  decode(id: number, payload: Buffer): Record<string, unknown>;
  info(id: number): { name: string; args: { name: string; type: string }[] };
}

interface AmqplibCodec {
  encodeTable(buffer: Buffer, value: Record<string, unknown>, offset: number): number;
  decodeFields(slice: Buffer): Record<string, unknown>;
}

function loadAmqplib(): { defs: AmqplibDefs; codec: AmqplibCodec } | string {
  try {
    const require = createRequire(import.meta.url);
    const lib = join(dirname(require.resolve('amqplib')), 'lib');
    return { defs: require(join(lib, 'defs.js')) as AmqplibDefs, codec: require(join(lib, 'codec.js')) as AmqplibCodec };
  } catch (error) {
    return `amqplib internals are not loadable (${String(error)})`;
  }
}

const amqplib = loadAmqplib();
const skip = typeof amqplib === 'string' ? amqplib : false;
const methodNames = Object.keys(METHODS) as MethodName[];

/** amqplib wants Buffers where we use Uint8Array (it would write a plain Uint8Array as a table). */
function toAmqplib(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (Array.isArray(value)) return value.map(toAmqplib);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toAmqplib(v)]));
  }
  return value;
}

/** amqplib decodes binary values to Buffers (views); compare them as plain Uint8Arrays. */
function fromAmqplib(value: unknown): unknown {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map(fromAmqplib);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromAmqplib(v)]));
  }
  return value;
}

function methodId(name: MethodName): number {
  return METHODS[name].classId * 0x10000 + METHODS[name].methodId;
}

function fieldsOf(method: AmqpMethod): Record<string, unknown> {
  const { name: _name, ...fields } = method;
  return fields;
}

function ourFrame(channel: number, method: AmqpMethod): Uint8Array {
  const writer = new WireWriter();
  encodeMethod(channel, method, writer);
  return writer.take();
}

/**
 * Tables without numbers: amqplib picks the narrowest integer tag (b, s, I, l) where we always write I
 * or l, so numeric values are compared by decoding instead (below).
 */
const { value: plainValueArb } = fc.letrec<{ value: FieldValue; table: FieldTable }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 10 }),
    fc.array(tie('value'), { maxLength: 3 }),
    tie('table'),
  ),
  table: fc.dictionary(fieldKeyArb, tie('value'), { maxKeys: 4, noNullPrototype: true }),
}));
const plainTableArb = fc.dictionary(fieldKeyArb, plainValueArb, { maxKeys: 5, noNullPrototype: true });

function withPlainTables(method: AmqpMethod): fc.Arbitrary<AmqpMethod> {
  const tableArgs = METHODS[method.name].arguments.filter((arg) => arg.type === 'table').map((arg) => arg.name);
  if (tableArgs.length === 0) return fc.constant(method);
  return fc.tuple(...tableArgs.map(() => plainTableArb)).map((tables) => {
    const copy: Record<string, unknown> = { ...method };
    tableArgs.forEach((name, i) => (copy[name] = tables[i]));
    return copy as unknown as AmqpMethod;
  });
}

describe('cross-check with amqplib (test-only reference)', { skip }, () => {
  const { defs, codec } = amqplib as Exclude<typeof amqplib, string>;

  it('names every method and argument as amqplib does', () => {
    for (const name of methodNames) {
      const info = defs.info(methodId(name));
      assert.deepEqual(
        info.args.map((arg) => arg.name),
        METHODS[name].arguments.map((arg) => arg.name),
        name,
      );
    }
  });

  for (const name of methodNames) {
    it(`${name}: same bytes as amqplib, and each decodes the other's`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 0xffff }),
          methodArb(name).chain(withPlainTables),
          (channel, method) => {
            const ours = ourFrame(channel, method);
            const theirs = defs.encodeMethod(methodId(name), channel, toAmqplib(fieldsOf(method)) as Record<string, unknown>);
            assert.equal(hex(ours), hex(theirs));
            assert.deepEqual(decodeMethod(theirs.subarray(7, theirs.length - 1)), method);
            const payload = Buffer.from(ours.subarray(11, ours.byteLength - 1));
            assert.deepEqual(fromAmqplib(defs.decode(methodId(name), payload)), fromAmqplib(fieldsOf(method)));
          },
        ),
        { numRuns: 20 },
      );
    });
  }

  it('content headers: same bytes as amqplib', () => {
    const propertiesArb = fc.record(
      {
        contentType: fc.string({ maxLength: 20 }),
        contentEncoding: fc.string({ maxLength: 20 }),
        headers: plainTableArb,
        deliveryMode: fc.integer({ min: 1, max: 2 }),
        priority: fc.integer({ min: 0, max: 255 }),
        correlationId: fc.string({ maxLength: 36 }),
        replyTo: fc.string({ maxLength: 30 }),
        expiration: fc.nat().map(String),
        messageId: fc.string({ maxLength: 36 }),
        timestamp: fc.integer({ min: 0, max: 2 ** 40 }),
        type: fc.string({ maxLength: 20 }),
        userId: fc.string({ maxLength: 20 }),
        appId: fc.string({ maxLength: 20 }),
        clusterId: fc.string({ maxLength: 20 }),
      },
      { requiredKeys: [], noNullPrototype: true },
    );
    fc.assert(
      fc.property(propertiesArb, fc.maxSafeNat(), fc.integer({ min: 0, max: 0xffff }), (properties, size, channel) => {
        const writer = new WireWriter();
        encodeContentHeader(channel, 60, size, properties, writer);
        const ours = writer.take();
        const theirs = defs.encodeProperties(60, channel, size, toAmqplib(properties) as Record<string, unknown>);
        assert.equal(hex(ours), hex(theirs));
        assert.deepEqual(decodeContentHeader(theirs.subarray(7, theirs.length - 1)).properties, properties);
      }),
      { numRuns: 300 },
    );
  });

  it("decodes every field type amqplib writes, numbers included, to the same values", () => {
    const buffer = Buffer.alloc(4096);
    const table = {
      byte: -5,
      short: 300,
      int: -70000,
      long: 2 ** 40,
      negLong: -(2 ** 40),
      double: 1.5,
      string: 'héllo',
      bool: false,
      void: null,
      bytes: Buffer.from([1, 2]),
      array: [1, 'a', [true]],
      table: { 'x-match': 'all' },
      timestamp: { '!': 'timestamp', value: 1_700_000_000 },
      decimal: { '!': 'decimal', value: { places: 2, digits: 12345 } },
      float: { '!': 'float', value: 0.25 },
      unsignedByte: { '!': 'unsignedbyte', value: 200 },
      unsignedShort: { '!': 'unsignedshort', value: 60000 },
      unsignedInt: { '!': 'unsignedint', value: 4_000_000_000 },
    };
    const length = codec.encodeTable(buffer, table, 0);
    assert.deepEqual(decodeFieldTable(buffer.subarray(0, length)), {
      byte: -5,
      short: 300,
      int: -70000,
      long: 2 ** 40,
      negLong: -(2 ** 40),
      double: 1.5,
      string: 'héllo',
      bool: false,
      void: null,
      bytes: new Uint8Array([1, 2]),
      array: [1, 'a', [true]],
      table: { 'x-match': 'all' },
      timestamp: 1_700_000_000,
      decimal: 123.45,
      float: 0.25,
      unsignedByte: 200,
      unsignedShort: 60000,
      unsignedInt: 4_000_000_000,
    });
  });

  it('writes numbers that amqplib reads back as the same numbers', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fieldKeyArb, // no __proto__: amqplib's decoder would assign it to the prototype
          fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.maxSafeInteger(), fc.double({ noNaN: true })),
          { noNullPrototype: true },
        ),
        (table) => {
          const bytes = Buffer.from(encodeFieldTable(table));
          assert.deepEqual(codec.decodeFields(bytes.subarray(4)), table);
        },
      ),
      { numRuns: 300 },
    );
  });
});
