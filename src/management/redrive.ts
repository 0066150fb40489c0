import type { Broker } from '../core/broker.js';
import { BrokerError } from '../core/errors.js';
import type { HeaderTable, HeaderValue, Message } from '../core/message/message.js';
import type { Principal } from '../core/ports.js';
import { sendJson } from '../transport/http/problem.js';
import { optionalInteger, onlyFields, readJsonBody } from './body.js';
import type { ManagementRequest } from './route-types.js';

export const DEFAULT_REDRIVE_MAX = 10_000;
export const MAX_REDRIVE = 1_000_000;
/** Messages published before their durability is awaited together: one fsync covers a batch, not each. */
const BATCH = 64;

export interface RedriveResult {
  readonly moved: number;
  /** Messages left in the queue: no x-death origin, or the origin refused or did not route them. */
  readonly skipped: number;
}

function isTable(value: HeaderValue | undefined): value is HeaderTable {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/**
 * Where a dead letter came from: the exchange and first routing key of its first `x-death` entry (the
 * most recent death, see src/core/queue/dead-letter.ts), i.e. how it reached the queue it died in.
 */
export function deadLetterOrigin(message: Message): { exchange: string; routingKey: string } | undefined {
  const deaths = message.headers['x-death'];
  const first = Array.isArray(deaths) ? deaths[0] : undefined;
  if (!isTable(first)) return undefined;
  const exchange = first['exchange'];
  const keys = first['routing-keys'];
  const routingKey = Array.isArray(keys) ? keys[0] : undefined;
  if (typeof exchange !== 'string' || typeof routingKey !== 'string') return undefined;
  return { exchange, routingKey };
}

/**
 * Moves up to `max` ready messages of a dead-letter queue back to where they came from. Each message is
 * all or nothing: it is republished first and acked only once the republish is durable; one that cannot
 * go back (no origin, exchange gone, refused, unroutable, not durable) stays in the queue, in its place.
 * Only the messages present at the start are visited, so a route leading back into this queue never loops.
 */
export async function redriveQueue(broker: Broker, principal: Principal, name: string, max: number): Promise<RedriveResult> {
  if (broker.getStream(name)) {
    throw new BrokerError('PRECONDITION_FAILED', `'${name}' is a stream: streams keep their messages, there is nothing to move`, { queue: name });
  }
  const queue = broker.resolveQueue(principal, undefined, name, 'read');
  let remaining = Math.min(max, queue.messageCount);
  // A channel of no connection: the management API holds the messages only while moving them, and
  // closing it returns every one it could not move.
  const channel = broker.newChannel(0);
  let moved = 0;
  // Messages that stay: held until the end (so the next get takes the next message), then given back
  // uncounted, so that looking at them costs no delivery attempt against an x-delivery-limit.
  const stay: number[] = [];
  try {
    while (remaining > 0) {
      const batch: { tag: number; durable: Promise<void> }[] = [];
      while (batch.length < BATCH && remaining > 0) {
        const delivery = await channel.get(queue, false);
        if (!delivery) {
          remaining = 0;
          break;
        }
        remaining -= 1;
        const origin = deadLetterOrigin(delivery.message);
        if (!origin) {
          stay.push(delivery.deliveryTag);
          continue;
        }
        try {
          const outcome = broker.publish(principal, { ...delivery.message, exchange: origin.exchange, routingKey: origin.routingKey });
          if (outcome.routed === 0 || outcome.rejected) {
            stay.push(delivery.deliveryTag);
            continue;
          }
          batch.push({ tag: delivery.deliveryTag, durable: outcome.durable });
        } catch (error) {
          if (!(error instanceof BrokerError) || error.code === 'BROKER_CLOSED') throw error;
          stay.push(delivery.deliveryTag);
        }
      }
      const settled = await Promise.allSettled(batch.map((entry) => entry.durable));
      settled.forEach((result, index) => {
        if (result.status === 'fulfilled') {
          channel.ack(batch[index]!.tag);
          moved += 1;
        } else {
          stay.push(batch[index]!.tag);
        }
      });
    }
  } finally {
    // Back in their places (offset order), each as often delivered as before.
    for (const tag of stay) if (!channel.isClosed) channel.release(tag);
    channel.close();
  }
  return { moved, skipped: stay.length };
}

/** POST /api/queues/{name}/redrive `{ max? }` -> `{ moved, skipped }`. */
export async function redrive(api: ManagementRequest, name: string): Promise<void> {
  const body = await readJsonBody(api, true);
  onlyFields(body, ['max'], 'a redrive request');
  const max = optionalInteger(body, 'max', 1, MAX_REDRIVE) ?? DEFAULT_REDRIVE_MAX;
  sendJson(api.response, 200, await redriveQueue(api.broker, api.principal, name, max));
}
