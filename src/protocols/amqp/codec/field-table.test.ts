import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { HeaderTable, HeaderValue } from '../../../core/message/message.js';
import { decodeFieldTable, encodeFieldTable, MAX_FIELD_DEPTH } from './field-table.js';
import type { FieldTable, FieldValue } from './field-table.js';
import { assertCodecError, fieldTableArb, fromHex, hex, longStrHex, shortStrHex, u32Hex } from './test-support.js';

function entry(name: string, tagAndValueHex: string): string {
  return shortStrHex(name) + tagAndValueHex.replace(/\s+/g, '');
}

function tableHex(...entries: string[]): string {
  const body = entries.join('');
  return u32Hex(body.length / 2) + body;
}

describe('field tables: every RabbitMQ type, decoded', () => {
  const nested = tableHex(entry('x-match', '53' + longStrHex('all')));
  const array = '41' + u32Hex(12) + '49 00000001'.replace(' ', '') + '53' + longStrHex('a') + '56';
  const bytes = tableHex(
    entry('bool', '74 01'),
    entry('false', '74 00'),
    entry('i8', '62 fb'),
    entry('u8', '42 fa'),
    entry('i16', '73 fffe'), // RabbitMQ's `s`: a signed short, not a short string
    entry('u16', '75 ffff'),
    entry('i32', '49 fffe7960'),
    entry('u32', '69 ee6b2800'),
    entry('i64', '6c 0020000000000002'),
    entry('i64small', '6c ffffffffffffff9c'),
    entry('L64', '4c ffffffffffffffff'), // RabbitMQ reads L as signed too
    entry('f32', '66 3fc00000'),
    entry('f64', '64 3fb999999999999a'),
    entry('dec', '44 02 00003039'),
    entry('str', '53 00000006 68c3a96c6c6f'),
    entry('notutf8', '53 00000002 fffe'),
    entry('bytes', '78 00000003 010203'),
    entry('arr', array),
    entry('ts', '54 000000006553f100'),
    entry('tsbig', '54 ffffffffffffffff'),
    entry('tbl', '46' + nested),
    entry('void', '56'),
  );

  it('decodes each tag to the documented JavaScript value', () => {
    const table = decodeFieldTable(fromHex(bytes));
    assert.deepEqual(table, {
      bool: true,
      false: false,
      i8: -5,
      u8: 250,
      i16: -2,
      u16: 65535,
      i32: -100000,
      u32: 4_000_000_000,
      i64: 2n ** 53n + 2n,
      i64small: -100,
      L64: -1,
      f32: 1.5,
      f64: 0.1,
      dec: 123.45,
      str: 'héllo',
      notutf8: new Uint8Array([0xff, 0xfe]),
      bytes: new Uint8Array([1, 2, 3]),
      arr: [1, 'a', null],
      ts: 1_700_000_000,
      tsbig: 2n ** 64n - 1n,
      tbl: { 'x-match': 'all' },
      void: null,
    });
  });

  it('returns binary values as copies, not views of the input', () => {
    const input = fromHex(bytes);
    const table = decodeFieldTable(input);
    const value = table['bytes'] as Uint8Array;
    assert.notEqual(value.buffer, input.buffer);
    input.fill(0);
    assert.deepEqual(value, new Uint8Array([1, 2, 3]));
  });

  it('decodes RabbitMQ headers-exchange arguments to strings', () => {
    const table = decodeFieldTable(fromHex(tableHex(entry('x-match', '53' + longStrHex('any')), entry('format', '53' + longStrHex('pdf')))));
    assert.deepEqual(table, { 'x-match': 'any', format: 'pdf' });
  });

  it('keeps a __proto__ key as an ordinary entry', () => {
    const table = decodeFieldTable(fromHex(tableHex(entry('__proto__', '53' + longStrHex('x')))));
    assert.equal(Object.getPrototypeOf(table), Object.prototype);
    assert.deepEqual(Object.keys(table), ['__proto__']);
    assert.equal(Object.getOwnPropertyDescriptor(table, '__proto__')?.value, 'x');
    assert.deepEqual(decodeFieldTable(encodeFieldTable(table)), table);
  });

  it('lets the last of duplicate keys win', () => {
    assert.deepEqual(decodeFieldTable(fromHex(tableHex(entry('a', '49 00000001'), entry('a', '49 00000002')))), { a: 2 });
  });

  it('decodes malformed UTF-8 in keys leniently, to keys that encode again', () => {
    assert.deepEqual(Object.keys(decodeFieldTable(fromHex(tableHex('01ff' + '56')))), ['\ufffd']);
    // 255 invalid octets would become 765 octets of U+FFFD: the key is cut back to 255 octets.
    const table = decodeFieldTable(fromHex(tableHex('ff' + 'ff'.repeat(254) + '61' + '56')));
    assert.deepEqual(Object.keys(table), ['\ufffd'.repeat(85)]);
    assert.deepEqual(decodeFieldTable(encodeFieldTable(table)), table);
  });
});

