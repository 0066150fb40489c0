import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { OffsetRangeSet } from './offset-range-set.js';

type Operation = { readonly kind: 'add'; readonly start: number; readonly end: number } | { readonly kind: 'dropBelow'; readonly offset: number };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('add' as const), start: fc.nat(60), end: fc.nat(64) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('dropBelow' as const), offset: fc.nat(64) }) },
);

describe('OffsetRangeSet', () => {
  it('holds exactly the offsets a plain set holds, as disjoint non-adjacent ranges, after any operations', () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 60 }), (operations) => {
        const set = new OffsetRangeSet();
        const model = new Set<number>();
        for (const op of operations) {
          if (op.kind === 'add') {
            set.addRange(op.start, op.end);
            for (let offset = op.start; offset < op.end; offset++) model.add(offset);
          } else {
            set.dropBelow(op.offset);
            for (const offset of [...model]) if (offset < op.offset) model.delete(offset);
          }
        }
        for (let offset = 0; offset < 70; offset++) assert.equal(set.has(offset), model.has(offset), `offset ${offset}`);
        assert.equal(set.countInRange(0, 70), model.size);
        // Disjoint and non-adjacent: as many ranges as runs of consecutive offsets in the model.
        const sorted = [...model].sort((a, b) => a - b);
        const runs = sorted.filter((offset, i) => i === 0 || sorted[i - 1] !== offset - 1).length;
        assert.equal(set.rangeCount, runs);
        for (let from = 0; from < 70; from++) {
          let expected = from;
          while (model.has(expected)) expected++;
          assert.equal(set.firstAbsentFrom(from), expected);
        }
      }),
      { numRuns: 500 },
    );
  });
});
