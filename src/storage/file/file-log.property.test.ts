import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Log, LogOptions } from '../../core/ports.js';
import { readAll } from '../log-store.contract.js';
import { fileFixture } from './test-support.js';

type Command =
  | { readonly type: 'append'; readonly kind: number; readonly timestamp: number; readonly payload: Uint8Array }
  | { readonly type: 'flush' }
  | { readonly type: 'reopen' }
  | { readonly type: 'read'; readonly from: number; readonly max: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      type: fc.constant('append' as const),
      kind: fc.integer({ min: 0, max: 255 }),
      timestamp: fc.double({ noNaN: true }),
      payload: fc.uint8Array({ maxLength: 300, size: 'medium' }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ type: 'flush' as const }) },
  { weight: 1, arbitrary: fc.constant({ type: 'reopen' as const }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('read' as const), from: fc.nat(200), max: fc.integer({ min: 1, max: 20 }) }) },
);

describe('FileLog property', () => {
  it('reads back exactly what was appended, across any appends, flushes and reopens', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 150, size: 'medium' }), fc.constantFrom(512, 2048, 1 << 20), async (commands, segmentBytes) => {
        const fixture = await fileFixture({ indexIntervalBytes: 256 });
        const options: LogOptions = { fsync: { mode: 'never' }, segmentBytes };
        const model: { kind: number; timestamp: number; payload: Uint8Array }[] = [];
        try {
          let log: Log = await fixture.store.open('p', options);
          for (const step of commands) {
            if (step.type === 'append') {
              assert.equal(log.append(step.kind, step.timestamp, step.payload), model.length);
              model.push({ kind: step.kind, timestamp: step.timestamp, payload: step.payload });
            } else if (step.type === 'flush') {
              await log.flush();
            } else if (step.type === 'reopen') {
              await log.close();
              log = await (await fixture.reopen()).open('p', options);
              assert.equal(log.endOffset, model.length);
            } else {
              const records = await log.read(step.from, step.max, Number.POSITIVE_INFINITY);
              const expected = model.slice(step.from, step.from + step.max);
              assert.deepEqual(
                records.map((r) => [r.offset, r.kind, r.timestamp, Buffer.from(r.payload).toString('hex')]),
                expected.map((r, i) => [step.from + i, r.kind, r.timestamp, Buffer.from(r.payload).toString('hex')]),
              );
            }
          }
          const all = await readAll(log, 0, 13);
          assert.equal(all.length, model.length);
          all.forEach((record, i) => {
            assert.equal(record.offset, i);
            assert.equal(record.kind, model[i]!.kind);
            assert.ok(Object.is(record.timestamp, model[i]!.timestamp));
            assert.deepEqual(new Uint8Array(record.payload), model[i]!.payload);
          });
          assert.equal(fixture.reports.length, 0);
        } finally {
          await fixture.cleanup();
        }
      }),
      { numRuns: 40 },
    );
  });
});
