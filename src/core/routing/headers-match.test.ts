 
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBrokerError } from '../errors.js';
import type { HeaderTable } from '../message/message.js';
import { compileHeadersBinding, headersMatch, headerTablesEqual, headerValuesEqual, parseHeadersMatchMode } from './headers-match.js';

function matches(binding: HeaderTable, headers: HeaderTable | undefined): boolean {
  return headersMatch(compileHeadersBinding(binding), headers);
}

const cases: readonly [name: string, binding: HeaderTable, headers: HeaderTable | undefined, expected: boolean][] = [
  ['all is the default: every argument equal', { a: 1, b: 'x' }, { a: 1, b: 'x', c: true }, true],
  ['all: one argument missing', { a: 1, b: 'x' }, { a: 1 }, false],
  ['all: one argument different', { a: 1, b: 'x' }, { a: 1, b: 'y' }, false],
  ['all: no headers at all', { a: 1 }, undefined, false],
  ['explicit all', { 'x-match': 'all', a: 1 }, { a: 1 }, true],
  ['any: one argument equal is enough', { 'x-match': 'any', a: 1, b: 2 }, { b: 2 }, true],
  ['any: none equal', { 'x-match': 'any', a: 1, b: 2 }, { a: 2, c: 1 }, false],
  ['any: no headers', { 'x-match': 'any', a: 1 }, undefined, false],
  ['all ignores x- arguments', { 'x-match': 'all', 'x-tenant': 't1', a: 1 }, { a: 1 }, true],
  ['any ignores x- arguments', { 'x-match': 'any', 'x-tenant': 't1' }, { 'x-tenant': 't1' }, false],
  ['all with nothing left to compare matches everything', { 'x-match': 'all', 'x-tenant': 't1' }, {}, true],
  ['all with no argument matches a message without headers', {}, undefined, true],
  ['any with no argument matches nothing', { 'x-match': 'any' }, { a: 1 }, false],
  ['all-with-x compares x- arguments', { 'x-match': 'all-with-x', 'x-tenant': 't1', a: 1 }, { 'x-tenant': 't1', a: 1 }, true],
  ['all-with-x: x- argument missing', { 'x-match': 'all-with-x', 'x-tenant': 't1', a: 1 }, { a: 1 }, false],
  ['any-with-x: x- argument alone is enough', { 'x-match': 'any-with-x', 'x-tenant': 't1', a: 1 }, { 'x-tenant': 't1' }, true],
  ['x-match itself never takes part', { 'x-match': 'all-with-x' }, {}, true],
  ['null argument: presence with any value', { a: null }, { a: 'whatever' }, true],
  ['null argument: presence with a null value', { a: null }, { a: null }, true],
  ['null argument: absent', { a: null }, { b: 1 }, false],
  ['null argument in any', { 'x-match': 'any', a: null, b: 1 }, { a: 0 }, true],
  ['a null header does not equal a value', { a: 1 }, { a: null }, false],
  ['number equals bigint of the same value', { a: 7 }, { a: 7n }, true],
  ['number does not equal a string', { a: 7 }, { a: '7' }, false],
  ['string does not equal bytes', { a: 'ab' }, { a: new Uint8Array([97, 98]) }, false],
  ['bytes by content', { a: new Uint8Array([1, 2]) }, { a: new Uint8Array([1, 2]) }, true],
  ['bytes differing', { a: new Uint8Array([1, 2]) }, { a: new Uint8Array([1, 3]) }, false],
  ['arrays element-wise', { a: [1, 'x', [true]] }, { a: [1, 'x', [true]] }, true],
  ['arrays of another length', { a: [1] }, { a: [1, 1] }, false],
  ['tables regardless of key order', { a: { p: 1, q: 2 } }, { a: { q: 2, p: 1 } }, true],
  ['tables with an extra key', { a: { p: 1 } }, { a: { p: 1, q: 2 } }, false],
  ['a table does not equal an array', { a: {} }, { a: [] }, false],
  ['inherited properties are not headers', { toString: null }, {}, false],
];

describe('headers matching', () => {
  for (const [name, binding, headers, expected] of cases) {
    it(name, () => assert.equal(matches(binding, headers), expected));
  }

  it('refuses an unknown or non-string x-match', () => {
    for (const value of ['none', 'ALL', 1, null, new Uint8Array([97, 108, 108])]) {
      assert.throws(() => parseHeadersMatchMode({ 'x-match': value }), (error) => isBrokerError(error, 'INVALID_ARGUMENT'));
    }
    assert.equal(parseHeadersMatchMode({}), 'all');
    assert.equal(parseHeadersMatchMode({ 'x-match': 'any-with-x' }), 'any-with-x');
  });

  it('compiles only the arguments that take part', () => {
    const compiled = compileHeadersBinding({ 'x-match': 'any', 'x-a': 1, b: 2, c: null });
    assert.equal(compiled.any, true);
    assert.deepEqual(compiled.names, ['b', 'c']);
    assert.deepEqual(compiled.values, [2, null]);
  });

  it('compares values and tables structurally', () => {
    assert.equal(headerValuesEqual(1.5, 1n), false);
    assert.equal(headerValuesEqual(2n, 2), true);
    assert.equal(headerValuesEqual(Number.NaN, Number.NaN), false);
    assert.equal(headerTablesEqual({ a: 1, b: [1n] }, { b: [1], a: 1 }), true);
    assert.equal(headerTablesEqual({ a: 1 }, { a: 1, b: undefined as unknown as null }), false);
  });
});