describe('field tables: encoding picks types', () => {
  it('writes each JavaScript value with the documented tag', () => {
    const table: FieldTable = {
      int: 1,
      big: 2 ** 40,
      neg: -1,
      frac: 0.5,
      nz: -0,
      nan: NaN,
      s: 'x',
      b: true,
      n: null,
      x: new Uint8Array([1]),
      arr: [1, 'a'],
      tbl: {},
      bi: 5n,
      u64: 2n ** 64n - 1n,
      huge: 2n ** 70n,
    };
    const expected = tableHex(
      entry('int', '49 00000001'),
      entry('big', '6c 0000010000000000'),
      entry('neg', '49 ffffffff'),
      entry('frac', '64 3fe0000000000000'),
      entry('nz', '64 8000000000000000'),
      entry('nan', '64 7ff8000000000000'),
      entry('s', '53 00000001 78'),
      entry('b', '74 01'),
      entry('n', '56'),
      entry('x', '78 00000001 01'),
      entry('arr', '41 0000000b 49 00000001 53 00000001 61'),
      entry('tbl', '46 00000000'),
      entry('bi', '6c 0000000000000005'),
      entry('u64', '54 ffffffffffffffff'), // beyond int64 but unsigned 64-bit: T, exact
      entry('huge', '64 4450000000000000'), // beyond 64 bits: a double, lossy
    );
    assert.equal(hex(encodeFieldTable(table)), expected);
  });

  it('skips undefined entries and writes undefined array elements as void', () => {
    const table = { a: undefined, b: [undefined] } as unknown as FieldTable;
    assert.equal(hex(encodeFieldTable(table)), tableHex(entry('b', '41 00000001 56')));
  });

  it('refuses values the wire cannot carry', () => {
    assertCodecError(() => encodeFieldTable({ ['k'.repeat(256)]: 1 }), 'INTERNAL_ERROR', /shortstr/);
    assertCodecError(() => encodeFieldTable({ f: (() => 1) as unknown as FieldValue }), 'INTERNAL_ERROR', /function/);
    const cyclic: FieldTable = {};
    cyclic['self'] = cyclic;
    assertCodecError(() => encodeFieldTable(cyclic), 'INTERNAL_ERROR', /nested/);
  });
});

describe('field tables: malformed input', () => {
  it('rejects an unknown type tag with SYNTAX_ERROR', () => {
    assertCodecError(() => decodeFieldTable(fromHex(tableHex(entry('a', '7a')))), 'SYNTAX_ERROR', /0x7a/);
  });

  it('rejects sizes that overrun their container with FRAME_ERROR', () => {
    assertCodecError(() => decodeFieldTable(fromHex('00000005 0161')), 'FRAME_ERROR');
    assertCodecError(() => decodeFieldTable(fromHex(tableHex(entry('a', '53 00000009 61')))), 'FRAME_ERROR');
    // The nested table claims more octets than its parent holds.
    assertCodecError(() => decodeFieldTable(fromHex(tableHex(entry('a', '46 00000010')))), 'FRAME_ERROR');
    assertCodecError(() => decodeFieldTable(fromHex('00000000 00')), 'FRAME_ERROR', /unexpected octets/);
  });

  it('bounds nesting', () => {
    let inner = '00000000';
    for (let depth = 1; depth < MAX_FIELD_DEPTH; depth++) inner = tableHex(entry('t', '46' + inner));
    assert.doesNotThrow(() => decodeFieldTable(fromHex(inner)));
    assertCodecError(() => decodeFieldTable(fromHex(tableHex(entry('t', '46' + inner)))), 'SYNTAX_ERROR', /nested/);
  });
});

describe('field tables: round trips', () => {
  it('decodes what it encodes, for random tables', () => {
    fc.assert(
      fc.property(fieldTableArb, (table) => {
        assert.deepEqual(decodeFieldTable(encodeFieldTable(table)), table);
      }),
      { numRuns: 500 },
    );
  });
});

describe('field tables: shape', () => {
  it('is interchangeable with the core HeaderValue', () => {
    // Compile-time checks: the codec may not import core, so its own type must stay assignable both ways.
    const toCore = (value: FieldValue): HeaderValue => value;
    const fromCore = (value: HeaderValue): FieldValue => value;
    const tableToCore = (table: FieldTable): HeaderTable => table;
    const tableFromCore = (table: HeaderTable): FieldTable => table;
    assert.deepEqual(tableFromCore(tableToCore({ a: fromCore(toCore([1, 'b'])) })), { a: [1, 'b'] });
  });
});
