/** Helpers for the codec's tests (not imported by production code). */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isAmqpCodecError } from './codec-error.js';
import type { CodecReplyName } from './codec-error.js';
import type { FieldTable, FieldValue } from './field-table.js';
import { BASIC_PROPERTIES, METHODS } from './amqp-definitions.generated.js';
import type { AmqpMethod, ArgumentType, BasicProperties, MethodName } from './amqp-definitions.generated.js';

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Hex with spaces and `|` separators allowed for readability. */
export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/[\s|]+/g, '');
  assert.match(clean, /^([0-9a-f]{2})*$/, 'bad hex in test vector');
  return new Uint8Array(Buffer.from(clean, 'hex'));
}

/** A string's UTF-8 octets in hex, for readable vectors. */
export function utf8Hex(text: string): string {
  return Buffer.from(text, 'utf8').toString('hex');
}

/** A short string (length octet + UTF-8) in hex. */
export function shortStrHex(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length.toString(16).padStart(2, '0') + bytes.toString('hex');
}

/** A long string (32-bit length + octets) in hex. */
export function longStrHex(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length.toString(16).padStart(8, '0') + bytes.toString('hex');
}

export function u32Hex(value: number): string {
  return value.toString(16).padStart(8, '0');
}

export function assertCodecError(fn: () => unknown, replyName: CodecReplyName, pattern?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(isAmqpCodecError(error), `expected an AmqpCodecError, got ${String(error)}`);
    assert.equal(error.replyName, replyName, error.message);
    if (pattern !== undefined) assert.match(error.message, pattern);
    return true;
  });
}

/** Random field tables whose values decode back to exactly themselves (see the mapping in field-table.ts). */
export const fieldKeyArb = fc
  .string({ unit: 'binary', maxLength: 40 })
  .filter((key) => Buffer.byteLength(key) <= 255 && key !== '__proto__');
const { value: fieldValueArb } = fc.letrec<{ value: FieldValue; table: FieldTable }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    fc.oneof(fc.integer({ min: 2 ** 31, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: Number.MIN_SAFE_INTEGER, max: -(2 ** 31) - 1 })),
    fc.double().filter((d) => !Number.isSafeInteger(d) || Object.is(d, -0)),
    fc.oneof(fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }), fc.bigInt({ min: -(2n ** 63n), max: -(2n ** 53n) })),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 20 }),
    fc.array(tie('value'), { maxLength: 4 }),
    tie('table'),
  ),
  table: fc.dictionary(fieldKeyArb, tie('value'), { maxKeys: 5, noNullPrototype: true }),
}));
export const fieldTableArb = fc.dictionary(fieldKeyArb, fieldValueArb, { maxKeys: 6, noNullPrototype: true });


function argumentArb(type: ArgumentType): fc.Arbitrary<unknown> {
  switch (type) {
    case 'bit':
      return fc.boolean();
    case 'octet':
      return fc.integer({ min: 0, max: 0xff });
    case 'short':
      return fc.integer({ min: 0, max: 0xffff });
    case 'long':
      return fc.integer({ min: 0, max: 0xffff_ffff });
    case 'longlong':
    case 'timestamp':
      return fc.oneof(fc.integer({ min: 0, max: 0xffff_ffff }), fc.maxSafeNat());
    case 'shortstr':
      return fc.string({ unit: 'binary', maxLength: 120 }).filter((s) => Buffer.byteLength(s) <= 255);
    case 'longstr':
      return fc.uint8Array({ maxLength: 64 });
    case 'table':
      return fieldTableArb;
  }
}

/** Random, valid values for every argument of the method `name`. */
export function methodArb(name: MethodName): fc.Arbitrary<AmqpMethod> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const arg of METHODS[name].arguments) fields[arg.name] = argumentArb(arg.type);
  return fc.record(fields, { noNullPrototype: true }).map((values) => ({ name, ...values }) as AmqpMethod);
}

export const anyMethodArb: fc.Arbitrary<AmqpMethod> = fc
  .constantFrom(...(Object.keys(METHODS) as MethodName[]))
  .chain((name) => methodArb(name));

/** Random basic properties: each present or absent. */
export const basicPropertiesArb: fc.Arbitrary<BasicProperties> = fc.record(
  Object.fromEntries(BASIC_PROPERTIES.map((prop) => [prop.name, argumentArb(prop.type)])),
  { requiredKeys: [], noNullPrototype: true },
);
