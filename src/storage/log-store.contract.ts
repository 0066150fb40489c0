/**
 * The behaviour every LogStore implementation owes the core, run against the file and the memory store
 * (NATS server's pattern: one storage interface, one shared contract suite).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBrokerError } from '../core/errors.js';
import type { Log, LogOptions, LogRecord, LogStore } from '../core/ports.js';

export interface LogStoreFixture {
  readonly store: LogStore;
  /** Closes the store and returns one over the same data, as a broker restart would. */
  reopen(): Promise<LogStore>;
  /** Closes the store and deletes whatever the fixture created. */
  cleanup(): Promise<void>;
}

export type LogStoreFactory = () => Promise<LogStoreFixture>;

const never: LogOptions = { fsync: { mode: 'never' } };
const small: LogOptions = { fsync: { mode: 'never' }, segmentBytes: 1024 };

export function payloadFor(offset: number, size = 16): Uint8Array {
  const payload = new Uint8Array(size);
  for (let i = 0; i < size; i++) payload[i] = (offset * 31 + i * 7) & 0xff;
  return payload;
}

/** Reads every record from `from` to the end, in calls of `batch` records. */
export async function readAll(log: Log, from = 0, batch = 7): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  let next = from;
  for (;;) {
    const records = await log.read(next, batch, Number.POSITIVE_INFINITY);
    if (records.length === 0) return out;
    out.push(...records);
    next = records[records.length - 1]!.offset + 1;
  }
}

function appendMany(log: Log, count: number, size = 16, timestamp = (offset: number) => 1_000 + offset): number[] {
  const offsets: number[] = [];
  for (let i = 0; i < count; i++) {
    const offset = log.endOffset;
    offsets.push(log.append(offset % 5, timestamp(offset), payloadFor(offset, size)));
  }
  return offsets;
}

function assertRecords(records: readonly LogRecord[], from: number, to: number, size = 16): void {
  assert.deepEqual(
    records.map((record) => record.offset),
    Array.from({ length: to - from }, (_, i) => from + i),
  );
  for (const record of records) {
    assert.equal(record.kind, record.offset % 5);
    assert.equal(record.timestamp, 1_000 + record.offset);
    assert.deepEqual(new Uint8Array(record.payload), payloadFor(record.offset, size));
  }
}

function isClosedError(error: unknown): boolean {
  return isBrokerError(error, 'LOG_CLOSED');
}

