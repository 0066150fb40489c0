 
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../clock.js';
import { BrokerError, isBrokerError } from '../errors.js';
import type { HeaderTable } from '../message/message.js';
import type { StreamReaderOptions, StreamStart } from './stream-reader.js';
import type { StreamDelivery } from './stream-records.js';
import { Stream } from './stream.js';
import { ArrayLog, type ArrayLogOptions } from './test-log.js';
import { bodyText, jsonTestCodec, settle, textMessage, waitFor } from './test-support.js';

function setup(args: HeaderTable = {}, logOptions: ArrayLogOptions = {}) {
  const log = new ArrayLog(logOptions);
  const clock = new ManualClock();
  const stream = new Stream({ name: 's', log, arguments: args, codec: jsonTestCodec, clock });
  return { log, clock, stream };
}

function appendMany(stream: Stream, count: number, prefix = 'm'): void {
  for (let i = 0; i < count; i++) stream.append(textMessage(`${prefix}${String(i).padStart(3, '0')}`));
}

function collect(stream: Stream, start: StreamStart, window = Infinity, extra: Partial<StreamReaderOptions> = {}) {
  const got: StreamDelivery[] = [];
  const reader = stream.openReader({ start, window, onMessage: (delivery) => got.push(delivery), ...extra });
  return { reader, got, offsets: () => got.map((delivery) => delivery.offset) };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

describe('stream reader start positions', () => {
  it('first: every retained message, in order, with timestamp and message', async () => {
    const { stream, clock } = setup();
    appendMany(stream, 5);
    const { got, offsets, reader } = collect(stream, 'first');
    assert.equal(reader.position, 0);
    await waitFor(() => got.length === 5, 'five deliveries');
    assert.deepEqual(offsets(), [0, 1, 2, 3, 4]);
    assert.equal(bodyText(got[3]!.message), 'm003');
    assert.equal(got[3]!.message.routingKey, 'k');
    assert.equal(got[0]!.timestamp, clock.now());
  });

  it('first on a log whose head was truncated starts at its start offset', async () => {
    const { stream } = setup({}, { startOffset: 100 });
    appendMany(stream, 3);
    const { got, offsets } = collect(stream, 'first');
    await waitFor(() => got.length === 3, 'three deliveries');
    assert.deepEqual(offsets(), [100, 101, 102]);
  });

  it('last: the newest stored message, then what follows', async () => {
    const { stream } = setup();
    appendMany(stream, 5);
    const { got, offsets } = collect(stream, 'last');
    await waitFor(() => got.length === 1, 'the last message');
    stream.append(textMessage('after'));
    await waitFor(() => got.length === 2, 'the appended message');
    assert.deepEqual(offsets(), [4, 5]);
    assert.equal(bodyText(got[1]!.message), 'after');
  });

  it('last on an empty stream behaves as next', async () => {
    const { stream } = setup();
    const { got, offsets, reader } = collect(stream, 'last');
    assert.equal(reader.position, 0);
    stream.append(textMessage('x'));
    await waitFor(() => got.length === 1, 'the first message');
    assert.deepEqual(offsets(), [0]);
  });

  it('next: only messages appended after attaching', async () => {
    const { stream } = setup();
    appendMany(stream, 3);
    const { got, offsets } = collect(stream, 'next');
    await settle();
    assert.equal(got.length, 0);
    appendMany(stream, 2, 'n');
    await waitFor(() => got.length === 2, 'two new messages');
    assert.deepEqual(offsets(), [3, 4]);
    assert.equal(bodyText(got[0]!.message), 'n000');
  });

  it('offset: from that offset; below the retained range from its start; past the end as next', async () => {
    const { stream } = setup({}, { startOffset: 10 });
    appendMany(stream, 5); // offsets 10..14
    const exact = collect(stream, { offset: 12 });
    const below = collect(stream, { offset: 3 });
    const past = collect(stream, { offset: 1000 });
    const atEnd = collect(stream, { offset: 15 });
    assert.equal(below.reader.position, 10);
    assert.equal(past.reader.position, 15);
    await waitFor(() => exact.got.length === 3 && below.got.length === 5, 'catch-up deliveries');
    assert.deepEqual(exact.offsets(), [12, 13, 14]);
    assert.deepEqual(below.offsets(), [10, 11, 12, 13, 14]);
    assert.equal(past.got.length, 0);
    stream.append(textMessage('new'));
    await waitFor(() => past.got.length === 1 && atEnd.got.length === 1, 'the new message');
    assert.deepEqual(past.offsets(), [15]);
    assert.deepEqual(atEnd.offsets(), [15]);
  });

  it('timestamp: the first message stored at or after it; in the future behaves as next', async () => {
    const { stream, clock } = setup();
    const t0 = clock.now();
    appendMany(stream, 3, 'a');
    clock.advance(1000);
    appendMany(stream, 3, 'b');
    const middle = collect(stream, { timestamp: t0 + 500 });
    const exact = collect(stream, { timestamp: t0 + 1000 });
    const early = collect(stream, { timestamp: 0 });
    const future = collect(stream, { timestamp: t0 + 60_000 });
    assert.equal(middle.reader.position, undefined, 'unknown until resolved');
    await Promise.all([middle.reader.attached, exact.reader.attached, early.reader.attached, future.reader.attached]);
    assert.equal(future.reader.position, 6);
    await waitFor(() => middle.got.length === 3 && exact.got.length === 3 && early.got.length === 6, 'deliveries');
    assert.deepEqual(middle.offsets(), [3, 4, 5]);
    assert.deepEqual(exact.offsets(), [3, 4, 5]);
    assert.equal(bodyText(middle.got[0]!.message), 'b000');
    assert.equal(future.got.length, 0);
    stream.append(textMessage('later'));
    await waitFor(() => future.got.length === 1, 'the next message');
    assert.deepEqual(future.offsets(), [6]);
  });

  it('consumer: resumes from the committed offset, or from first when none', async () => {
    const { stream } = setup();
    appendMany(stream, 6);
    stream.commitOffset('billing', 4);
    const resumed = collect(stream, { consumer: 'billing' });
    const fresh = collect(stream, { consumer: 'audit' });
    assert.equal(resumed.reader.consumer, 'billing');
    await waitFor(() => resumed.got.length === 2 && fresh.got.length === 6, 'deliveries');
    assert.deepEqual(resumed.offsets(), [4, 5]);
    assert.deepEqual(fresh.offsets(), range(0, 6));
  });

  it('refuses invalid start options and windows', () => {
    const { stream } = setup();
    const invalid = (options: Partial<StreamReaderOptions>, argument: string): void => {
      assert.throws(
        () => stream.openReader({ start: 'first', window: 1, onMessage: () => {}, ...options }),
        (error: unknown) => isBrokerError(error, 'INVALID_ARGUMENT') && error.details?.['argument'] === argument,
      );
    };
    invalid({ start: { offset: -1 } }, 'offset');
    invalid({ start: { offset: 1.5 } }, 'offset');
    invalid({ start: { timestamp: Number.NaN } }, 'timestamp');
    invalid({ start: { consumer: '' } }, 'consumer');
    invalid({ start: { consumer: 'x'.repeat(256) } }, 'consumer');
    invalid({ window: -1 }, 'window');
    invalid({ window: 2.5 }, 'window');
    invalid({ readAheadRecords: 0 }, 'readAheadRecords');
    assert.equal(stream.stats().readerCount, 0, 'refused readers are not registered');
  });
});

describe('stream reader window and credit', () => {
  it('never pushes past the window; credit opens it again', async () => {
    const { stream } = setup();
    appendMany(stream, 10);
    const { got, offsets, reader } = collect(stream, 'first', 3);
    await waitFor(() => got.length === 3, 'the first window');
    await settle();
    assert.equal(got.length, 3);
    assert.equal(reader.availableCredit, 0);
    reader.credit(2);
    await waitFor(() => got.length === 5, 'two more');
    await settle();
    assert.equal(got.length, 5);
    reader.credit(100);
    await waitFor(() => got.length === 10, 'the rest');
    assert.deepEqual(offsets(), range(0, 10));
    assert.equal(reader.availableCredit, 95);
  });

  it('a window of 0 pushes nothing until credit is granted', async () => {
    const { stream } = setup();
    appendMany(stream, 2);
    const { got, reader } = collect(stream, 'first', 0);
    await settle();
    assert.equal(got.length, 0);
    reader.credit(1);
    await waitFor(() => got.length === 1, 'one delivery');
    await settle();
    assert.equal(got.length, 1);
  });

  it('credit granted from inside onMessage (prefetch-style ack) keeps the flow going', async () => {
    const { stream } = setup();
    appendMany(stream, 20);
    const got: number[] = [];
    let maxOutstanding = 0;
    let outstanding = 0;
    const reader = stream.openReader({
      start: 'first',
      window: 2,
      onMessage: (delivery) => {
        outstanding += 1;
        maxOutstanding = Math.max(maxOutstanding, outstanding);
        got.push(delivery.offset);
        outstanding -= 1;
        reader.credit(1);
      },
    });
    await waitFor(() => got.length === 20, 'all deliveries');
    assert.deepEqual(got, range(0, 20));
    assert.equal(maxOutstanding, 1, 'no re-entrant delivery');
  });

  it('refuses credit that is not a positive integer', () => {
    const { stream } = setup();
    const { reader } = collect(stream, 'first', 1);
    for (const count of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => reader.credit(count), (error: unknown) => isBrokerError(error, 'INVALID_ARGUMENT'));
    }
  });
});

