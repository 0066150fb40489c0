/** Consuming a stream queue over AMQP with x-stream-offset, as RabbitMQ streams are read. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type amqp from 'amqplib';
import { ManualClock } from '../../src/core/clock.js';
import { collect, startAmqpServer, within, type AmqpTestServer } from './amqp-harness.js';

/** The seconds since the epoch of `ms`, as an AMQP timestamp field (type T) in amqplib's notation. */
function amqpTimestamp(ms: number): { '!': 'timestamp'; value: number } {
  return { '!': 'timestamp', value: Math.floor(ms / 1000) };
}

describe('AMQP stream queues', () => {
  let broker: AmqpTestServer;
  let connection: amqp.ChannelModel;
  const clock = new ManualClock(1_700_000_000_000);
  before(async () => {
    broker = await startAmqpServer({}, { clock });
    connection = await broker.connect();
  });
  after(async () => {
    await connection.close();
    await broker.close();
  });

  it('reads a stream from the first offset, and again from an offset number', async () => {
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue('events', { durable: true, arguments: { 'x-queue-type': 'stream' } });
    for (let i = 0; i < 5; i++) channel.sendToQueue('events', Buffer.from(`e${i}`));
    await channel.waitForConfirms();
    const reader = await connection.createChannel();
    await reader.prefetch(10);
    const all = await collect(reader, 'events', 5, { arguments: { 'x-stream-offset': 'first' } });
    assert.deepEqual(all.map((m) => m.content.toString()), ['e0', 'e1', 'e2', 'e3', 'e4']);
    for (const message of all) reader.ack(message);
    const fromThree = await collect(reader, 'events', 2, { arguments: { 'x-stream-offset': 3 } });
    assert.deepEqual(fromThree.map((m) => m.content.toString()), ['e3', 'e4']);
    await reader.close();
    await channel.deleteQueue('events');
    await channel.close();
  });

  it('starts at a timestamp (field type T), at an interval back from now, at last and at next', async () => {
    const t0 = clock.now();
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue('timeline', { durable: true, arguments: { 'x-queue-type': 'stream' } });
    for (const body of ['old0', 'old1']) channel.sendToQueue('timeline', Buffer.from(body));
    await channel.waitForConfirms();
    clock.advance(10_000);
    for (const body of ['new0', 'new1']) channel.sendToQueue('timeline', Buffer.from(body));
    await channel.waitForConfirms();
    clock.advance(60_000);
    const bodies = (messages: amqp.ConsumeMessage[]): string[] => messages.map((m) => m.content.toString());

    const reader = await connection.createChannel();
    await reader.prefetch(10);
    const read = (offset: unknown, count: number) => collect(reader, 'timeline', count, { noAck: true, arguments: { 'x-stream-offset': offset } });
    // 5 s after the old messages were stored: the first message at or after it is new0.
    assert.deepEqual(bodies(await read(amqpTimestamp(t0 + 5000), 2)), ['new0', 'new1']);
    assert.deepEqual(bodies(await read(amqpTimestamp(t0), 4)), ['old0', 'old1', 'new0', 'new1']);
    // Now is t0 + 70 s: 65 s back is t0 + 5 s; 2 minutes back is before everything.
    assert.deepEqual(bodies(await read('65s', 2)), ['new0', 'new1']);
    assert.deepEqual(bodies(await read('2m', 4)), ['old0', 'old1', 'new0', 'new1']);
    assert.deepEqual(bodies(await read('last', 1)), ['new1']);
    assert.deepEqual(bodies(await read(2, 2)), ['new0', 'new1']);

    const next = read('next', 1);
    // consume-ok has come back once the consumer's channel answers a later synchronous method.
    await reader.checkQueue('timeline');
    channel.sendToQueue('timeline', Buffer.from('latest'));
    await channel.waitForConfirms();
    assert.deepEqual(bodies(await next), ['latest']);
    await reader.close();
    await channel.deleteQueue('timeline');
    await channel.close();
  });

  it('refuses an x-stream-offset it cannot read with 406', async () => {
    const channel = await connection.createChannel();
    await channel.assertQueue('offsets-bad', { durable: true, arguments: { 'x-queue-type': 'stream' } });
    const closed = within<Error>(5000, 'the channel error', (resolve) => channel.on('error', resolve));
    await assert.rejects(channel.consume('offsets-bad', () => undefined, { arguments: { 'x-stream-offset': '1x' } }));
    const error = (await closed) as Error & { code?: number };
    assert.equal(error.code, 406);
    assert.match(error.message, /invalid x-stream-offset '1x'/);
    const cleanup = await connection.createChannel();
    await cleanup.deleteQueue('offsets-bad');
    await cleanup.close();
  });
});
