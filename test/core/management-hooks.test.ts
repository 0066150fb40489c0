/** What the core offers management: queue peek and counters, connection counters, consumers, close requests. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bodyText, guest, openHarness, publishTo, Recorder } from '../support/broker-harness.js';

test('peek returns ready messages past the read-ahead from the log, in order, and changes nothing', async () => {
  const harness = await openHarness({ store: 'file' });
  try {
    await harness.connection.declareQueue({ name: 'big', durable: true });
    // 100 KiB bodies: the 4 MiB read-ahead holds about 40 of them, the rest stay on disk only.
    const filler = 'x'.repeat(100 * 1024);
    for (let i = 0; i < 60; i++) await publishTo(harness.connection, 'big', `${String(i).padStart(2, '0')}${filler}`, { persistent: true });
    const queue = harness.broker.getQueue('big')!;
    const peeked = await queue.peek(100);
    assert.deepEqual(
      peeked.map((item) => new TextDecoder().decode(item.message.body.subarray(0, 2))),
      Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0')),
    );
    assert.equal((await queue.peek(5)).length, 5);
    assert.equal(queue.messageCount, 60);
    assert.equal(queue.unackedCount, 0);
    assert.equal(queue.counters.delivered, 0);
    const first = await harness.connection.get(harness.channel, 'big', true);
    assert.equal(bodyText(first)?.slice(0, 2), '00', 'delivery still starts at the head');
    const [next] = await queue.peek(1);
    assert.equal(new TextDecoder().decode(next?.message.body.subarray(0, 2)), '01', 'the taken head is gone from the peek');
  } finally {
    await harness.close();
  }
});

test('peek leaves out unacked messages and shows returned ones first', async () => {
  const harness = await openHarness();
  try {
    await harness.connection.declareQueue({ name: 'q' });
    for (const text of ['a', 'b', 'c']) await publishTo(harness.connection, 'q', text);
    const a = await harness.connection.get(harness.channel, 'q', false);
    const queue = harness.broker.getQueue('q')!;
    const texts = async (): Promise<string[]> => (await queue.peek(10)).map((item) => new TextDecoder().decode(item.message.body));
    assert.deepEqual(await texts(), ['b', 'c']);
    harness.channel.nack(a!.deliveryTag, false, true);
    assert.deepEqual(await texts(), ['a', 'b', 'c']);
    assert.equal((await queue.peek(10))[0]?.deliveryCount, 1);
  } finally {
    await harness.close();
  }
});

test('queue, connection and broker counters count publishes, deliveries and acks', async () => {
  const harness = await openHarness();
  try {
    await harness.connection.declareQueue({ name: 'counted' });
    for (const text of ['1', '2', '3']) await publishTo(harness.connection, 'counted', text);
    const recorder = new Recorder();
    harness.channel.setPrefetch(10, false);
    harness.connection.consume(harness.channel, 'counted', { consumerTag: 'c1' }, recorder.callbacks);
    await recorder.waitFor(3);
    harness.channel.ack(recorder.deliveries[1]!.deliveryTag, true);
    const queue = harness.broker.getQueue('counted')!;
    assert.deepEqual(queue.counters, { published: 3, delivered: 3, acked: 2 });
    assert.deepEqual(harness.connection.counters, { published: 3, delivered: 3 });
    assert.deepEqual(harness.broker.messageTotals(), { published: 3, delivered: 3, acked: 2 });
    assert.deepEqual(harness.channel.listConsumers(), [{ queue: 'counted', tag: 'c1', prefetch: 10, ackRequired: true }]);
    // Totals survive the queue's deletion.
    await harness.connection.deleteQueue('counted');
    assert.deepEqual(harness.broker.messageTotals(), { published: 3, delivered: 3, acked: 2 });
  } finally {
    await harness.close();
  }
});

test('requestClose runs the adapter handler, or closes the core connection when there is none', async () => {
  const harness = await openHarness();
  try {
    const plain = harness.broker.connect(guest, { protocol: 'test', remoteAddress: '' });
    await plain.requestClose('because');
    assert.equal(plain.isClosed, true);
    const adapted = harness.broker.connect(guest, { protocol: 'test', remoteAddress: '' });
    const reasons: string[] = [];
    adapted.onCloseRequest((reason) => {
      reasons.push(reason);
      return adapted.close();
    });
    await adapted.requestClose('operator');
    assert.deepEqual(reasons, ['operator']);
    assert.equal(adapted.isClosed, true);
    await adapted.requestClose('again');
    assert.deepEqual(reasons, ['operator'], 'a closed connection is not closed twice');
  } finally {
    await harness.close();
  }
});
