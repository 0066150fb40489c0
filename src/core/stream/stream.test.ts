 
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../clock.js';
import { isBrokerError } from '../errors.js';
import type { HeaderTable } from '../message/message.js';
import type { Clock, MetricLabels, Metrics } from '../ports.js';
import { STREAM_RECORD_MESSAGE } from './stream-records.js';
import { Stream, type StreamOptions } from './stream.js';
import { ArrayLog, TEST_RECORD_OVERHEAD, type ArrayLogOptions } from './test-log.js';
import { bodyText, jsonTestCodec, textMessage, waitFor } from './test-support.js';

const MINUTE = 60_000;
/** Every test message encodes to the same size, so byte limits can be counted in records. */
const RECORD_BYTES = jsonTestCodec.encode(textMessage('m000')).length + TEST_RECORD_OVERHEAD;

function setup(args: HeaderTable = {}, logOptions: ArrayLogOptions = {}, extra: Partial<StreamOptions> = {}) {
  const log = new ArrayLog(logOptions);
  const clock = new ManualClock();
  const commits: Array<[string, string, number]> = [];
  const stream = new Stream({
    name: 'events',
    log,
    arguments: args,
    codec: jsonTestCodec,
    clock,
    onOffsetCommit: (name, consumer, offset) => commits.push([name, consumer, offset]),
    ...extra,
  });
  return { log, clock, stream, commits };
}

function appendMany(stream: Stream, count: number): void {
  for (let i = 0; i < count; i++) stream.append(textMessage(`m${String(i % 1000).padStart(3, '0')}`));
}

describe('stream append and stats', () => {
  it('appends message records with increasing offsets and reports stats', async () => {
    const { stream, log, clock } = setup();
    assert.deepEqual(stream.stats(), {
      name: 'events',
      firstOffset: 0,
      lastOffset: undefined,
      endOffset: 0,
      messageCount: 0,
      sizeBytes: 0,
      readerCount: 0,
    });
    assert.equal(stream.append(textMessage('a')), 0);
    assert.equal(stream.append(textMessage('b')), 1);
    await stream.flush();
    assert.equal(log.flushes, 1);
    const records = await log.read(0, 10, 1 << 20);
    assert.deepEqual(
      records.map((record) => [record.offset, record.kind, record.timestamp]),
      [
        [0, STREAM_RECORD_MESSAGE, clock.now()],
        [1, STREAM_RECORD_MESSAGE, clock.now()],
      ],
    );
    assert.equal(bodyText(jsonTestCodec.decode(records[1]!.payload)), 'b');
    const stats = stream.stats();
    assert.equal(stats.lastOffset, 1);
    assert.equal(stats.endOffset, 2);
    assert.equal(stats.messageCount, 2);
    assert.equal(stats.sizeBytes, log.sizeBytes);
    assert.ok(stats.sizeBytes > 0);
  });

  it('stores pre-encoded bytes as given, so fan-out encodes once', async () => {
    const { stream, log } = setup();
    let encodes = 0;
    const message = textMessage('shared');
    const encoded = jsonTestCodec.encode(message);
    const counting = {
      ...jsonTestCodec,
      encode: (m: typeof message) => {
        encodes += 1;
        return jsonTestCodec.encode(m);
      },
    };
    const other = new Stream({ name: 'other', log: new ArrayLog(), arguments: {}, codec: counting, clock: new ManualClock() });
    stream.append(message, encoded);
    other.append(message, encoded);
    assert.equal(encodes, 0);
    const [record] = await log.read(0, 1, 1 << 20);
    assert.deepEqual(record!.payload, encoded);
  });

  it('keeps record timestamps ordered when the clock steps back', async () => {
    let now = 5000;
    const clock: Clock = { now: () => now, setTimer: () => ({ cancel: () => {} }) };
    const log = new ArrayLog();
    const stream = new Stream({ name: 's', log, arguments: {}, codec: jsonTestCodec, clock });
    stream.append(textMessage('a'));
    now = 1000;
    stream.append(textMessage('b'));
    now = 6000;
    stream.append(textMessage('c'));
    const records = await log.read(0, 10, 1 << 20);
    assert.deepEqual(
      records.map((record) => record.timestamp),
      [5000, 5000, 6000],
    );
  });

  it('reports appended messages and bytes once per turn', async () => {
    const counts: Array<[string, number, MetricLabels | undefined]> = [];
    const metrics: Metrics = {
      count: (name, value = 1, labels) => counts.push([name, value, labels]),
      gauge: () => {},
      observe: () => {},
    };
    const { stream } = setup({}, {}, { metrics });
    appendMany(stream, 3);
    await waitFor(() => counts.length > 0, 'metrics');
    assert.deepEqual(counts[0], ['courier_stream_appended_messages_total', 3, { stream: 'events' }]);
    assert.deepEqual(counts[1], ['courier_stream_appended_bytes_total', 3 * (RECORD_BYTES - TEST_RECORD_OVERHEAD), { stream: 'events' }]);
  });

  it('refuses appends and commits once closed, and closes its log', async () => {
    const { stream, log } = setup();
    stream.append(textMessage('a'));
    await stream.close();
    assert.equal(stream.closed, true);
    assert.throws(() => stream.append(textMessage('b')), (error: unknown) => isBrokerError(error, 'LOG_CLOSED'));
    assert.throws(() => stream.commitOffset('c', 0), (error: unknown) => isBrokerError(error, 'LOG_CLOSED'));
    await assert.rejects(log.read(0, 1, 1), (error: unknown) => isBrokerError(error, 'LOG_CLOSED'));
    await stream.close(); // idempotent
  });
});

