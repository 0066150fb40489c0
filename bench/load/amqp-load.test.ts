import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { startAmqpServer } from '../../test/integration/amqp-harness.js';
import { createAmqpConsumer, type AmqpConsumerConfig } from './amqp-consumer.js';
import { createAmqpPublisher, type AmqpPublisherConfig } from './amqp-publisher.js';
import {
  ACK_TAG_OFFSET,
  AmqpFrameReader,
  encodeBasicAck,
  encodeBasicConsume,
  encodeBasicQos,
  encodeConfirmSelect,
  encodePublishFrames,
  encodeQueueDeclare,
  encodeStartOk,
  encodeTuneOk,
  readAck,
  readBodySize,
  readDeliveryTag,
} from './amqp-wire.js';

// amqplib's generated codec, an implementation independent of both this encoder and Courier's.
const require = createRequire(import.meta.url);
interface DecodedFrame {
  readonly id?: number;
  readonly channel: number;
  readonly size?: number;
  readonly fields?: Record<string, unknown>;
  readonly content?: Buffer;
}
// Not among the package's exports: loaded by path, next to its entry point.
const amqplibFrame = require(join(dirname(require.resolve('amqplib')), 'lib', 'frame.js')) as {
  parseFrame(bin: Buffer, max: number): { type: number; channel: number; size: number; payload: Buffer; rest: Buffer } | false;
  decodeFrame(frame: { type: number; channel: number; payload: Buffer }): DecodedFrame;
};

function decodeAll(bytes: Buffer): DecodedFrame[] {
  const frames: DecodedFrame[] = [];
  let rest = bytes;
  while (rest.length > 0) {
    const parsed = amqplibFrame.parseFrame(rest, 0);
    assert.ok(parsed, 'a whole frame');
    frames.push(amqplibFrame.decodeFrame(parsed));
    rest = parsed.rest;
  }
  return frames;
}

test('pre-encoded publish frames decode with amqplib as basic.publish, a persistent header and the body', () => {
  const body = Buffer.alloc(1024, 0x61);
  const [method, header, content] = decodeAll(encodePublishFrames(1, 'bench-q', body, true));
  assert.equal(method?.id, (60 << 16) | 40);
  assert.equal(method?.channel, 1);
  assert.deepEqual({ exchange: method?.fields?.exchange, routingKey: method?.fields?.routingKey, mandatory: method?.fields?.mandatory }, { exchange: '', routingKey: 'bench-q', mandatory: false });
  assert.equal(header?.id, 60);
  assert.equal(header?.size, 1024);
  assert.equal(header?.fields?.deliveryMode, 2);
  assert.deepEqual(content?.content, body);
  assert.equal(decodeAll(encodePublishFrames(1, 'q', Buffer.alloc(16), false))[1]?.fields?.deliveryMode, 1);
});

test('set-up methods decode with amqplib with the intended arguments', () => {
  const [startOk] = decodeAll(encodeStartOk('guest', 'secret'));
  assert.equal(startOk?.fields?.mechanism, 'PLAIN');
  assert.deepEqual(startOk?.fields?.response, Buffer.from('\u0000guest\u0000secret'));
  assert.deepEqual(decodeAll(encodeTuneOk(2047, 131_072))[0]?.fields, { channelMax: 2047, frameMax: 131_072, heartbeat: 0 });
  const declare = decodeAll(encodeQueueDeclare(1, 'durable-q', { durable: true }))[0]?.fields;
  assert.deepEqual([declare?.queue, declare?.durable, declare?.exclusive, declare?.autoDelete, declare?.nowait], ['durable-q', true, false, false, false]);
  assert.equal(decodeAll(encodeBasicQos(1, 1000))[0]?.fields?.prefetchCount, 1000);
  const consume = decodeAll(encodeBasicConsume(1, 'q', 'tag-1'))[0]?.fields;
  assert.deepEqual([consume?.queue, consume?.consumerTag, consume?.noAck], ['q', 'tag-1', false]);
  assert.equal(decodeAll(encodeConfirmSelect(1))[0]?.fields?.nowait, false);
});

