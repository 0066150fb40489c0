import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBrokerError } from '../../core/errors.js';
import { parseFrame, requestIdOf, toRequest, DEFAULT_PREFETCH } from './ws-requests.js';

const request = (frame: Record<string, unknown>): ReturnType<typeof toRequest> => toRequest(frame);

function refused(frame: Record<string, unknown>, pattern: RegExp): void {
  assert.throws(() => toRequest(frame), (error) => isBrokerError(error, 'INVALID_ARGUMENT') && pattern.test(error.message), JSON.stringify(frame));
}

describe('/ws request parsing', () => {
  it('decodes text and UTF-8 binary messages, and refuses anything that is not a JSON object', () => {
    assert.deepEqual(parseFrame(Buffer.from('{"op":"ack"}'), false), { op: 'ack' });
    assert.deepEqual(parseFrame(Buffer.from('{"op":"ack"}'), true), { op: 'ack' });
    assert.throws(() => parseFrame(Buffer.from([0xff, 0xfe, 0x00]), true), /UTF-8 JSON/);
    assert.throws(() => parseFrame(Buffer.from('{op'), false), /not valid JSON/);
    assert.throws(() => parseFrame(Buffer.from('[1]'), false), /JSON object/);
    assert.throws(() => parseFrame(Buffer.from('null'), false), /JSON object/);
  });

  it('reads the id first: strings and numbers only', () => {
    assert.equal(requestIdOf({ id: 'a' }), 'a');
    assert.equal(requestIdOf({ id: 7 }), 7);
    assert.equal(requestIdOf({}), undefined);
    assert.throws(() => requestIdOf({ id: { x: 1 } }), /id must be/);
    assert.throws(() => requestIdOf({ id: 'x'.repeat(257) }), /id must be/);
  });

  it('builds a topic publish with text body, persistent by default', () => {
    const parsed = request({ op: 'publish', id: 1, topic: 'a.b', body: 'héllo', contentType: 'text/plain', headers: { n: 1, s: 'x', b: true } });
    assert.equal(parsed.op, 'publish');
    if (parsed.op !== 'publish') return;
    assert.equal(parsed.queue, undefined);
    assert.equal(parsed.message.exchange, 'amq.topic');
    assert.equal(parsed.message.routingKey, 'a.b');
    assert.equal(Buffer.from(parsed.message.body).toString('utf8'), 'héllo');
    assert.equal(parsed.message.persistent, true);
    assert.equal(parsed.message.properties.contentType, 'text/plain');
    assert.deepEqual(parsed.message.headers, { n: 1, s: 'x', b: true });
  });

  it('builds exchange and queue publishes with base64 bodies and properties', () => {
    const toExchange = request({ op: 'publish', exchange: 'e', routingKey: 'k', body: 'AAH/', encoding: 'base64', persistent: false, expiration: 500, correlationId: 'c', replyTo: 'r', messageId: 'm' });
    assert.ok(toExchange.op === 'publish');
    assert.deepEqual([...toExchange.message.body], [0, 1, 255]);
    assert.equal(toExchange.message.exchange, 'e');
    assert.equal(toExchange.message.routingKey, 'k');
    assert.equal(toExchange.message.persistent, false);
    assert.deepEqual(toExchange.message.properties, { correlationId: 'c', replyTo: 'r', messageId: 'm', expiration: 500 });
    const toQueue = request({ op: 'publish', queue: 'jobs' });
    assert.ok(toQueue.op === 'publish');
    assert.equal(toQueue.queue, 'jobs');
    assert.equal(toQueue.message.exchange, '');
    assert.equal(toQueue.message.routingKey, 'jobs');
    assert.equal(toQueue.message.body.byteLength, 0);
  });

  it('builds subscribe, unsubscribe, ack and nack with their defaults', () => {
    assert.deepEqual(request({ op: 'subscribe', subscription: 's', topic: 'a.*' }), {
      op: 'subscribe',
      id: undefined,
      subscription: 's',
      source: { topic: 'a.*' },
      ack: 'auto',
      prefetch: DEFAULT_PREFETCH,
    });
    assert.deepEqual(request({ op: 'subscribe', id: 'x', subscription: 's', queue: 'q', ack: 'client', prefetch: 0 }), {
      op: 'subscribe',
      id: 'x',
      subscription: 's',
      source: { queue: 'q' },
      ack: 'client',
      prefetch: 0,
    });
    assert.deepEqual(request({ op: 'unsubscribe', subscription: 's' }), { op: 'unsubscribe', id: undefined, subscription: 's' });
    assert.deepEqual(request({ op: 'ack', deliveryId: 3 }), { op: 'ack', id: undefined, deliveryId: 3 });
    assert.deepEqual(request({ op: 'nack', deliveryId: 3 }), { op: 'nack', id: undefined, deliveryId: 3, requeue: true });
    assert.deepEqual(request({ op: 'nack', deliveryId: 3, requeue: false }), { op: 'nack', id: undefined, deliveryId: 3, requeue: false });
  });

  it('names the problem: missing or unknown op, unknown and missing fields, wrong types', () => {
    refused({}, /missing field op/);
    refused({ op: 'shout' }, /unknown op "shout"/);
    refused({ op: 7 }, /unknown op 7/);
    refused({ op: 'publish', topic: 't', routingkey: 'k' }, /unknown field routingkey for op publish/);
    refused({ op: 'publish' }, /exactly one of topic, exchange, queue/);
    refused({ op: 'publish', topic: 't', queue: 'q' }, /got topic, queue/);
    refused({ op: 'publish', topic: 't', routingKey: 'k' }, /routingKey goes with exchange only/);
    refused({ op: 'publish', queue: '' }, /queue must not be empty/);
    refused({ op: 'publish', topic: 't', body: 5 }, /body must be a string/);
    refused({ op: 'publish', topic: 't', body: '!!', encoding: 'base64' }, /not valid base64/);
    refused({ op: 'publish', topic: 't', encoding: 'hex' }, /encoding must be utf8 or base64/);
    refused({ op: 'publish', topic: 't', headers: { h: { nested: 1 } } }, /header h must be/);
    refused({ op: 'publish', topic: 't', headers: [] }, /headers must be an object/);
    refused({ op: 'publish', topic: 't', persistent: 'yes' }, /persistent must be true or false/);
    refused({ op: 'publish', topic: 't', expiration: -1 }, /expiration must be an integer/);
    refused({ op: 'subscribe', topic: 't' }, /missing field subscription/);
    refused({ op: 'subscribe', subscription: '', topic: 't' }, /subscription must be 1 to 256/);
    refused({ op: 'subscribe', subscription: 's' }, /exactly one of topic, queue/);
    refused({ op: 'subscribe', subscription: 's', topic: '' }, /topic must not be empty/);
    refused({ op: 'subscribe', subscription: 's', topic: 't', ack: 'client-individual' }, /ack must be auto or client/);
    refused({ op: 'subscribe', subscription: 's', topic: 't', prefetch: 70000 }, /prefetch must be an integer from 0 to 65535/);
    refused({ op: 'ack' }, /missing field deliveryId/);
    refused({ op: 'ack', deliveryId: 1.5 }, /deliveryId must be an integer/);
    refused({ op: 'nack', deliveryId: 1, requeue: 'no' }, /requeue must be true or false/);
  });
});
