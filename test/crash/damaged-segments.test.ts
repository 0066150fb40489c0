/**
 * Damaged queue logs, as a torn write or a failing disk leaves them: the broker must start, keep everything
 * that is intact in order, drop only the damaged record, and report the damage (never skip it silently).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Broker } from '../../src/core/broker.js';
import type { CorruptionReport } from '../../src/core/ports.js';
import { bodyText, guest, textMessage } from '../support/broker-harness.js';
import { LOGS_DIRECTORY } from './crash-protocol.js';
import { drainQueue, withBroker } from './data-dir-broker.js';
import { flipBit, framesOf, logDirectories, segmentFiles, truncateFile, type Frame } from './segment-files.js';

const QUEUE = 'orders';
const MESSAGES = 40;
/** About eleven 330-byte records per segment: 40 messages make four segments. */
const SEGMENT_BYTES = 4096;
const options = { segmentBytes: SEGMENT_BYTES };
const text = (i: number): string => `m${i}:${'x'.repeat(300)}`;

function range(count: number, except?: number): string[] {
  return Array.from({ length: count }, (_, i) => i)
    .filter((i) => i !== except)
    .map(text);
}

async function publish(broker: Broker, texts: readonly string[]): Promise<void> {
  const connection = broker.connect(guest, { protocol: 'crash-test', remoteAddress: '127.0.0.1' });
  await connection.declareQueue({ name: QUEUE, durable: true });
  let last: Promise<void> = Promise.resolve();
  for (const body of texts) last = connection.publish(textMessage(body, { routingKey: QUEUE, persistent: true })).durable;
  await last;
  await connection.close();
}

/** The fields of a report a test can predict. */
function summary(report: CorruptionReport): Partial<CorruptionReport> {
  return { log: report.log, location: report.location, offset: report.offset, action: report.action };
}

interface Victim {
  readonly segments: string[];
  readonly segment: string;
  readonly frame: Frame;
}