test('a patched multiple ack carries the delivery tag amqplib reads', () => {
  const ack = encodeBasicAck(1, 0, true);
  const tag = 2 ** 33 + 5;
  ack.writeUInt32BE(Math.floor(tag / 0x1_0000_0000), ACK_TAG_OFFSET);
  ack.writeUInt32BE(tag % 0x1_0000_0000, ACK_TAG_OFFSET + 4);
  const fields = decodeAll(ack)[0]?.fields;
  assert.equal(fields?.deliveryTag, tag);
  assert.equal(fields?.multiple, true);
  const read = { tag: 0, multiple: false };
  readAck(ack, 7, read);
  assert.deepEqual(read, { tag, multiple: true });
});

test('the frame reader finds every frame whatever the chunk boundaries, and reads deliver and header fields', () => {
  // A basic.deliver (consumer tag "ct", delivery tag 7) as a server would send it, then a header and body.
  const deliver = Buffer.from([0, 60, 0, 60, 2, 0x63, 0x74, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 1, 0x71]);
  const deliverFrame = Buffer.concat([Buffer.from([1, 0, 1]), Buffer.from([0, 0, 0, deliver.length]), deliver, Buffer.from([0xce])]);
  const stream = Buffer.concat([deliverFrame, encodePublishFrames(1, 'q', Buffer.alloc(300, 1), true).subarray(-(8 + 15) - (8 + 300))]);
  for (const size of [1, 2, 7, 13, 64, stream.length]) {
    const reader = new AmqpFrameReader();
    const seen: string[] = [];
    for (let offset = 0; offset < stream.length; offset += size) {
      reader.push(stream.subarray(offset, offset + size), (type, channel, data, start, end) => {
        if (type === 1) seen.push(`deliver ${readDeliveryTag(data, start)} ch${channel}`);
        else if (type === 2) seen.push(`header ${readBodySize(data, start)}`);
        else seen.push(`body ${end - start}`);
      });
    }
    assert.deepEqual(seen, ['deliver 7 ch1', 'header 300', 'body 300'], `chunks of ${size}`);
  }
});

test('publisher with confirms and consumer move every message through a real Courier AMQP listener', async () => {
  const server = await startAmqpServer();
  try {
    const endpoint = { host: '127.0.0.1', port: server.port, user: 'guest', password: 'guest', vhost: '/' };
    const queue = 'bench-load-test';
    const consumerConfig: AmqpConsumerConfig = { ...endpoint, label: 'consumer', queue, durableQueue: true, prefetch: 100, bodyBytes: 1024, expected: 3000, idleMs: 10_000, consumeOnGo: false };
    const publisherConfig: AmqpPublisherConfig = { ...endpoint, label: 'publisher', queue, durableQueue: true, persistent: true, confirms: true, bodyBytes: 1024, messages: 3000, window: 500 };
    const consumer = await createAmqpConsumer(consumerConfig);
    const publisher = await createAmqpPublisher(publisherConfig);
    consumer.go();
    publisher.go();
    const published = await publisher.result;
    const consumed = await consumer.result;
    await Promise.all([publisher.close(), consumer.close()]);
    assert.deepEqual({ sent: published.sent, confirmed: published.confirmed, nacked: published.nacked }, { sent: 3000, confirmed: 3000, nacked: 0 });
    assert.deepEqual({ received: consumed.received, badBodies: consumed.badBodies, timedOut: consumed.timedOut }, { received: 3000, badBodies: 0, timedOut: false });
  } finally {
    await server.close();
  }
});

test('a backlog filled without confirms is drained by a consumer that starts at go', async () => {
  const server = await startAmqpServer();
  try {
    const endpoint = { host: '127.0.0.1', port: server.port, user: 'guest', password: 'guest', vhost: '/' };
    const queue = 'bench-backlog-test';
    const publisher = await createAmqpPublisher({ ...endpoint, label: 'filler', queue, durableQueue: false, persistent: false, confirms: false, bodyBytes: 16, messages: 2000, window: 0 });
    publisher.go();
    assert.equal((await publisher.result).sent, 2000);
    await publisher.close();
    const consumer = await createAmqpConsumer({ ...endpoint, label: 'drainer', queue, durableQueue: false, prefetch: 1000, bodyBytes: 16, expected: 2000, idleMs: 10_000, consumeOnGo: true });
    consumer.go();
    const drained = await consumer.result;
    await consumer.close();
    assert.equal(drained.received, 2000);
    assert.equal(drained.badBodies, 0);
  } finally {
    await server.close();
  }
});
