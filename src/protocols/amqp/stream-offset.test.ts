import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeMethod } from './codec/index.js';
import { AmqpReplyError } from './errors.js';
import { consumeOffsetIsTimestamp, streamStart } from './stream-offset.js';

/** A basic.consume payload on queue `q` whose arguments hold x-stream-offset 1700000005 with `tag`. */
function consumePayload(tag: 'T' | 'l'): Buffer {
  const name = Buffer.from('x-stream-offset');
  const value = Buffer.alloc(8);
  value.writeBigUInt64BE(1_700_000_005n);
  const entry = Buffer.concat([Buffer.from([name.length]), name, Buffer.from(tag), value]);
  const size = Buffer.alloc(4);
  size.writeUInt32BE(entry.length);
  return Buffer.concat([Buffer.from([0, 60, 0, 20, 0, 0, 1]), Buffer.from('q'), Buffer.from([0, 0]), size, entry]);
}

describe('x-stream-offset', () => {
  it('tells a T-typed offset from an integer one in the basic.consume payload', () => {
    for (const tag of ['T', 'l'] as const) {
      const payload = consumePayload(tag);
      const method = decodeMethod(payload);
      assert.equal(method.name, 'basic.consume');
      assert.equal(method.name === 'basic.consume' && method.arguments['x-stream-offset'], 1_700_000_005, 'both decode to the number');
      assert.equal(consumeOffsetIsTimestamp(payload), tag === 'T');
    }
  });

  it('reads every form RabbitMQ accepts', () => {
    const now = 1_700_000_100_000;
    assert.equal(streamStart(undefined, false, now), 'next');
    for (const word of ['first', 'last', 'next'] as const) assert.equal(streamStart(word, false, now), word);
    assert.deepEqual(streamStart(42, false, now), { offset: 42 });
    assert.deepEqual(streamStart(42n, false, now), { offset: 42 });
    assert.deepEqual(streamStart(1_700_000_005, true, now), { timestamp: 1_700_000_005_000 });
    assert.deepEqual(streamStart('30s', false, now), { timestamp: now - 30_000 });
    assert.deepEqual(streamStart('1h', false, now), { timestamp: now - 3_600_000 });
    assert.deepEqual(streamStart('2D', false, now), { timestamp: now - 2 * 86_400_000 });
  });

  it('refuses anything else with 406', () => {
    for (const value of ['1x', 'soon', -1, 1.5, true, new Uint8Array(1)]) {
      assert.throws(
        () => streamStart(value, false, 0),
        (error: unknown) => error instanceof AmqpReplyError && error.reply.code === 406 && /invalid x-stream-offset/.test(error.reply.text),
      );
    }
  });
});
