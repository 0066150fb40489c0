import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBrokerError } from '../../core/errors.js';
import { messageFromPublish, propertiesOfMessage } from './convert.js';

describe('AMQP properties <-> core message', () => {
  it('maps every property and round-trips them', () => {
    const body = new Uint8Array([1, 2, 3]);
    const message = messageFromPublish('ex', 'rk', {
      contentType: 'text/plain',
      contentEncoding: 'gzip',
      headers: { a: 1, b: 'two', c: [true, null] },
      deliveryMode: 2,
      priority: 7,
      correlationId: 'corr',
      replyTo: 'reply',
      expiration: '1500',
      messageId: 'mid',
      timestamp: 1_700_000_000,
      type: 't',
      userId: 'u',
      appId: 'app',
      clusterId: 'dropped',
    }, body);
    assert.equal(message.exchange, 'ex');
    assert.equal(message.routingKey, 'rk');
    assert.equal(message.persistent, true);
    assert.equal(message.body, body);
    assert.equal(message.properties.expiration, 1500);
    assert.equal(message.properties.timestamp, 1_700_000_000_000, 'seconds become milliseconds');
    assert.deepEqual(propertiesOfMessage(message), {
      contentType: 'text/plain',
      contentEncoding: 'gzip',
      headers: { a: 1, b: 'two', c: [true, null] },
      deliveryMode: 2,
      priority: 7,
      correlationId: 'corr',
      replyTo: 'reply',
      expiration: '1500',
      messageId: 'mid',
      timestamp: 1_700_000_000,
      type: 't',
      userId: 'u',
      appId: 'app',
    });
  });

  it('treats delivery-mode 1 or none as transient and leaves empty headers out', () => {
    const message = messageFromPublish('', 'q', { deliveryMode: 1 }, new Uint8Array(0));
    assert.equal(message.persistent, false);
    assert.deepEqual(message.headers, {});
    assert.deepEqual(propertiesOfMessage(message), {});
  });

  it('refuses an expiration that is not a non-negative integer (406 in RabbitMQ)', () => {
    for (const bad of ['-1', 'soon', '1.5', '']) {
      assert.throws(
        () => messageFromPublish('', 'q', { expiration: bad }, new Uint8Array(0)),
        (error: unknown) => isBrokerError(error, 'PRECONDITION_FAILED'),
        bad,
      );
    }
  });
});
