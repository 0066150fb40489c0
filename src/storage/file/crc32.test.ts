import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { crc32, createJsCrc32 } from './crc32.js';

describe('crc32', () => {
  const js = createJsCrc32();

  it('matches the standard check value', () => {
    const data = new TextEncoder().encode('123456789');
    assert.equal(crc32(data), 0xcbf43926);
    assert.equal(js(data), 0xcbf43926);
    assert.equal(crc32(new Uint8Array(0)), 0);
  });

  it('continues from the initial value over empty input of every kind', () => {
    for (const empty of [new Uint8Array(0), new Uint8Array(new ArrayBuffer(0)), Buffer.alloc(0), new Uint8Array(4).subarray(4)]) {
      assert.equal(crc32(empty, 0xdeadbeef), 0xdeadbeef);
      assert.equal(js(empty, 0xdeadbeef), 0xdeadbeef);
    }
  });

  it('gives the same results in JS as natively, also when continued', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 0xffffffff }), (a, b, seed) => {
        assert.equal(js(a, seed), crc32(a, seed));
        assert.equal(js(a), crc32(a));
        const joined = new Uint8Array([...a, ...b]);
        assert.equal(js(b, js(a)), crc32(joined));
        assert.equal(crc32(b, crc32(a)), crc32(joined));
      }),
    );
  });
});