describe('stream reader reading', () => {
  it('reads a backlog in bounded batches, never the whole log', async () => {
    const { stream, log } = setup();
    appendMany(stream, 50);
    const { got, offsets } = collect(stream, 'first', Infinity, { readAheadRecords: 4 });
    await waitFor(() => got.length === 50, 'the backlog');
    assert.deepEqual(offsets(), range(0, 50));
    assert.ok(log.reads.length >= 13, `expected at least 13 reads, got ${log.reads.length}`);
    assert.ok(log.reads.every((read) => read.maxRecords === 4 && read.returned <= 4));
  });

  it('follows live appends and does not poll the log while caught up', async () => {
    const { stream, log } = setup();
    const { got, offsets } = collect(stream, 'first');
    for (let i = 0; i < 5; i++) {
      stream.append(textMessage(`live${i}`));
      await waitFor(() => got.length === i + 1, `live message ${i}`);
    }
    assert.deepEqual(offsets(), range(0, 5));
    const readsWhenIdle = log.reads.length;
    await settle(50);
    assert.equal(log.reads.length, readsWhenIdle, 'no reads while nothing is appended');
  });

  it('appends in one turn wake a caught-up reader once', async () => {
    const { stream, log } = setup();
    const { got } = collect(stream, 'next');
    await settle();
    const before = log.reads.length;
    appendMany(stream, 30);
    await waitFor(() => got.length === 30, 'thirty deliveries');
    assert.equal(log.reads.length - before, 1, 'one batch read for one turn of appends');
  });

  it('many readers read independently', async () => {
    const { stream } = setup();
    appendMany(stream, 10);
    const all = collect(stream, 'first');
    const slow = collect(stream, 'first', 2);
    const tail = collect(stream, 'next');
    const fromFive = collect(stream, { offset: 5 }, Infinity, { readAheadRecords: 2 });
    assert.equal(stream.stats().readerCount, 4);
    await waitFor(() => all.got.length === 10 && slow.got.length === 2 && fromFive.got.length === 5, 'catch-up');
    appendMany(stream, 5, 'n');
    await waitFor(() => all.got.length === 15 && tail.got.length === 5 && fromFive.got.length === 10, 'live');
    assert.deepEqual(all.offsets(), range(0, 15));
    assert.deepEqual(tail.offsets(), range(10, 15));
    assert.deepEqual(fromFive.offsets(), range(5, 15));
    assert.deepEqual(slow.offsets(), [0, 1]);
    all.reader.close();
    assert.equal(stream.stats().readerCount, 3);
    stream.append(textMessage('z'));
    await waitFor(() => tail.got.length === 6, 'after close');
    assert.equal(all.got.length, 15, 'a closed reader gets nothing');
    slow.reader.credit(20);
    await waitFor(() => slow.got.length === 16, 'the slow reader catches up');
    assert.deepEqual(slow.offsets(), range(0, 16));
  });

  it('a slow reader continues from the new start when retention deletes what it had not read', async () => {
    const recordBytes = jsonTestCodec.encode(textMessage('m000')).length + 16;
    const { stream } = setup(
      { 'x-max-length-bytes': 10 * recordBytes },
      { segmentBytes: 5 * recordBytes },
    );
    appendMany(stream, 5);
    const { got, reader } = collect(stream, 'first', 1, { readAheadRecords: 1 });
    await waitFor(() => got.length === 1, 'the first message');
    appendMany(stream, 25);
    await waitFor(() => stream.stats().firstOffset > 1, 'retention');
    const first = stream.stats().firstOffset;
    reader.credit(1);
    await waitFor(() => got.length === 2, 'the next message');
    assert.equal(got[1]!.offset, first);
    reader.credit(100);
    await waitFor(() => got.length === 2 + (30 - first - 1), 'the rest');
    assert.deepEqual(
      got.map((delivery) => delivery.offset),
      [0, ...range(first, 30)],
    );
  });

  it('skips records of other kinds without spending credit', async () => {
    const { stream, log } = setup();
    stream.append(textMessage('a'));
    log.append(7, 0, new Uint8Array([1, 2, 3]));
    stream.append(textMessage('b'));
    const { got, offsets, reader } = collect(stream, 'first', 2);
    await waitFor(() => got.length === 2, 'two messages');
    assert.deepEqual(offsets(), [0, 2]);
    assert.equal(reader.availableCredit, 0);
  });
});

