 
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBrokerError } from '../errors.js';
import { parseMaxAge, parseStreamArguments, streamLogOptions } from './stream-arguments.js';

const SECOND = 1000;
const DAY = 24 * 60 * 60 * SECOND;

function assertInvalid(fn: () => unknown, argument: string, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(isBrokerError(error, 'INVALID_ARGUMENT'), `expected INVALID_ARGUMENT, got ${String(error)}`);
    assert.equal(error.details?.['argument'], argument);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('parseMaxAge', () => {
  it('accepts every RabbitMQ unit', () => {
    assert.equal(parseMaxAge('10s'), 10 * SECOND);
    assert.equal(parseMaxAge('30m'), 30 * 60 * SECOND);
    assert.equal(parseMaxAge('12h'), 12 * 60 * 60 * SECOND);
    assert.equal(parseMaxAge('7D'), 7 * DAY);
    assert.equal(parseMaxAge('1M'), 30 * DAY);
    assert.equal(parseMaxAge('1Y'), 365 * DAY);
  });

  it('refuses zero, missing or unknown units, fractions, spaces and signs', () => {
    for (const text of ['0s', '10', 's', '10d', '10H', '1.5h', ' 10s', '10s ', '-1s', '+1s', '1h30m', '']) {
      assertInvalid(() => parseMaxAge(text), 'x-max-age', /x-max-age.*'7D'/);
    }
  });

  it('refuses durations too large to represent exactly', () => {
    assertInvalid(() => parseMaxAge('99999999999999999Y'), 'x-max-age', /x-max-age/);
  });
});

describe('parseStreamArguments', () => {
  it('gives no limits without arguments', () => {
    assert.deepEqual(parseStreamArguments({}), { maxAgeMs: undefined, maxBytes: undefined, segmentBytes: undefined });
  });

  it('reads the RabbitMQ stream arguments and ignores the others', () => {
    const settings = parseStreamArguments({
      'x-queue-type': 'stream',
      'x-max-age': '7D',
      'x-max-length-bytes': 20_000_000_000n,
      'x-stream-max-segment-size-bytes': 500_000_000,
      'x-queue-leader-locator': 'client-local',
    });
    assert.deepEqual(settings, { maxAgeMs: 7 * DAY, maxBytes: 20_000_000_000, segmentBytes: 500_000_000 });
  });

  it('accepts x-max-age given as AMQP long-string bytes', () => {
    assert.equal(parseStreamArguments({ 'x-max-age': new TextEncoder().encode('12h') }).maxAgeMs, 12 * 60 * 60 * SECOND);
  });

  it('refuses invalid values with the argument named', () => {
    assertInvalid(() => parseStreamArguments({ 'x-max-age': 3600 }), 'x-max-age', /x-max-age.*got 3600/);
    assertInvalid(() => parseStreamArguments({ 'x-max-age': '1 day' }), 'x-max-age', /"1 day"/);
    assertInvalid(() => parseStreamArguments({ 'x-max-length-bytes': -1 }), 'x-max-length-bytes', /integer >= 0.*-1/);
    assertInvalid(() => parseStreamArguments({ 'x-max-length-bytes': 1.5 }), 'x-max-length-bytes', /x-max-length-bytes/);
    assertInvalid(() => parseStreamArguments({ 'x-max-length-bytes': '1000' }), 'x-max-length-bytes', /"1000"/);
    assertInvalid(
      () => parseStreamArguments({ 'x-stream-max-segment-size-bytes': 0 }),
      'x-stream-max-segment-size-bytes',
      /integer >= 1/,
    );
    assertInvalid(
      () => parseStreamArguments({ 'x-stream-max-segment-size-bytes': true }),
      'x-stream-max-segment-size-bytes',
      /got true/,
    );
  });
});

describe('streamLogOptions', () => {
  it("uses the stream's segment size, else the default, else none", () => {
    const fsync = { mode: 'always' } as const;
    assert.deepEqual(streamLogOptions(parseStreamArguments({ 'x-stream-max-segment-size-bytes': 1000 }), fsync, 64), {
      fsync,
      segmentBytes: 1000,
    });
    assert.deepEqual(streamLogOptions(parseStreamArguments({}), fsync, 64), { fsync, segmentBytes: 64 });
    assert.deepEqual(streamLogOptions(parseStreamArguments({}), fsync), { fsync });
  });
});