export function runLogStoreContract(label: string, factory: LogStoreFactory): void {
  describe(`LogStore contract: ${label}`, () => {
    async function withStore(body: (fixture: LogStoreFixture) => Promise<void>): Promise<void> {
      const fixture = await factory();
      try {
        await body(fixture);
      } finally {
        await fixture.cleanup();
      }
    }

    it('gives consecutive offsets from 0 and reads records back in order', () =>
      withStore(async ({ store }) => {
        const log = await store.open('orders', never);
        assert.equal(log.name, 'orders');
        assert.equal(log.startOffset, 0);
        assert.equal(log.endOffset, 0);
        assert.deepEqual(appendMany(log, 50), Array.from({ length: 50 }, (_, i) => i));
        assert.equal(log.endOffset, 50);
        await log.flush();
        assertRecords(await readAll(log), 0, 50);
        assertRecords(await readAll(log, 20, 3), 20, 50);
        assert.deepEqual(await log.read(50, 10, 1_000), []);
        assert.deepEqual(await log.read(1_000, 10, 1_000), []);
        assert.ok(log.sizeBytes >= 50 * 16);
      }));

    it('reads records appended but not yet flushed (read-your-writes)', () =>
      withStore(async ({ store }) => {
        const log = await store.open('q', never);
        appendMany(log, 10);
        await log.flush();
        appendMany(log, 5);
        const records = await log.read(8, 100, Number.POSITIVE_INFINITY);
        assertRecords(records, 8, 15);
        await log.flush();
        assertRecords(await readAll(log), 0, 15);
      }));

    it('respects maxRecords and maxBytes but returns at least one record', () =>
      withStore(async ({ store }) => {
        const log = await store.open('q', never);
        appendMany(log, 20, 100);
        await log.flush();
        assert.equal((await log.read(0, 3, Number.POSITIVE_INFINITY)).length, 3);
        const byBytes = await log.read(0, 100, 250);
        assert.ok(byBytes.length >= 2 && byBytes.length <= 3, `got ${byBytes.length} records`);
        assert.equal((await log.read(5, 100, 1)).length, 1);
        assert.deepEqual(await log.read(0, 0, 1_000), []);
      }));

    it('copies payloads: the caller may reuse its buffer and owns what read returns', () =>
      withStore(async ({ store }) => {
        const log = await store.open('q', never);
        const buffer = new Uint8Array([1, 2, 3]);
        log.append(1, 5, buffer);
        buffer.fill(9);
        const [first] = await log.read(0, 1, 100);
        assert.deepEqual(new Uint8Array(first!.payload), new Uint8Array([1, 2, 3]));
        first!.payload.fill(7);
        await log.flush();
        const [again] = await log.read(0, 1, 100);
        assert.deepEqual(new Uint8Array(again!.payload), new Uint8Array([1, 2, 3]));
      }));

    it('stores empty payloads, kinds 0..255 and fractional timestamps, and refuses other kinds', () =>
      withStore(async ({ store }) => {
        const log = await store.open('q', never);
        log.append(0, 1.5, new Uint8Array(0));
        log.append(255, -3, new Uint8Array([1]));
        await log.flush();
        const records = await log.read(0, 10, 100);
        assert.deepEqual(
          records.map((r) => [r.offset, r.kind, r.timestamp, r.payload.length]),
          [
            [0, 0, 1.5, 0],
            [1, 255, -3, 1],
          ],
        );
        assert.throws(() => log.append(256, 0, new Uint8Array(0)), (error) => isBrokerError(error, 'INVALID_ARGUMENT'));
        assert.throws(() => log.append(1.5, 0, new Uint8Array(0)), (error) => isBrokerError(error, 'INVALID_ARGUMENT'));
        assert.equal(log.endOffset, 2);
      }));

    it('scans every record from an offset to the end, flushed or not', () =>
      withStore(async ({ store }) => {
        const log = await store.open('q', small);
        appendMany(log, 60);
        await log.flush();
        appendMany(log, 5);
        const seen: LogRecord[] = [];
        await log.scan(10, (record) => seen.push({ ...record, payload: new Uint8Array(record.payload) }));
        assertRecords(seen, 10, 65);
      }));

    it('flush resolves for every fsync policy and the data survives a reopen', () =>
      withStore(async (fixture) => {
        const policies: LogOptions[] = [
          { fsync: { mode: 'always' } },
          { fsync: { mode: 'interval', intervalMs: 1 } },
          { fsync: { mode: 'never' } },
        ];
        for (const [i, options] of policies.entries()) {
          const log = await fixture.store.open(`policy-${i}`, options);
          appendMany(log, 10);
          await Promise.all([log.flush(), log.flush()]);
          appendMany(log, 10);
          await log.flush();
          await log.flush();
        }
        const store = await fixture.reopen();
        for (let i = 0; i < policies.length; i++) {
          const log = await store.open(`policy-${i}`, never);
          assertRecords(await readAll(log), 0, 20);
        }
      }));

    it('rolls segments and reads across them', () =>
      withStore(async ({ store }) => {
        const log = await store.open('q', small);
        appendMany(log, 300, 40);
        await log.flush();
        assertRecords(await readAll(log, 0, 13), 0, 300, 40);
        assertRecords(await log.read(123, 1, 1), 123, 124, 40);
        // A record bigger than a segment still fits (alone).
        const big = new Uint8Array(5_000).fill(3);
        const offset = log.append(1, 0, big);
        await log.flush();
        const [stored] = await log.read(offset, 1, 1);
        assert.deepEqual(new Uint8Array(stored!.payload), big);
      }));

    it('truncateBefore drops whole ranges below the offset and keeps the rest', () =>
      withStore(async (fixture) => {
        const log = await fixture.store.open('q', small);
        appendMany(log, 300, 40);
        await log.flush();
        const sizeBefore = log.sizeBytes;
        await log.truncateBefore(150);
        assert.ok(log.startOffset > 0 && log.startOffset <= 150, `startOffset ${log.startOffset}`);
        assert.ok(log.sizeBytes < sizeBefore);
        assert.equal(log.endOffset, 300);
        const rest = await readAll(log, 0);
        assert.equal(rest[0]!.offset, log.startOffset);
        assertRecords(rest, log.startOffset, 300, 40);
        await log.truncateBefore(10); // below startOffset: nothing happens
        assert.ok(log.startOffset > 0);

        await log.truncateBefore(log.endOffset);
        assert.equal(log.startOffset, 300);
        assert.equal(log.endOffset, 300);
        assert.deepEqual(await log.read(0, 10, 1_000), []);
        assert.equal(log.append(0, 1_300, payloadFor(300, 40)), 300);
        await log.flush();

        const store = await fixture.reopen();
        const reopened = await store.open('q', small);
        assert.equal(reopened.startOffset, 300);
        assert.equal(reopened.endOffset, 301);
        assertRecords(await readAll(reopened), 300, 301, 40);
      }));

    it('finds the first offset at or after a timestamp, with timestamps out of order', () =>
      withStore(async ({ store }) => {
        const log = await store.open('q', small);
        const timestamps: number[] = [];
        for (let i = 0; i < 200; i++) {
          // Rising overall, with local disorder.
          const timestamp = 10_000 + i * 10 + ((i * 37) % 50) - 25;
          timestamps.push(timestamp);
          log.append(0, timestamp, payloadFor(i, 40));
          if (i === 150) await log.flush();
        }
        const expected = (t: number): number => {
          const found = timestamps.findIndex((ts) => ts >= t);
          return found < 0 ? timestamps.length : found;
        };
        for (const t of [0, 9_975, 10_000, 10_333, 10_777, 11_000, 11_500, 11_990, 12_100, 99_999]) {
          assert.equal(await log.offsetForTimestamp(t), expected(t), `timestamp ${t}`);
        }
        await log.flush();
        for (const t of [10_500, 11_999]) assert.equal(await log.offsetForTimestamp(t), expected(t));
      }));

    it('reopening keeps every record, the offsets and the sizes', () =>
      withStore(async (fixture) => {
        const log = await fixture.store.open('q', small);
        appendMany(log, 120, 30);
        await log.flush();
        const size = log.sizeBytes;
        await log.close();
        const store = await fixture.reopen();
        const reopened = await store.open('q', small);
        assert.equal(reopened.endOffset, 120);
        assert.equal(reopened.sizeBytes, size);
        assertRecords(await readAll(reopened), 0, 120, 30);
        assert.equal(reopened.append(120 % 5, 1_120, payloadFor(120, 30)), 120);
        await reopened.flush();
        assertRecords(await readAll(reopened), 0, 121, 30);
      }));

    it('closing a log writes what was buffered', () =>
      withStore(async (fixture) => {
        const log = await fixture.store.open('q', never);
        appendMany(log, 25);
        await log.close();
        const store = await fixture.reopen();
        assertRecords(await readAll(await store.open('q', never)), 0, 25);
      }));

    it('lists logs and removes them with their records', () =>
      withStore(async ({ store }) => {
        const a = await store.open('a', never);
        await store.open('b', never);
        appendMany(a, 5);
        await a.flush();
        assert.deepEqual((await store.list()).sort(), ['a', 'b']);
        await store.remove('a');
        assert.deepEqual(await store.list(), ['b']);
        await assert.rejects(a.read(0, 1, 1), isClosedError);
        await store.remove('never-existed');
        const fresh = await store.open('a', never);
        assert.equal(fresh.endOffset, 0);
        assert.deepEqual(await fresh.read(0, 10, 1_000), []);
      }));

    it('keeps names with any characters apart and lists them exactly', () =>
      withStore(async (fixture) => {
        const names = ['', '.', '..', 'a/b', '../x', 'a.b', 'Queue', 'queue', '%2e', 'l-x', 'h-y', 'ümlaut/ü', '日本語', '😀', 'x'.repeat(300), 'con', 'a\\b', 'a b'];
        for (const [i, name] of names.entries()) {
          const log = await fixture.store.open(name, never);
          log.append(0, i, new TextEncoder().encode(`record of ${i}`));
          await log.flush();
        }
        assert.deepEqual((await fixture.store.list()).sort(), [...names].sort());
        const store = await fixture.reopen();
        assert.deepEqual((await store.list()).sort(), [...names].sort());
        for (const [i, name] of names.entries()) {
          const records = await (await store.open(name, never)).read(0, 10, 1_000);
          assert.equal(records.length, 1, `log ${JSON.stringify(name)}`);
          assert.equal(new TextDecoder().decode(records[0]!.payload), `record of ${i}`);
        }
      }));

    it('refuses use after close, and close is idempotent', () =>
      withStore(async ({ store }) => {
        const log = await store.open('q', never);
        appendMany(log, 3);
        await log.close();
        await log.close();
        assert.throws(() => log.append(0, 0, new Uint8Array(1)), isClosedError);
        await assert.rejects(log.read(0, 1, 1), isClosedError);
        await assert.rejects(log.scan(0, () => {}), isClosedError);
        await assert.rejects(log.offsetForTimestamp(0), isClosedError);
        await assert.rejects(log.truncateBefore(1), isClosedError);
        const again = await store.open('q', never);
        assert.notEqual(again, log);
        assertRecords(await readAll(again), 0, 3);
      }));

    it('returns the open log to a second open of the same name, and store close closes all logs', () =>
      withStore(async ({ store }) => {
        const [first, second] = await Promise.all([store.open('q', never), store.open('q', never)]);
        assert.equal(first, second);
        const other = await store.open('other', never);
        appendMany(first, 2);
        await store.close();
        assert.throws(() => first.append(0, 0, new Uint8Array(1)), isClosedError);
        assert.throws(() => other.append(0, 0, new Uint8Array(1)), isClosedError);
        const reopened = await store.open('q', never);
        assertRecords(await readAll(reopened), 0, 2);
      }));
  });
}
