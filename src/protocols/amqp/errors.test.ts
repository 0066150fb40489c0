import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BrokerError } from '../../core/errors.js';
import { AmqpCodecError } from './codec/index.js';
import { AmqpReplyError, replyFor, replyOf } from './errors.js';

describe('AMQP reply codes', () => {
  it('maps broker errors to RabbitMQ reply codes and texts', () => {
    const cases: [BrokerError, number, boolean][] = [
      [new BrokerError('QUEUE_NOT_FOUND', "no queue 'x' in vhost '/'"), 404, false],
      [new BrokerError('EXCHANGE_NOT_FOUND', 'x'), 404, false],
      [new BrokerError('STREAM_NOT_FOUND', 'x'), 404, false],
      [new BrokerError('RESOURCE_LOCKED', 'x'), 405, false],
      [new BrokerError('PRECONDITION_FAILED', 'x'), 406, false],
      [new BrokerError('INVALID_ARGUMENT', 'x'), 406, false],
      [new BrokerError('IN_USE', 'x'), 406, false],
      [new BrokerError('NOT_EMPTY', 'x'), 406, false],
      [new BrokerError('UNKNOWN_DELIVERY_TAG', 'x'), 406, false],
      [new BrokerError('ACCESS_REFUSED', 'x'), 403, false],
      [new BrokerError('RESERVED_NAME', 'x'), 403, false],
      [new BrokerError('EXCLUSIVE_CONSUMER', 'x'), 403, false],
      [new BrokerError('CONSUMER_TAG_IN_USE', 'x'), 530, true],
      [new BrokerError('BROKER_CLOSED', 'x'), 320, true],
      [new BrokerError('INTERNAL', 'x'), 541, true],
    ];
    for (const [error, code, hard] of cases) {
      const reply = replyFor(error);
      assert.equal(reply.code, code, error.code);
      assert.equal(reply.hard, hard, error.code);
    }
    assert.equal(replyFor(new BrokerError('QUEUE_NOT_FOUND', "no queue 'x' in vhost '/'")).text, "NOT_FOUND - no queue 'x' in vhost '/'");
    assert.equal(
      replyFor(new BrokerError('EXCLUSIVE_CONSUMER', "cannot obtain exclusive access to queue 'q': it has consumers", { queue: 'q' })).text,
      "ACCESS_REFUSED - queue 'q' in vhost '/' in exclusive use",
      "RabbitMQ's one text for both exclusive-consumer refusals",
    );
  });

  it('keeps codec and session errors as they are, and hides unexpected ones', () => {
    const codec = replyFor(new AmqpCodecError('FRAME_ERROR', 'bad frame end'));
    assert.deepEqual(codec, { code: 501, text: 'FRAME_ERROR - bad frame end', hard: true });
    assert.deepEqual(replyOf(new AmqpReplyError('UNEXPECTED_FRAME', 'no header')), { code: 505, text: 'UNEXPECTED_FRAME - no header', hard: true });
    assert.deepEqual(replyOf(new Error('secret detail')), { code: 541, text: 'INTERNAL_ERROR - internal error', hard: true });
  });
});
