/**
 * `x-stream-offset` on basic.consume of a stream queue, in RabbitMQ's forms: `first`, `last`, `next`, an
 * offset number, an AMQP timestamp (field type T, seconds since the epoch: the first message at or after
 * that time), or an interval string such as `1D` or `30m` back from now.
 */
import type { StreamStart } from '../../core/stream/stream-reader.js';
import { readFieldTableTags, WireReader, type FieldValue } from './codec/index.js';
import { AmqpReplyError } from './errors.js';

const TAG_TIMESTAMP = 0x54;
const INTERVAL = /^([0-9]+)([YMDhms])$/;
/** RabbitMQ's units for intervals (as for `x-max-age`). */
const UNIT_MS: Readonly<Record<string, number>> = { Y: 365 * 86_400_000, M: 30 * 86_400_000, D: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };

/**
 * True when the `x-stream-offset` argument of the basic.consume in `payload` (a method frame's payload)
 * is typed T. The field-table decoding reads a T as a plain number, so the tag is looked up here; only
 * consumes with a numeric offset pay for it.
 */
export function consumeOffsetIsTimestamp(payload: Uint8Array): boolean {
  const reader = new WireReader(payload);
  reader.pos = 6; // class id, method id, reserved-1 (AMQP 0-9-1 §4.2.6, basic.consume)
  reader.shortStr(); // queue
  reader.shortStr(); // consumer-tag
  reader.octet(); // no-local, no-ack, exclusive, no-wait
  return readFieldTableTags(reader).get('x-stream-offset') === TAG_TIMESTAMP;
}

/** Where a stream consumer starts; `timestamp`: the value was typed T. `now` in milliseconds. */
export function streamStart(value: FieldValue | undefined, timestamp: boolean, now: number): StreamStart {
  if (value === undefined || value === null) return 'next';
  if (timestamp && (typeof value === 'number' || typeof value === 'bigint')) return { timestamp: Number(value) * 1000 };
  if (value === 'first' || value === 'last' || value === 'next') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return { offset: value };
  if (typeof value === 'bigint' && value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER)) return { offset: Number(value) };
  if (typeof value === 'string') {
    const match = INTERVAL.exec(value);
    if (match) return { timestamp: now - Number(match[1]) * UNIT_MS[match[2]!]! };
  }
  throw new AmqpReplyError('PRECONDITION_FAILED', `invalid x-stream-offset${typeof value === 'string' ? ` '${value}'` : ` of type ${typeof value}`}`);
}
