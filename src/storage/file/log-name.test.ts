import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeLogName, encodeLogName, isHashedDirectory } from './log-name.js';

describe('log names on disk', () => {
  it('encodes to safe, lower-case directory names that decode back', () => {
    for (const name of ['', '.', '..', 'a/b', 'Queue', 'orders.created', 'ü', '😀', 'con', '%41']) {
      const { directory, hashed } = encodeLogName(name);
      assert.equal(hashed, false);
      assert.match(directory, /^l-[a-z0-9_%-]*$/);
      assert.equal(decodeLogName(directory), name);
    }
    assert.notEqual(encodeLogName('Queue').directory, encodeLogName('queue').directory);
    assert.equal(encodeLogName('orders.created').directory, 'l-orders%2ecreated');
  });

  it('hashes long names into a fixed-length directory name', () => {
    const { directory, hashed } = encodeLogName('é'.repeat(100));
    assert.equal(hashed, true);
    assert.ok(isHashedDirectory(directory));
    assert.equal(decodeLogName(directory), undefined);
    assert.notEqual(encodeLogName('é'.repeat(101)).directory, directory);
  });

  it('ignores directories it did not write', () => {
    for (const directory of ['queue', 'l-A', 'l-%4', 'l-%61', 'l-%4A', 'l-%zz', 'h-123']) {
      assert.equal(decodeLogName(directory), undefined, directory);
      assert.equal(isHashedDirectory(directory), false, directory);
    }
  });

  it('round-trips any string of valid UTF-8', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (name) => {
        const { directory, hashed } = encodeLogName(name);
        if (!hashed) assert.equal(decodeLogName(directory), name);
        assert.ok(directory.length <= 202);
      }),
    );
  });
});
