import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runPipeline } from './pipeline.js';

/** A fake log: operations issued in one turn share one confirmation, resolved on a later turn. */
function fakeGroupCommit(): { issue: () => Promise<void>; maxInflight: () => number; batches: () => number } {
  let current: { promise: Promise<void>; resolve: () => void; count: number } | undefined;
  let inflight = 0;
  let max = 0;
  let batches = 0;
  return {
    issue: () => {
      if (!current) {
        let resolve!: () => void;
        const promise = new Promise<void>((done) => (resolve = done));
        const batch = { promise, resolve, count: 0 };
        current = batch;
        batches += 1;
        setImmediate(() => {
          current = undefined;
          setImmediate(() => {
            inflight -= batch.count;
            batch.resolve();
          });
        });
      }
      current.count += 1;
      inflight += 1;
      max = Math.max(max, inflight);
      return current.promise;
    },
    maxInflight: () => max,
    batches: () => batches,
  };
}

test('issues every operation once, never more than the window, and counts shared confirmations once', async () => {
  const fake = fakeGroupCommit();
  const result = await runPipeline({ window: 50, chunk: 20, total: 1000, issue: fake.issue });
  assert.equal(result.completed, 1000);
  assert.ok(fake.maxInflight() <= 50, `in flight reached ${fake.maxInflight()}`);
  assert.equal(result.commits, fake.batches());
  assert.ok(result.commits < 1000, 'operations of one turn share a confirmation');
});

test('a time-bounded run stops issuing and waits for what is in flight', async () => {
  const fake = fakeGroupCommit();
  const result = await runPipeline({ window: 10, chunk: 5, seconds: 0.05, issue: fake.issue });
  assert.ok(result.completed > 0);
  assert.ok(result.seconds > 0);
});

test('a failing operation rejects the run', async () => {
  await assert.rejects(
    runPipeline({
      window: 10,
      chunk: 5,
      total: 100,
      issue: (sequence) => (sequence === 42 ? Promise.reject(new Error('disk full')) : Promise.resolve()),
    }),
    /disk full/,
  );
});
