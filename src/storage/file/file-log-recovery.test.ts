import assert from 'node:assert/strict';
import { readFile, readdir, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { LogOptions, LogRecord } from '../../core/ports.js';
import { payloadFor, readAll } from '../log-store.contract.js';
import { fileFixture } from './test-support.js';
import type { FileFixture } from './test-support.js';

const RECORD = 25 + 40;
const options: LogOptions = { fsync: { mode: 'always' }, segmentBytes: RECORD * 10 };

async function withFixture(body: (fixture: FileFixture) => Promise<void>): Promise<void> {
  const fixture = await fileFixture({ indexIntervalBytes: RECORD * 3 });
  try {
    await body(fixture);
  } finally {
    await fixture.cleanup();
  }
}

/** Writes `count` records of 40 bytes (10 per segment) and closes the store. */
async function writeRecords(fixture: FileFixture, count: number): Promise<void> {
  const log = await fixture.store.open('q', options);
  for (let i = 0; i < count; i++) log.append(1, 1_000 + i, payloadFor(i, 40));
  await log.close();
}

async function flipByte(path: string, position: number): Promise<void> {
  const bytes = await readFile(path);
  bytes[position] = bytes[position]! ^ 0x10;
  await writeFile(path, bytes);
}

function offsets(records: readonly LogRecord[]): number[] {
  return records.map((record) => record.offset);
}

function range(from: number, to: number, except: number[] = []): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i).filter((offset) => !except.includes(offset));
}

function checkPayloads(records: readonly LogRecord[]): void {
  for (const record of records) assert.deepEqual(new Uint8Array(record.payload), payloadFor(record.offset, 40));
}

