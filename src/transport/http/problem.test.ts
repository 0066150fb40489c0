import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BrokerError } from '../../core/errors.js';
import { problemFor, statusForCode } from './problem.js';

describe('problemFor', () => {
  it('maps core codes to HTTP statuses', () => {
    assert.equal(statusForCode('QUEUE_NOT_FOUND'), 404);
    assert.equal(statusForCode('PRECONDITION_FAILED'), 409);
    assert.equal(statusForCode('INVALID_NAME'), 400);
    assert.equal(statusForCode('QUEUE_FULL'), 429);
    assert.equal(statusForCode('ACCESS_REFUSED'), 403);
    assert.equal(statusForCode('STORAGE_IO'), 500);
  });

  it('honours an explicit httpStatus and hides internal details', () => {
    assert.deepEqual(problemFor(new BrokerError('INVALID_ARGUMENT', 'too big', { httpStatus: 413 }), '/x'), {
      status: 413,
      detail: 'too big',
      code: 'INVALID_ARGUMENT',
      instance: '/x',
    });
    const internal = problemFor(new BrokerError('STORAGE_IO', 'disk /secret failed'), '/x');
    assert.equal(internal.status, 500);
    assert.doesNotMatch(internal.detail, /secret/);
    assert.equal(problemFor(new TypeError('boom'), '/x').code, 'INTERNAL');
  });
});
