import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BODY_BYTES, bodyIsIntact, bodySequence, sequencedBody } from './body.js';

test('a sequenced body carries its number and a pattern the check recognises', () => {
  for (const sequence of [0, 1, 255, 256, 65_535, 999_999, 0xffff_ffff]) {
    const body = sequencedBody(sequence);
    assert.equal(body.byteLength, BODY_BYTES);
    assert.equal(bodySequence(body), sequence);
    assert.ok(bodyIsIntact(body));
  }
});

test('bodies are not shared and damage is detected', () => {
  const first = sequencedBody(7);
  const second = sequencedBody(7);
  assert.notEqual(first.buffer, second.buffer);
  second[BODY_BYTES - 1] = second[BODY_BYTES - 1]! ^ 0xff;
  assert.equal(bodyIsIntact(second), false);
  assert.equal(bodyIsIntact(first.subarray(0, 100)), false);
  assert.ok(bodyIsIntact(first));
});