describe('stream arguments', () => {
  it('refuses invalid arguments with INVALID_ARGUMENT', () => {
    for (const args of [{ 'x-max-age': '7 days' }, { 'x-max-length-bytes': -5 }, { 'x-stream-max-segment-size-bytes': 'big' }]) {
      assert.throws(
        () => setup(args),
        (error: unknown) => isBrokerError(error, 'INVALID_ARGUMENT') && /invalid arg 'x-/.test(error.message),
      );
    }
  });

  it('exposes the parsed settings', () => {
    const { stream } = setup({ 'x-max-age': '10s', 'x-max-length-bytes': 1000 });
    assert.deepEqual(stream.settings, { maxAgeMs: 10_000, maxBytes: 1000, segmentBytes: undefined });
  });
});

describe('stream retention by bytes', () => {
  it('deletes whole head segments after appends, keeping at least the newest max bytes', async () => {
    // Segments of 10 records; the limit is 25 records.
    const { stream, log } = setup({ 'x-max-length-bytes': 25 * RECORD_BYTES }, { segmentBytes: 10 * RECORD_BYTES });
    appendMany(stream, 40);
    await waitFor(() => stream.stats().firstOffset === 10, 'the first segment deleted');
    assert.deepEqual(log.segmentBases, [10, 20, 30]);
    assert.equal(stream.stats().sizeBytes, 30 * RECORD_BYTES);
    appendMany(stream, 10);
    await waitFor(() => stream.stats().firstOffset === 20, 'the second segment deleted');
    await stream.enforceRetention();
    assert.deepEqual(log.segmentBases, [20, 30, 40]);
    const stats = stream.stats();
    assert.ok(stats.sizeBytes >= 25 * RECORD_BYTES && stats.sizeBytes < 35 * RECORD_BYTES, `size ${stats.sizeBytes}`);
    assert.equal(stats.lastOffset, 49);
  });

  it('never deletes the segment holding the newest record', async () => {
    const { stream, log } = setup({ 'x-max-length-bytes': 0 }, { segmentBytes: 5 * RECORD_BYTES });
    appendMany(stream, 12); // segments 0..4, 5..9, 10..11
    await waitFor(() => stream.stats().firstOffset === 10, 'old segments deleted');
    await stream.enforceRetention();
    assert.deepEqual(log.segmentBases, [10]);
    assert.equal(stream.stats().lastOffset, 11);
  });

  it('applies to a recovered log that is already over the limit', async () => {
    const log = new ArrayLog({ segmentBytes: 10 * RECORD_BYTES });
    for (let i = 0; i < 40; i++) log.append(STREAM_RECORD_MESSAGE, 0, jsonTestCodec.encode(textMessage('m000')));
    const stream = new Stream({
      name: 's',
      log,
      arguments: { 'x-max-length-bytes': 15 * RECORD_BYTES },
      codec: jsonTestCodec,
      clock: new ManualClock(),
    });
    await waitFor(() => stream.stats().firstOffset === 20, 'retention at open');
  });
});

