import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AmqpCodecError, frameError, isAmqpCodecError } from './codec-error.js';

describe('codec errors', () => {
  it('carry the reply code and RabbitMQ-style reply text', () => {
    const error = new AmqpCodecError('NOT_IMPLEMENTED', 'unknown method: class 99, method 1', 99, 1);
    assert.equal(error.replyCode, 540);
    assert.equal(error.replyText, 'NOT_IMPLEMENTED - unknown method: class 99, method 1');
    assert.equal(error.name, 'AmqpCodecError');
    assert.ok(error instanceof Error);
    assert.ok(isAmqpCodecError(error, 'NOT_IMPLEMENTED'));
    assert.ok(!isAmqpCodecError(error, 'FRAME_ERROR'));
    assert.ok(!isAmqpCodecError(new Error('x')));
  });

  it('are attributed to a method once, keeping the first attribution', () => {
    const error = frameError('truncated');
    const attributed = error.inMethod(60, 40);
    assert.deepEqual([attributed.replyCode, attributed.classId, attributed.methodId, attributed.message], [501, 60, 40, 'truncated']);
    assert.equal(attributed.inMethod(10, 10), attributed);
  });
});
