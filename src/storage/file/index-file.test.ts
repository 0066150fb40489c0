import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeIndexFile, encodeIndexFile } from './index-file.js';
import { SegmentIndex } from './segment-index.js';

function sampleIndex(): SegmentIndex {
  const index = new SegmentIndex(100, 64);
  const timestamps = [50, 40, 60, 55, 70, 65, 80, 90, 85, 100];
  for (let i = 0; i < timestamps.length; i++) index.observe(100 + i, i * 30, timestamps[i]!, 30);
  return index;
}

describe('segment index', () => {
  it('takes sparse entries and finds positions by offset', () => {
    const index = sampleIndex();
    assert.deepEqual(index.offsets, [100, 103, 106, 109]);
    assert.deepEqual(index.positions, [0, 90, 180, 270]);
    assert.equal(index.nextOffset, 110);
    assert.equal(index.maxTimestamp, 100);
    assert.equal(index.entryForOffset(99), 0);
    assert.equal(index.entryForOffset(104), 1);
    assert.equal(index.entryForOffset(200), 3);
  });

  it('finds the entry to scan from for a timestamp using the running maximum', () => {
    const index = sampleIndex();
    assert.deepEqual(index.maxTimestampsBefore, [Number.NEGATIVE_INFINITY, 60, 70, 90]);
    assert.equal(index.entryForTimestamp(10), 0);
    assert.equal(index.entryForTimestamp(60), 0);
    assert.equal(index.entryForTimestamp(61), 1);
    assert.equal(index.entryForTimestamp(95), 3);
  });

  it('round-trips through the index file and rejects damaged or stale files', () => {
    const index = sampleIndex();
    const bytes = encodeIndexFile(index, 300);
    const decoded = decodeIndexFile(bytes, 100, 300)!;
    assert.deepEqual(decoded.offsets, index.offsets);
    assert.deepEqual(decoded.positions, index.positions);
    assert.deepEqual(decoded.maxTimestampsBefore, index.maxTimestampsBefore);
    assert.equal(decoded.maxTimestamp, 100);
    assert.equal(decoded.nextOffset, 110);
    assert.equal(decodeIndexFile(bytes, 100, 330), undefined, 'segment grew since');
    assert.equal(decodeIndexFile(bytes, 0, 300), undefined, 'another segment');
    assert.equal(decodeIndexFile(bytes.subarray(0, bytes.length - 1), 100, 300), undefined);
    for (const position of [0, 20, 44, 60, bytes.length - 1]) {
      const damaged = Buffer.from(bytes);
      damaged[position] = damaged[position]! ^ 0x04;
      assert.equal(decodeIndexFile(damaged, 100, 300), undefined, `byte ${position}`);
    }
  });
});