describe('stream reader lifecycle and failures', () => {
  it('close stops deliveries, also with a read in flight', async () => {
    const { stream } = setup();
    appendMany(stream, 5);
    const { got, reader } = collect(stream, 'first');
    reader.close();
    assert.equal(reader.closed, true);
    await settle();
    assert.equal(got.length, 0);
    assert.equal(stream.stats().readerCount, 0);
    reader.credit(1); // ignored once closed
  });

  it('a reader closed from inside onMessage gets nothing more', async () => {
    const { stream } = setup();
    appendMany(stream, 5);
    const got: number[] = [];
    const reader = stream.openReader({
      start: 'first',
      window: Infinity,
      onMessage: (delivery) => {
        got.push(delivery.offset);
        if (delivery.offset === 1) reader.close();
      },
    });
    await waitFor(() => reader.closed, 'close');
    await settle();
    assert.deepEqual(got, [0, 1]);
  });

  it('an undecodable record closes the reader with STORAGE_CORRUPT', async () => {
    const { stream } = setup();
    stream.append(textMessage('ok'));
    stream.append(textMessage('bad'), new Uint8Array([0xff, 0x00]));
    const errors: BrokerError[] = [];
    const { got, reader } = collect(stream, 'first', Infinity, { onError: (error) => errors.push(error) });
    await waitFor(() => errors.length === 1, 'the error');
    assert.equal(got.length, 1);
    assert.equal(errors[0]!.code, 'STORAGE_CORRUPT');
    assert.equal(errors[0]!.details?.['offset'], 1);
    assert.equal(reader.closed, true);
  });

  it('an owner callback that throws closes that reader only, reporting the error', async () => {
    const { stream } = setup();
    appendMany(stream, 3);
    const errors: BrokerError[] = [];
    const thrown = new BrokerError('CHANNEL_CLOSED', 'gone');
    const failing = stream.openReader({
      start: 'first',
      window: Infinity,
      onMessage: () => {
        throw thrown;
      },
      onError: (error) => errors.push(error),
    });
    const healthy = collect(stream, 'first');
    await waitFor(() => errors.length === 1 && healthy.got.length === 3, 'the error and the healthy deliveries');
    assert.equal(errors[0], thrown);
    assert.equal(failing.closed, true);
  });

  it('closing the stream closes its readers', async () => {
    const { stream } = setup();
    const a = collect(stream, 'first');
    const b = collect(stream, { timestamp: 0 });
    await stream.close();
    assert.equal(a.reader.closed, true);
    assert.equal(b.reader.closed, true);
    assert.equal(stream.stats().readerCount, 0);
    assert.throws(() => stream.openReader({ start: 'first', window: 1, onMessage: () => {} }), (error: unknown) =>
      isBrokerError(error, 'LOG_CLOSED'),
    );
  });
});
