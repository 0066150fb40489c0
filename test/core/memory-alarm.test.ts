import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Broker } from '../../src/core/broker.js';
import { ManualClock } from '../../src/core/clock.js';
import { createMessage } from '../../src/core/message/message.js';
import { MemoryLogStore, MemoryMetadataStore } from '../../src/storage/index.js';
import { guest, Recorder } from '../support/broker-harness.js';

const LIMIT = 64 * 1024;
const body = new Uint8Array(1024).fill(0x61);

/** Acks are recorded and the memory log truncated in later turns of the event loop. */
function settledAndTruncated(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function openBroker(clock: ManualClock): Promise<Broker> {
  return Broker.open({
    logStore: new MemoryLogStore(),
    transientLogStore: new MemoryLogStore(),
    metadataStore: new MemoryMetadataStore(),
    clock,
    fsync: { mode: 'never' },
    transientMemoryLimitBytes: LIMIT,
  });
}

describe('memory alarm over transient queues (DESIGN §4: transient messages in memory, bounded)', () => {
  const brokers: Broker[] = [];
  after(async () => {
    for (const broker of brokers) await broker.close();
  });

  it('goes on at the publish that crosses the limit and off once consumers drained below 80%', async () => {
    const clock = new ManualClock();
    const broker = await openBroker(clock);
    brokers.push(broker);
    const connection = broker.connect(guest, { protocol: 'test', remoteAddress: '127.0.0.1' });
    await connection.declareQueue({ name: 'work', durable: false });
    const changes: boolean[] = [];
    broker.alarms.subscribe((blocked) => changes.push(blocked));

    let published = 0;
    while (!broker.alarms.blocked && published < 1000) {
      connection.publish(createMessage({ routingKey: 'work', body }));
      published += 1;
    }
    assert.equal(broker.alarms.blocked, true);
    assert.deepEqual(broker.alarms.resources, ['memory']);
    // Each message costs its encoding plus the record overhead: the alarm must not come early or late.
    assert.ok(published > LIMIT / 2048 && published <= LIMIT / 1024 + 1, `alarm after ${published} messages`);

    clock.advance(1000);
    assert.equal(broker.alarms.blocked, true, 'nothing was consumed: the alarm stays on');

    const recorder = new Recorder();
    const channel = connection.openChannel();
    connection.consume(channel, 'work', { prefetch: 0 }, recorder.callbacks);
    const deliveries = await recorder.waitFor(published);
    for (const delivery of deliveries) channel.ack(delivery.deliveryTag);
    await settledAndTruncated();
    clock.advance(100);
    // Fewer records than a truncation batch: the drained queue gives its log back a second later.
    assert.equal(broker.alarms.blocked, true);
    clock.advance(1000);
    await settledAndTruncated();
    clock.advance(100);
    assert.equal(broker.alarms.blocked, false);
    assert.deepEqual(changes, [true, false]);
  });

  it('does not count durable queues, whose persistent messages live on disk', async () => {
    const clock = new ManualClock();
    const broker = await openBroker(clock);
    brokers.push(broker);
    const connection = broker.connect(guest, { protocol: 'test', remoteAddress: '127.0.0.1' });
    await connection.declareQueue({ name: 'kept', durable: true });
    for (let i = 0; i < 200; i++) connection.publish(createMessage({ routingKey: 'kept', body, persistent: true }));
    clock.advance(100);
    assert.equal(broker.alarms.blocked, false);
  });

  it('counts an exclusive queue, which is transient even when declared durable', async () => {
    const clock = new ManualClock();
    const broker = await openBroker(clock);
    brokers.push(broker);
    const connection = broker.connect(guest, { protocol: 'test', remoteAddress: '127.0.0.1' });
    await connection.declareQueue({ name: 'mine', durable: true, exclusive: true });
    for (let i = 0; i < 200; i++) connection.publish(createMessage({ routingKey: 'mine', body, persistent: true }));
    assert.equal(broker.alarms.blocked, true);
    await connection.deleteQueue('mine');
    await settledAndTruncated();
    clock.advance(100);
    assert.equal(broker.alarms.blocked, false, 'a deleted queue frees its memory');
  });
});
