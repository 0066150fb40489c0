import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptySnapshot } from '../../core/ports.js';
import type { MetadataSnapshot } from '../../core/ports.js';
import { payloadFor, runLogStoreContract } from '../log-store.contract.js';
import { MemoryLogStore } from './memory-log-store.js';
import { MemoryMetadataStore } from './memory-metadata-store.js';

runLogStoreContract('memory', () => {
  const store = new MemoryLogStore();
  return Promise.resolve({
    store,
    async reopen() {
      await store.close();
      return store;
    },
    cleanup: () => store.close(),
  });
});

describe('MemoryLogStore', () => {
  it('truncateBefore frees exactly the records below the offset', async () => {
    const store = new MemoryLogStore();
    const log = await store.open('q', { fsync: { mode: 'never' } });
    for (let i = 0; i < 5_000; i++) log.append(0, i, payloadFor(i, 100));
    const full = log.sizeBytes;
    await log.truncateBefore(4_000);
    assert.equal(log.startOffset, 4_000);
    assert.equal(log.sizeBytes, full / 5);
    const [first] = await log.read(0, 1, 1_000);
    assert.equal(first!.offset, 4_000);
    await log.truncateBefore(99_999);
    assert.equal(log.startOffset, 5_000);
    assert.equal(log.sizeBytes, 0);
    assert.equal(log.append(0, 0, new Uint8Array(1)), 5_000);
  });

  it('keeps every payload intact across slab boundaries, large ones apart, and drops slabs as it truncates', async () => {
    const store = new MemoryLogStore();
    const log = await store.open('q', { fsync: { mode: 'never' } });
    // Sizes 0 .. 12 KiB: small ones share slabs of growing size, ones past 8 KiB get their own buffer.
    const sizeOf = (i: number): number => (i * 7919) % (12 * 1024);
    const scratch = new Uint8Array(12 * 1024);
    for (let i = 0; i < 3_000; i++) {
      const payload = payloadFor(i, sizeOf(i));
      scratch.set(payload);
      log.append(0, i, scratch.subarray(0, payload.length));
      scratch.fill(0xee); // the caller reuses its buffer at once
    }
    await log.truncateBefore(1_000);
    const records = await log.read(1_000, 10_000, Number.MAX_SAFE_INTEGER);
    assert.equal(records.length, 2_000);
    for (const record of records) assert.deepEqual(record.payload, payloadFor(record.offset, sizeOf(record.offset)), `offset ${record.offset}`);
    const before = log.memoryBytes;
    await log.truncateBefore(2_999);
    assert.ok(log.memoryBytes < before / 100, `${log.memoryBytes} bytes counted with one record left`);
  });
});

describe('MemoryMetadataStore', () => {
  it('starts empty and returns deep copies of what was saved', async () => {
    const store = new MemoryMetadataStore();
    assert.deepEqual(await store.load(), emptySnapshot());
    const snapshot: MetadataSnapshot = {
      ...emptySnapshot(),
      queues: [{ name: 'q', durable: true, autoDelete: false, exclusive: false, arguments: { big: 10n, raw: new Uint8Array([1, 2]) } }],
    };
    await store.save(snapshot);
    const loaded = await store.load();
    assert.deepEqual(loaded, snapshot);
    assert.notEqual(loaded.queues[0], snapshot.queues[0]);
    await store.close();
  });
});
