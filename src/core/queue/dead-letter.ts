import type { HeaderTable, HeaderValue, Message } from '../message/message.js';
import type { DeadLetterReason } from './queue.js';

function isTable(value: HeaderValue | undefined): value is HeaderTable {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function deathsOf(message: Message): HeaderTable[] {
  const deaths = message.headers['x-death'];
  return Array.isArray(deaths) ? deaths.filter(isTable) : [];
}

/**
 * The message as it is re-published to a dead-letter exchange, with RabbitMQ's `x-death` history: one
 * entry per (queue, reason), most recent first, whose `count` grows on repeated deaths; the
 * `x-first-death-*` headers are set once. The per-message expiration is moved to `original-expiration`
 * so the copy does not expire again for the same reason.
 */
export function deadLetteredCopy(
  message: Message,
  queue: string,
  reason: DeadLetterReason,
  routingKey: string | undefined,
  exchange: string,
  nowMs: number,
): Message {
  const deaths = deathsOf(message);
  const index = deaths.findIndex((death) => death['queue'] === queue && death['reason'] === reason);
  const previous = index >= 0 ? deaths.splice(index, 1)[0] : undefined;
  const previousCount = typeof previous?.['count'] === 'number' ? previous['count'] : 0;
  const entry: HeaderTable = {
    count: previousCount + 1,
    reason,
    queue,
    time: Math.floor(nowMs / 1000),
    exchange: message.exchange,
    'routing-keys': [message.routingKey],
  };
  if (message.properties.expiration !== undefined) entry['original-expiration'] = String(message.properties.expiration);
  const headers: HeaderTable = { ...message.headers, 'x-death': [entry, ...deaths] };
  if (headers['x-first-death-queue'] === undefined) {
    headers['x-first-death-queue'] = queue;
    headers['x-first-death-reason'] = reason;
    headers['x-first-death-exchange'] = message.exchange;
  }
  headers['x-last-death-queue'] = queue;
  headers['x-last-death-reason'] = reason;
  headers['x-last-death-exchange'] = message.exchange;
  const { expiration: _expiration, ...properties } = message.properties;
  return {
    ...message,
    exchange,
    routingKey: routingKey ?? message.routingKey,
    headers,
    properties,
  };
}

/**
 * RabbitMQ's cycle rule: a dead-lettered message is not delivered again to a queue it already died in,
 * unless one of its deaths was a rejection (a client decision, so not an automatic loop).
 */
export function wouldCycle(message: Message, targetQueue: string): boolean {
  const deaths = deathsOf(message);
  if (deaths.some((death) => death['reason'] === 'rejected')) return false;
  return deaths.some((death) => death['queue'] === targetQueue);
}