describe('FileLog recovery', () => {
  it('truncates a torn tail on open and reports it', () =>
    withFixture(async (fixture) => {
      await writeRecords(fixture, 25);
      const last = (await fixture.segmentFiles('q')).at(-1)!;
      const { size } = await stat(last);
      await truncate(last, size - 7);
      const log = await (await fixture.reopen()).open('q', options);
      assert.equal(fixture.reports.length, 1);
      const [report] = fixture.reports;
      assert.equal(report!.action, 'truncated');
      assert.equal(report!.offset, 24);
      assert.equal(report!.location, last);
      assert.equal(report!.bytes, RECORD - 7);
      assert.equal(log.endOffset, 24);
      assert.equal((await stat(last)).size, size - RECORD);
      const records = await readAll(log);
      assert.deepEqual(offsets(records), range(0, 24));
      checkPayloads(records);
      assert.equal(log.append(1, 0, payloadFor(24, 40)), 24);
      await log.flush();
      assert.deepEqual(offsets(await readAll(log)), range(0, 25));
    }));

  it('truncates a last record with a flipped bit and reports it', () =>
    withFixture(async (fixture) => {
      await writeRecords(fixture, 25);
      const last = (await fixture.segmentFiles('q')).at(-1)!;
      const { size } = await stat(last);
      await flipByte(last, size - 3);
      const log = await (await fixture.reopen()).open('q', options);
      assert.deepEqual(
        fixture.reports.map((r) => [r.action, r.offset, r.bytes]),
        [['truncated', 24, RECORD]],
      );
      assert.equal(log.endOffset, 24);
      assert.deepEqual(offsets(await readAll(log)), range(0, 24));
    }));

  it('truncates a tail of zeros (a partly persisted write) and keeps the records before it', () =>
    withFixture(async (fixture) => {
      await writeRecords(fixture, 5);
      const [segment] = await fixture.segmentFiles('q');
      const bytes = await readFile(segment!);
      await writeFile(segment!, Buffer.concat([bytes, Buffer.alloc(100)]));
      const log = await (await fixture.reopen()).open('q', options);
      assert.deepEqual(
        fixture.reports.map((r) => [r.action, r.offset, r.bytes]),
        [['truncated', 5, 100]],
      );
      assert.deepEqual(offsets(await readAll(log)), range(0, 5));
    }));

  it('quarantines a damaged record in the middle of the last segment and keeps the records after it', () =>
    withFixture(async (fixture) => {
      await writeRecords(fixture, 25);
      const last = (await fixture.segmentFiles('q')).at(-1)!;
      await flipByte(last, RECORD * 2 + 30); // record 22's payload
      const log = await (await fixture.reopen()).open('q', options);
      assert.deepEqual(
        fixture.reports.map((r) => [r.action, r.offset, r.bytes]),
        [['quarantined', 22, RECORD]],
      );
      assert.equal(log.endOffset, 25);
      const records = await readAll(log);
      assert.deepEqual(offsets(records), range(0, 25, [22]));
      checkPayloads(records);
      assert.equal(fixture.reports.length, 1, 'a quarantined range is reported once');
    }));

  for (const withIndex of [true, false]) {
    it(`reports a damaged record in an earlier segment as quarantined and reads past it (${withIndex ? 'index present' : 'index rebuilt'})`, () =>
      withFixture(async (fixture) => {
        await writeRecords(fixture, 40);
        const segments = await fixture.segmentFiles('q');
        assert.equal(segments.length, 4);
        const middle = segments[1]!;
        await flipByte(middle, RECORD * 4 + 10); // header of record 14: the offset field
        if (!withIndex) await unlink(middle.replace('.log', '.idx'));
        const log = await (await fixture.reopen()).open('q', options);
        assert.equal(fixture.reports.length, 0, 'earlier segments are not scanned at open');
        const records = await readAll(log, 0, 100);
        assert.deepEqual(offsets(records), range(0, 40, [14]));
        checkPayloads(records);
        assert.deepEqual(
          fixture.reports.map((r) => [r.action, r.offset, r.location, r.bytes]),
          [['quarantined', 14, middle, RECORD]],
        );
        // Reading again, or from inside the damage, does not report it twice and still skips it.
        assert.deepEqual(offsets(await log.read(14, 2, 10_000)), [15, 16]);
        assert.deepEqual(offsets(await readAll(log, 10, 3)), range(10, 40, [14]));
        const scanned: number[] = [];
        await log.scan(0, (record) => scanned.push(record.offset));
        assert.deepEqual(scanned, range(0, 40, [14]));
        assert.equal(fixture.reports.length, 1);
        assert.equal(await log.offsetForTimestamp(1_014), 15);
      }));
  }

  it('continues with the next segment when the rest of a segment is unreadable', () =>
    withFixture(async (fixture) => {
      await writeRecords(fixture, 30);
      const segments = await fixture.segmentFiles('q');
      await truncate(segments[0]!, RECORD * 6 + 5);
      await unlink(segments[0]!.replace('.log', '.idx'));
      const log = await (await fixture.reopen()).open('q', options);
      assert.deepEqual(offsets(await readAll(log)), range(0, 30, [6, 7, 8, 9]));
      assert.deepEqual(
        fixture.reports.map((r) => [r.action, r.offset, r.bytes]),
        [['quarantined', 6, 5]],
      );
    }));

  it('rebuilds missing or invalid index files from the segments', () =>
    withFixture(async (fixture) => {
      await writeRecords(fixture, 40);
      const directory = fixture.logDirectory('q');
      const indexes = (await readdir(directory)).filter((file) => file.endsWith('.idx')).sort();
      assert.equal(indexes.length, 3);
      const original = await readFile(join(directory, indexes[1]!));
      await unlink(join(directory, indexes[0]!));
      await writeFile(join(directory, indexes[1]!), Buffer.from('not an index'));
      const log = await (await fixture.reopen()).open('q', options);
      assert.deepEqual(offsets(await log.read(5, 3, 10_000)), [5, 6, 7]);
      assert.deepEqual(offsets(await log.read(17, 2, 10_000)), [17, 18]);
      assert.equal(await log.offsetForTimestamp(1_013), 13);
      const rebuilt = (await readdir(directory)).filter((file) => file.endsWith('.idx')).sort();
      assert.deepEqual(rebuilt, indexes);
      assert.deepEqual(await readFile(join(directory, indexes[1]!)), original);
      assert.equal(fixture.reports.length, 0);
    }));

  it('removes index files left without their segment', () =>
    withFixture(async (fixture) => {
      await writeRecords(fixture, 5);
      const stray = join(fixture.logDirectory('q'), '00000000000000000999.idx');
      await writeFile(stray, 'x');
      await (await fixture.reopen()).open('q', options);
      await assert.rejects(stat(stray), { code: 'ENOENT' });
    }));
});
