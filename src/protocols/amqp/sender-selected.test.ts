import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FieldTable } from './codec/index.js';
import { AmqpReplyError } from './errors.js';
import { senderSelectedKeys } from './sender-selected.js';

describe('CC / BCC routing keys', () => {
  it('collects CC then BCC keys, skips non-strings, and removes BCC only', () => {
    const headers: FieldTable = { CC: ['a', 7, 'b'], BCC: ['c'], other: 'x' };
    assert.deepEqual(senderSelectedKeys(headers), ['a', 'b', 'c']);
    assert.deepEqual(headers, { CC: ['a', 7, 'b'], other: 'x' });
  });

  it('returns undefined when neither header is there', () => {
    const headers: FieldTable = { other: 'x' };
    assert.equal(senderSelectedKeys(headers), undefined);
    assert.deepEqual(headers, { other: 'x' });
  });

  it('refuses a CC or BCC that is not an array with RabbitMQ’s 406 text', () => {
    const cases: [FieldTable, string][] = [
      [{ CC: 'a' }, '{unacceptable_type_in_header,"CC",longstr}'],
      [{ BCC: 5 }, '{unacceptable_type_in_header,"BCC",signedint}'],
      [{ CC: { a: 1 } }, '{unacceptable_type_in_header,"CC",table}'],
    ];
    for (const [headers, text] of cases) {
      assert.throws(
        () => senderSelectedKeys(headers),
        (error: unknown) => error instanceof AmqpReplyError && error.reply.code === 406 && error.reply.text === `PRECONDITION_FAILED - invalid message: ${text}`,
      );
    }
  });
});
