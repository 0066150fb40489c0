import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { payloadFor, readAll, runLogStoreContract } from '../log-store.contract.js';
import { SpillingLogStore } from './spilling-log-store.js';
import type { SpillingLog } from './spilling-log.js';

async function fixture(spillBytes: number) {
  const directory = await mkdtemp(join(tmpdir(), 'courier-spill-'));
  const store = await SpillingLogStore.create({ directory, spillBytes, segmentBytes: 4096 });
  return {
    store,
    directory,
    async reopen() {
      await store.close();
      return store;
    },
    async cleanup() {
      await store.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Spilled while the moves happen between appends: settles the move the first append started. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20));
}

// The whole contract twice: logs that stay in memory, and logs that move to disk almost at once.
runLogStoreContract('spilling (in memory)', () => fixture(1024 ** 3));
runLogStoreContract('spilling (to disk)', () => fixture(64));

describe('SpillingLogStore', () => {
  const never = { fsync: { mode: 'never' } } as const;

  it('moves a log past the threshold to disk with continuous offsets, then frees its memory', async () => {
    const f = await fixture(4096);
    try {
      const log = (await f.store.open('q', never)) as SpillingLog;
      for (let i = 0; i < 30; i++) log.append(1, 1000 + i, payloadFor(i, 100));
      await log.truncateBefore(10);
      for (let i = 30; i < 60; i++) log.append(1, 1000 + i, payloadFor(i, 100));
      // Appends during the move stay in memory and are moved with the rest.
      await waitFor(() => log.isSpilled);
      for (let i = 60; i < 80; i++) assert.equal(log.append(1, 1000 + i, payloadFor(i, 100)), i);
      assert.equal(log.startOffset, 10);
      assert.equal(log.endOffset, 80);
      const records = await readAll(log, 0);
      assert.deepEqual(records.map((record) => record.offset), Array.from({ length: 70 }, (_, i) => i + 10));
      for (const record of records) {
        assert.ok(Buffer.from(payloadFor(record.offset, 100)).equals(record.payload), `payload of ${record.offset}`);
        assert.equal(record.timestamp, 1000 + record.offset);
      }
      assert.equal(await log.offsetForTimestamp(1050), 50);
      // Until written, the file log holds the batch; after that nothing of the records stays in memory.
      await log.flush();
      assert.equal(log.memoryBytes, 0);
      assert.ok(log.sizeBytes >= 70 * 100);
      const scanned: number[] = [];
      await log.scan(75, (record) => scanned.push(record.offset));
      assert.deepEqual(scanned, [75, 76, 77, 78, 79]);
    } finally {
      await f.cleanup();
    }
  });

  it('keeps a spilled log across close and reopen, and deletes its files on remove', async () => {
    const f = await fixture(256);
    try {
      const log = (await f.store.open('gone', never)) as SpillingLog;
      for (let i = 0; i < 20; i++) log.append(0, i, payloadFor(i, 64));
      await waitFor(() => log.isSpilled);
      await log.close();
      const again = await f.store.open('gone', never);
      assert.equal(again.endOffset, 20);
      assert.deepEqual((await readAll(again, 0)).map((record) => record.offset), Array.from({ length: 20 }, (_, i) => i));
      assert.ok((await readdir(f.directory)).length > 0);
      await f.store.remove('gone');
      assert.deepEqual(await readdir(f.directory), []);
      assert.deepEqual(await f.store.list(), []);
    } finally {
      await f.cleanup();
    }
  });

  it('never creates a file for a log that stays small', async () => {
    const f = await fixture(1024 * 1024);
    try {
      const log = await f.store.open('small', never);
      for (let i = 0; i < 100; i++) log.append(0, i, payloadFor(i, 16));
      await settle();
      await f.store.remove('small');
      assert.deepEqual(await readdir(f.directory).catch(() => []), []);
    } finally {
      await f.cleanup();
    }
  });

  it('empties spill files of an earlier run when created', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'courier-spill-old-'));
    try {
      await mkdir(join(directory, 'left-over'), { recursive: true });
      await writeFile(join(directory, 'left-over', '00000000000000000000.log'), 'stale');
      const store = await SpillingLogStore.create({ directory, spillBytes: 64 });
      const log = await store.open('left-over', never);
      assert.equal(log.endOffset, 0);
      await store.close();
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the log to spill');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
