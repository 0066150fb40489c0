import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isBrokerError } from '../../core/errors.js';
import type { LogOptions } from '../../core/ports.js';
import { payloadFor, readAll, runLogStoreContract } from '../log-store.contract.js';
import { fileFixture } from './test-support.js';
import type { FileFixture } from './test-support.js';

runLogStoreContract('file', () => fileFixture());

const small: LogOptions = { fsync: { mode: 'always' }, segmentBytes: 1024 };

async function withFixture(body: (fixture: FileFixture) => Promise<void>): Promise<void> {
  const fixture = await fileFixture({ indexIntervalBytes: 128 });
  try {
    await body(fixture);
  } finally {
    await fixture.cleanup();
  }
}

describe('FileLogStore files', () => {
  it('names segments by zero-padded base offset and writes an index for each sealed one', () =>
    withFixture(async (fixture) => {
      const log = await fixture.store.open('q', small);
      for (let i = 0; i < 100; i++) log.append(0, i, payloadFor(i, 40));
      await log.flush();
      const files = (await readdir(fixture.logDirectory('q'))).sort();
      const segments = files.filter((file) => file.endsWith('.log'));
      const indexes = files.filter((file) => file.endsWith('.idx'));
      assert.ok(segments.length >= 4, `${segments.length} segments`);
      assert.equal(segments[0], '00000000000000000000.log');
      for (const segment of segments) assert.match(segment, /^\d{20}\.log$/);
      // Every segment but the active one is sealed and indexed.
      assert.deepEqual(
        indexes,
        segments.slice(0, -1).map((segment) => segment.replace('.log', '.idx')),
      );
      for (const segment of segments.slice(0, -1)) {
        const { size } = await stat(join(fixture.logDirectory('q'), segment));
        assert.ok(size <= 1024, `${segment} has ${size} bytes`);
      }
    }));

  it('shares one flush promise among the callers of one batch, and flushed bytes are in the file', () =>
    withFixture(async (fixture) => {
      const log = await fixture.store.open('q', { fsync: { mode: 'always' } });
      log.append(1, 1, new Uint8Array([42]));
      const first = log.flush();
      log.append(1, 2, new Uint8Array([43]));
      assert.equal(log.flush(), first);
      await first;
      const [segment] = await fixture.segmentFiles('q');
      const bytes = await readFile(segment!);
      assert.equal(bytes.length, 2 * 26);
      assert.equal(bytes[25], 42);
      assert.equal(bytes[51], 43);
    }));

  it('serves appends made while a batch is being written, in order', () =>
    withFixture(async (fixture) => {
      const log = await fixture.store.open('q', small);
      const flushes: Promise<void>[] = [];
      for (let round = 0; round < 20; round++) {
        for (let i = 0; i < 10; i++) log.append(0, log.endOffset, payloadFor(log.endOffset, 30));
        flushes.push(log.flush());
        // Yield so writes are in flight while the next round appends.
        await new Promise((resolve) => setImmediate(resolve));
        const records = await readAll(log);
        assert.equal(records.length, log.endOffset);
      }
      await Promise.all(flushes);
      const records = await readAll(log);
      assert.deepEqual(
        records.map((record) => record.offset),
        Array.from({ length: 200 }, (_, i) => i),
      );
      for (const record of records) assert.deepEqual(new Uint8Array(record.payload), payloadFor(record.offset, 30));
    }));

  it('truncateBefore deletes segment and index files, also while reads are running', () =>
    withFixture(async (fixture) => {
      const log = await fixture.store.open('q', small);
      for (let i = 0; i < 200; i++) log.append(0, i, payloadFor(i, 40));
      await log.flush();
      const before = await readdir(fixture.logDirectory('q'));
      const reads = [log.read(0, 50, Number.POSITIVE_INFINITY), readAll(log, 0, 5)];
      const byTime = log.offsetForTimestamp(3);
      await log.truncateBefore(120);
      assert.ok((await byTime) >= 3);
      for (const records of await Promise.all(reads)) {
        const offsets = records.map((record) => record.offset);
        assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b));
        assert.ok(offsets.length > 0);
      }
      const after = await readdir(fixture.logDirectory('q'));
      assert.ok(after.length < before.length);
      const segments = after.filter((file) => file.endsWith('.log')).sort();
      assert.equal(Number(segments[0]!.slice(0, 20)), log.startOffset);
      assert.ok(after.filter((file) => file.endsWith('.idx')).every((file) => segments.includes(file.replace('.idx', '.log'))));
      assert.equal((await log.read(0, 1, 1))[0]!.offset, log.startOffset);
    }));

  it('refuses to open a log whose segment is not a file', () =>
    withFixture(async (fixture) => {
      const log = await fixture.store.open('q', small);
      log.append(0, 0, new Uint8Array(1));
      await log.close();
      await mkdir(join(fixture.logDirectory('q'), '00000000000000000005.log'));
      const store = await fixture.reopen();
      await assert.rejects(store.open('q', small), (error) => {
        assert.ok(isBrokerError(error, 'STORAGE_CORRUPT'));
        assert.match(error.message, /00000000000000000005\.log is not a regular file/);
        return true;
      });
    }));

  it('rejects invalid options', () =>
    withFixture(async (fixture) => {
      await assert.rejects(fixture.store.open('q', { fsync: { mode: 'never' }, segmentBytes: 0 }), (error) => isBrokerError(error, 'INVALID_ARGUMENT'));
      await assert.rejects(fixture.store.open('q', { fsync: { mode: 'interval', intervalMs: Number.NaN } }), (error) =>
        isBrokerError(error, 'INVALID_ARGUMENT'),
      );
    }));
});
