import assert from 'node:assert/strict';
import { test } from 'node:test';
import { percentileOfSorted, relativeSpread, spreadOf, summariseLatencies } from './stats.js';

test('nearest-rank percentiles', () => {
  const values = Float64Array.from({ length: 1000 }, (_, index) => 1000 - index);
  const summary = summariseLatencies(values);
  assert.equal(summary.count, 1000);
  assert.equal(summary.p50, 500);
  assert.equal(summary.p99, 990);
  assert.equal(summary.p999, 999);
  assert.equal(summary.max, 1000);
  assert.equal(summary.mean, 500.5);
  assert.equal(percentileOfSorted([5], 0.999), 5);
  assert.ok(Number.isNaN(percentileOfSorted([], 0.5)));
});

test('median and spread across runs, ignoring failed runs', () => {
  assert.deepEqual(spreadOf([30, 10, 20]), { median: 20, min: 10, max: 30, runs: 3 });
  assert.deepEqual(spreadOf([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4, runs: 4 });
  assert.deepEqual(spreadOf([Number.NaN, 7]), { median: 7, min: 7, max: 7, runs: 1 });
  assert.equal(spreadOf([]).runs, 0);
  assert.equal(relativeSpread(spreadOf([90, 100, 120])), 0.2);
});
