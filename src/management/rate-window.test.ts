import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateWindow, roundRate } from './rate-window.js';

test('rates are the increase per second between two samples; zeros before the second', () => {
  const window = new RateWindow<string>();
  window.sample(1_000, [['q', [0, 0]]]);
  assert.deepEqual(window.ratesOf('q', 2), [0, 0]);
  window.sample(6_000, [['q', [10, 5]]]);
  assert.deepEqual(window.ratesOf('q', 2), [2, 1]);
  window.sample(8_000, [['q', [14, 5]]]);
  assert.deepEqual(window.ratesOf('q', 2), [2, 0]);
});

test('a key new since the last sample counts from zero; a key gone is forgotten', () => {
  const window = new RateWindow<string>();
  window.sample(0, [['old', [3]]]);
  window.sample(2_000, [['new', [4]]]);
  assert.deepEqual(window.ratesOf('new', 1), [2]);
  assert.deepEqual(window.ratesOf('old', 1), [0]);
  window.sample(4_000, [['old', [3]]]);
  assert.deepEqual(window.ratesOf('old', 1), [1.5], 'came back: counted from zero again');
});

test('totals that went down (a counter reset) give zero, not a negative rate', () => {
  const window = new RateWindow<string>();
  window.sample(0, [['q', [10]]]);
  window.sample(1_000, [['q', [2]]]);
  assert.deepEqual(window.ratesOf('q', 1), [0]);
});

test('roundRate keeps two decimals', () => {
  assert.equal(roundRate(1 / 3), 0.33);
  assert.equal(roundRate(2), 2);
});
