import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLoopbackMatcher } from './loopback.js';

describe('loopback addresses', () => {
  const isLoopback = createLoopbackMatcher();
  const cases: [string, boolean][] = [
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['127.255.255.255', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['::1%lo', true],
    ['128.0.0.1', false],
    ['126.255.255.255', false],
    ['10.0.0.1', false],
    ['0.0.0.0', false],
    ['::', false],
    ['::2', false],
    ['::ffff:10.0.0.1', false],
    ['::127.0.0.1', false],
    ['fe80::1', false],
    ['localhost', false],
    ['', false],
    ['/tmp/courier.sock', false],
  ];
  for (const [address, expected] of cases) {
    it(`${JSON.stringify(address)} is ${expected ? '' : 'not '}loopback`, () => {
      assert.equal(isLoopback(address), expected);
    });
  }
});
