/**
 * A broker process is killed with SIGKILL in the middle of a stream of confirmed publishes (and, in the
 * second scenario, of deliveries and acks), then the data directory is recovered in this process.
 *
 * What a process crash (not a power loss) truly guarantees here: everything handed to the OS stays, and the
 * log writer hands batches over in order, so the recovered log is a prefix of what was appended (a torn last
 * record is truncated). Publishes, deliveries and acks are each appended in sequence order, therefore:
 * - the recovered messages are exactly the contiguous range [Z, P) of sequence numbers;
 * - P is past every confirmed publish (confirmed = fsynced), so each confirmed message is there exactly once
 *   unless it was acked;
 * - Z is past every ack the child saw fsynced, and never past the last ack it attempted (journal);
 * - a recovered message whose delivery record was fsynced comes back redelivered (delivery count 2); one the
 *   child never received comes back fresh; the redelivered ones form a prefix of the range.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Delivery } from '../../src/core/channel.js';
import { ChildProcesses } from '../support/child-process.js';
import { ChildReport, crashQueue, decodeSeq, readJournal } from './crash-protocol.js';
import { drainQueue, withBroker } from './data-dir-broker.js';

const childScript = fileURLToPath(new URL('./confirmed-publisher.js', import.meta.url));
type Mode = 'publish' | 'publish-consume';

describe('crash: SIGKILL during confirmed publishes', () => {
  const children = new ChildProcesses();
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'courier-crash-'));
  });
  after(async () => {
    await children.killAll();
    await rm(root, { recursive: true, force: true });
  });

  /** Starts the child, waits until `until` holds for what it reported, kills it with SIGKILL. Returns its first seq. */
  async function runAndKill(dataDir: string, mode: Mode, journal: string, report: ChildReport, until: (firstSeq: number) => boolean, what: string): Promise<number> {
    const runs = report.readyAt.length;
    const child = children.node(childScript, [dataDir, mode, journal]);
    child.onLine((line) => report.readLine(line));
    await child.waitUntil(() => report.errors.length > 0 || report.readyAt.length > runs, 'the child to open the broker');
    const firstSeq = report.readyAt[runs]!;
    await child.waitUntil(() => report.errors.length > 0 || until(firstSeq), what);
    const exit = await child.killHard();
    assert.deepEqual(report.errors, [], 'the child found no problem itself');
    assert.deepEqual(exit, { code: null, signal: 'SIGKILL' });
    return firstSeq;
  }

  function seqsOf(deliveries: readonly Delivery[]): number[] {
    return deliveries.map((delivery) => decodeSeq(delivery.message.body));
  }

  function assertContiguous(seqs: readonly number[]): void {
    for (let i = 1; i < seqs.length; i++) {
      if (seqs[i] !== seqs[i - 1]! + 1) assert.fail(`recovered messages are not one contiguous run: ${seqs[i - 1]} then ${seqs[i]}`);
    }
  }

  it('keeps every confirmed publish exactly once and in order, across kills at three points', async (t) => {
    const dataDir = join(root, 'publish');
    const journal = join(root, 'publish.journal');
    const report = new ChildReport();

    await runAndKill(dataDir, 'publish', journal, report, () => report.confirmed.size >= 3000, '3000 confirmations');
    const confirmedBeforeSecond = report.maxConfirmed;
    // Right after recovery, at the first group commit: a crash while the recovered log is written again.
    const second = await runAndKill(dataDir, 'publish', journal, report, (first) => report.confirmedSince(first) >= 1, 'a confirmation');
    const confirmedBeforeThird = report.maxConfirmed;
    const third = await runAndKill(dataDir, 'publish', journal, report, (first) => report.confirmedSince(first) >= 1500, '1500 more confirmations');
    // Each restart found everything confirmed before it (the recovered backlog is the messages 0..n-1).
    assert.ok(second > confirmedBeforeSecond, `the second run resumed at ${second}, after ${confirmedBeforeSecond}`);
    assert.ok(third > confirmedBeforeThird, `the third run resumed at ${third}, after ${confirmedBeforeThird}`);

    await withBroker(dataDir, async (broker, damage) => {
      const deliveries = await drainQueue(broker, crashQueue);
      const seqs = seqsOf(deliveries);
      assert.equal(seqs[0], 0);
      assertContiguous(seqs);
      const missing = [...report.confirmed].filter((seq) => seq > seqs[seqs.length - 1]!);
      assert.deepEqual(missing, [], 'every confirmed publish survived the kills');
      assert.ok(seqs.length > report.maxConfirmed, `${seqs.length} messages recovered, last confirmed ${report.maxConfirmed}`);
      assert.ok(deliveries.every((delivery) => !delivery.redelivered && delivery.deliveryCount === 1), 'nothing was delivered before');
      t.diagnostic(`recovered ${seqs.length} messages; ${report.confirmed.size} confirmed (last ${report.maxConfirmed}); runs started at ${report.readyAt.join(', ')}; damage ${JSON.stringify([...report.damage, ...damage])}`);
      // A kill may tear the record being written; the only repair allowed is truncating that tail.
      const damageSeen = [...report.damage, ...damage];
      assert.deepEqual(damageSeen.filter((entry) => entry.action !== 'truncated'), []);
    });
    await withBroker(dataDir, (broker) => {
      assert.equal(broker.getQueue(crashQueue)?.messageCount, 0, 'the drain was durable');
    });
  });

  it('does not deliver durably acked messages again; in-flight ones come back flagged redelivered', async (t) => {
    const dataDir = join(root, 'consume');
    const journalPath = join(root, 'consume.journal');
    const report = new ChildReport();
    await runAndKill(
      dataDir,
      'publish-consume',
      journalPath,
      report,
      () => report.confirmed.size >= 3000 && report.durablyAcked.size >= 1000,
      '3000 confirmations and 1000 acks',
    );
    const journal = await readJournal(journalPath);

    await withBroker(dataDir, async (broker, damage) => {
      const deliveries = await drainQueue(broker, crashQueue);
      const seqs = seqsOf(deliveries);
      assertContiguous(seqs);
      const recovered = new Set(seqs);
      assert.deepEqual(
        seqs.filter((seq) => report.durablyAcked.has(seq)),
        [],
        'no message whose ack was fsynced is delivered again',
      );
      assert.deepEqual(
        [...report.confirmed].filter((seq) => !recovered.has(seq) && seq > journal.maxAcked),
        [],
        'every confirmed message the child never tried to ack is still there',
      );
      let freshSeen = false;
      for (const delivery of deliveries) {
        const seq = decodeSeq(delivery.message.body);
        assert.equal(delivery.deliveryCount, delivery.redelivered ? 2 : 1, `delivery count of ${seq}`);
        if (report.durablyDelivered.has(seq)) assert.ok(delivery.redelivered, `${seq} was delivered before the kill`);
        if (seq > journal.maxDelivered) assert.ok(!delivery.redelivered, `${seq} was never delivered before`);
        if (!delivery.redelivered) freshSeen = true;
        else assert.ok(!freshSeen, `redelivered ${seq} after a fresh message`);
      }
      const damageSeen = [...report.damage, ...damage];
      assert.deepEqual(damageSeen.filter((entry) => entry.action !== 'truncated'), []);
      const redelivered = deliveries.filter((delivery) => delivery.redelivered).length;
      t.diagnostic(
        `recovered ${seqs[0]}..${seqs[seqs.length - 1]} (${redelivered} redelivered); confirmed ${report.confirmed.size} (last ${report.maxConfirmed}); ` +
          `acks fsynced ${report.durablyAcked.size}, attempted up to ${journal.maxAcked}; deliveries fsynced ${report.durablyDelivered.size}, up to ${journal.maxDelivered}; damage ${damageSeen.length}`,
      );
    });
  });
});
