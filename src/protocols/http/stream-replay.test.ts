import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBrokerError } from '../../core/errors.js';
import { parseFrom } from './stream-replay.js';

describe('parseFrom', () => {
  it('reads first, last, offsets and ISO timestamps', () => {
    assert.equal(parseFrom(null), 'first');
    assert.equal(parseFrom('first'), 'first');
    assert.equal(parseFrom('last'), 'last');
    assert.deepEqual(parseFrom('42'), { offset: 42 });
    assert.deepEqual(parseFrom('2026-01-02T03:04:05Z'), { timestamp: Date.UTC(2026, 0, 2, 3, 4, 5) });
  });

  it('refuses anything else with INVALID_ARGUMENT', () => {
    for (const text of ['-1', 'yesterday', '1.5', 'Tue, 01 Jan 2026']) {
      assert.throws(() => parseFrom(text), (error) => isBrokerError(error, 'INVALID_ARGUMENT'), text);
    }
  });
});