describe('crash: damaged queue segments', () => {
  let root = '';
  let cases = 0;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'courier-damage-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** A data dir with MESSAGES persistent messages in QUEUE, cleanly closed; `pick` chooses the record to damage. */
  async function prepare(pick: (segments: string[]) => { segment: string; index: (frames: Frame[]) => number }): Promise<{ dataDir: string; victim: Victim }> {
    const dataDir = join(root, `case-${cases++}`);
    await withBroker(dataDir, (broker) => publish(broker, range(MESSAGES)), options);
    const [logDirectory, ...others] = await logDirectories(join(dataDir, LOGS_DIRECTORY));
    assert.ok(logDirectory && others.length === 0, 'one queue log');
    const segments = await segmentFiles(logDirectory);
    assert.ok(segments.length >= 3, `the log spans ${segments.length} segments`);
    const chosen = pick(segments);
    const frames = await framesOf(chosen.segment);
    const frame = frames[chosen.index(frames)]!;
    return { dataDir, victim: { segments, segment: chosen.segment, frame } };
  }

  const lastRecordOfLastSegment = (segments: string[]): { segment: string; index: (frames: Frame[]) => number } => ({
    segment: segments[segments.length - 1]!,
    index: (frames) => frames.length - 1,
  });

  async function expectRepairedTail(dataDir: string, victim: Victim, reason: RegExp): Promise<void> {
    // Only messages were appended, one record each: the last record is the last message.
    assert.equal(victim.frame.offset, MESSAGES - 1);
    await withBroker(
      dataDir,
      async (broker, damage) => {
        assert.equal(broker.getQueue(QUEUE)?.messageCount, MESSAGES - 1);
        assert.deepEqual(damage.map(summary), [{ log: QUEUE, location: victim.segment, offset: MESSAGES - 1, action: 'truncated' }]);
        assert.match(damage[0]!.reason, reason);
        assert.equal((await stat(victim.segment)).size, victim.frame.start, 'the damaged tail is cut off');
        const deliveries = await drainQueue(broker, QUEUE);
        assert.deepEqual(deliveries.map(bodyText), range(MESSAGES - 1));
        // The repaired log takes appends again.
        await publish(broker, ['after repair']);
      },
      options,
    );
    await withBroker(
      dataDir,
      async (broker, damage) => {
        assert.deepEqual(damage, [], 'the repair is durable: nothing to report any more');
        assert.deepEqual((await drainQueue(broker, QUEUE)).map(bodyText), ['after repair']);
      },
      options,
    );
  }

  it('truncates a last segment cut in the middle of its last record, reports it, and keeps the rest in order', async () => {
    const { dataDir, victim } = await prepare(lastRecordOfLastSegment);
    await truncateFile(victim.segment, victim.frame.start + Math.floor(victim.frame.size / 2));
    await expectRepairedTail(dataDir, victim, /extends past the end/);
  });

  it('truncates a last record with a flipped bit, reports it, and keeps the rest in order', async () => {
    const { dataDir, victim } = await prepare(lastRecordOfLastSegment);
    const { frame } = victim;
    await flipBit(victim.segment, frame.payloadStart + Math.floor((frame.start + frame.size - frame.payloadStart) / 2));
    await expectRepairedTail(dataDir, victim, /checksum/);
  });

  for (const where of ['payload', 'length field'] as const) {
    it(`quarantines a record with a flipped bit in its ${where} in an earlier segment and reads on past it`, async () => {
      const { dataDir, victim } = await prepare((segments) => ({ segment: segments[1]!, index: (frames) => Math.floor(frames.length / 2) }));
      const { frame } = victim;
      // Bit 3 of the length's second byte adds 2 KiB: the frame then seems to run past the segment's end.
      await flipBit(victim.segment, where === 'payload' ? frame.payloadStart + 10 : frame.start + 1);
      const expected = { log: QUEUE, location: victim.segment, offset: frame.offset, action: 'quarantined' };
      await withBroker(
        dataDir,
        (broker, damage) => {
          assert.equal(broker.getQueue(QUEUE)?.messageCount, MESSAGES - 1);
          assert.deepEqual(damage.map(summary), [expected]);
        },
        options,
      );
      // Still damaged on disk: reported again at every start, never skipped silently.
      await withBroker(
        dataDir,
        async (broker, damage) => {
          assert.deepEqual(damage.map(summary), [expected]);
          const deliveries = await drainQueue(broker, QUEUE);
          assert.deepEqual(deliveries.map(bodyText), range(MESSAGES, frame.offset));
          assert.equal(damage.length, 1, 'reading past the damage does not report it twice');
        },
        options,
      );
    });
  }

  // Found while writing the test above: the queue never settled the offset of a quarantined record, so its
  // first unsettled offset stayed there for good and no segment of the log was ever deleted again.
  it('does not let a quarantined record pin the log: consuming past it deletes its segment', async () => {
    const { dataDir, victim } = await prepare((segments) => ({ segment: segments[1]!, index: (frames) => Math.floor(frames.length / 2) }));
    await flipBit(victim.segment, victim.frame.payloadStart + 10);
    await withBroker(
      dataDir,
      async (broker, damage) => {
        assert.equal(damage.length, 1);
        await drainQueue(broker, QUEUE);
        // Enough settled records for the queue to delete the segments below its first unsettled offset.
        await publish(broker, range(300));
        assert.equal((await drainQueue(broker, QUEUE)).length, 300);
      },
      options,
    );
    // Closing the broker waited for the deletion it started.
    const remaining = await segmentFiles(dirname(victim.segment));
    assert.ok(!remaining.includes(victim.segment), `the damaged segment is deleted; left: ${remaining.map((path) => path.slice(-24)).join(', ')}`);
    assert.ok(remaining.length < victim.segments.length, 'the log shrank');
  });
});