describe('stream retention by age', () => {
  it('deletes segments whose records are all older than max age, on its timer', async () => {
    const { stream, log, clock } = setup({ 'x-max-age': '30m' }, { segmentBytes: 5 * RECORD_BYTES });
    appendMany(stream, 10); // t0: segments 0..4, 5..9
    clock.advance(20 * MINUTE);
    appendMany(stream, 5); // t0+20m: segment 10..14
    await stream.enforceRetention();
    assert.equal(stream.stats().firstOffset, 0, 'nothing is old enough yet');
    clock.advance(11 * MINUTE); // the timer fires with no append involved
    await waitFor(() => stream.stats().firstOffset === 10, 'the old segments deleted');
    assert.deepEqual(log.segmentBases, [10]);
    clock.advance(60 * MINUTE);
    await stream.enforceRetention();
    assert.equal(stream.stats().firstOffset, 10, 'the segment with the newest record stays');
    assert.equal(stream.stats().lastOffset, 14);
  });

  it('keeps a segment that still holds a young record', async () => {
    const { stream, log, clock } = setup({ 'x-max-age': '10s' }, { segmentBytes: 4 * RECORD_BYTES });
    appendMany(stream, 2);
    clock.advance(8000);
    appendMany(stream, 6); // segment 0..3 mixes old and young records; 4..7 is young
    clock.advance(4000); // offsets 0..1 are now 12 s old
    await stream.enforceRetention();
    assert.deepEqual(log.segmentBases, [0, 4]);
    clock.advance(7000);
    await waitFor(() => stream.stats().firstOffset === 4, 'the mixed segment deleted');
  });

  it('stops its timer on close', async () => {
    const { stream, log, clock } = setup({ 'x-max-age': '1s' }, { segmentBytes: RECORD_BYTES });
    appendMany(stream, 3);
    await stream.close();
    clock.advance(10_000);
    assert.deepEqual(log.segmentBases, [0, 1, 2]);
  });
});

describe('stream consumer offsets', () => {
  it('stores commits, reports them for persistence, and restores initial offsets', () => {
    const { stream, commits } = setup({}, {}, { offsets: { restored: 7 } });
    assert.equal(stream.committedOffset('restored'), 7);
    assert.equal(stream.committedOffset('unknown'), undefined);
    stream.commitOffset('billing', 3);
    stream.commitOffset('billing', 5);
    stream.commitOffset('billing', 2); // a replay may move it back
    assert.equal(stream.committedOffset('billing'), 2);
    assert.deepEqual(commits, [
      ['events', 'billing', 3],
      ['events', 'billing', 5],
      ['events', 'billing', 2],
    ]);
    assert.deepEqual(stream.committedOffsets(), { restored: 7, billing: 2 });
  });

  it('refuses bad consumer names and offsets', () => {
    const { stream, commits } = setup();
    for (const [consumer, offset] of [
      ['', 1],
      ['x'.repeat(256), 1],
      ['ok', -1],
      ['ok', 0.5],
      ['ok', Number.POSITIVE_INFINITY],
    ] as const) {
      assert.throws(() => stream.commitOffset(consumer, offset), (error: unknown) => isBrokerError(error, 'INVALID_ARGUMENT'));
    }
    assert.equal(commits.length, 0);
  });

  it('a reader resumes from the restored offset after a restart', async () => {
    const log = new ArrayLog();
    const first = new Stream({ name: 's', log, arguments: {}, codec: jsonTestCodec, clock: new ManualClock() });
    appendMany(first, 6);
    let persisted: Record<string, number> = {};
    const stream = new Stream({
      name: 's',
      log,
      arguments: {},
      codec: jsonTestCodec,
      clock: new ManualClock(),
      onOffsetCommit: (_name, consumer, offset) => {
        persisted = { ...persisted, [consumer]: offset };
      },
    });
    stream.commitOffset('app', 4);
    const restarted = new Stream({ name: 's', log, arguments: {}, codec: jsonTestCodec, clock: new ManualClock(), offsets: persisted });
    const got: number[] = [];
    restarted.openReader({ start: { consumer: 'app' }, window: Infinity, onMessage: (delivery) => got.push(delivery.offset) });
    await waitFor(() => got.length === 2, 'the resumed deliveries');
    assert.deepEqual(got, [4, 5]);
  });
});
