import type { Channel } from '../../core/channel.js';
import type { StompHeaders } from './codec/frame.js';
import { invalidHeader } from './errors.js';

export type AckMode = 'auto' | 'client' | 'client-individual';

/** One SUBSCRIBE: its own core channel, so that `client` acks are cumulative within the subscription only. */
export interface Subscription {
  /** Session-local number, part of the ack ids of its messages. */
  readonly index: number;
  readonly id: string;
  readonly ackMode: AckMode;
  readonly channel: Channel;
  consumerTag: string;
  readonly queue: string;
  /** Its queue is a durable subscription's (UNSUBSCRIBE with `durable:true` deletes it). */
  readonly durableSubscription: boolean;
  /** MESSAGE frames name this destination instead of where the message was published (temp queues). */
  readonly fixedDestination: string | undefined;
  /** False once unsubscribed: it only remains for acks of messages still unacknowledged. */
  active: boolean;
}

export function parseAckMode(value: string | undefined): AckMode {
  if (value === undefined || value === 'auto') return 'auto';
  if (value === 'client' || value === 'client-individual') return value;
  throw invalidHeader('ack', value, "'auto', 'client' or 'client-individual'");
}

const COUNT = /^[0-9]+$/;

/** RabbitMQ's `prefetch-count`: unacked messages the subscription may hold; absent or 0 = unlimited. */
export function parsePrefetch(headers: StompHeaders): number {
  const value = headers.get('prefetch-count');
  if (value === undefined) return 0;
  const count = COUNT.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(count) || count > 65535) throw invalidHeader('prefetch-count', value, 'an integer from 0 to 65535');
  return count;
}

/** The `message-id` / `ack` of a delivery: unique across sessions, and naming its subscription and tag. */
export function ackIdOf(sessionId: string, subscription: Subscription, deliveryTag: number): string {
  return `${sessionId}-${subscription.index}-${deliveryTag}`;
}

const DIGITS = /^[0-9]+$/;

/** Reads an ack id made by `ackIdOf` for this session; undefined when it is not one. */
export function parseAckId(sessionId: string, ackId: string): { index: number; deliveryTag: number } | undefined {
  const last = ackId.lastIndexOf('-');
  const middle = last > 0 ? ackId.lastIndexOf('-', last - 1) : -1;
  if (middle < 0 || ackId.slice(0, middle) !== sessionId) return undefined;
  const index = ackId.slice(middle + 1, last);
  const tag = ackId.slice(last + 1);
  if (!DIGITS.test(index) || !DIGITS.test(tag)) return undefined;
  const deliveryTag = Number(tag);
  if (!Number.isSafeInteger(deliveryTag)) return undefined;
  return { index: Number(index), deliveryTag };
}
