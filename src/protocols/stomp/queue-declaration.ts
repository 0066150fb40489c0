import type { QueueDeclaration } from '../../core/broker.js';
import type { HeaderTable } from '../../core/message/message.js';
import type { StompHeaders } from './codec/frame.js';
import { invalidHeader } from './errors.js';

/**
 * Queue properties a SEND or SUBSCRIBE may carry for the queue it declares (RabbitMQ's "Queue
 * Properties": `durable`, `auto-delete`, `exclusive` and the `x-` arguments, typed here because STOMP
 * headers are strings and the core checks argument types).
 */
const integerArguments = ['x-expires', 'x-max-length', 'x-max-length-bytes', 'x-max-priority', 'x-message-ttl', 'x-delivery-limit'];
const stringArguments = ['x-dead-letter-exchange', 'x-dead-letter-routing-key', 'x-overflow', 'x-queue-type'];
const booleanArguments = ['x-single-active-consumer'];
const INTEGER = /^[0-9]+$/;

function flag(headers: StompHeaders, name: string, fallback: boolean): boolean {
  const value = headers.get(name);
  if (value === undefined) return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw invalidHeader(name, value, "'true' or 'false'");
}

export function queueArguments(headers: StompHeaders): HeaderTable {
  const args: HeaderTable = {};
  for (const name of integerArguments) {
    const value = headers.get(name);
    if (value === undefined) continue;
    if (!INTEGER.test(value) || !Number.isSafeInteger(Number(value))) throw invalidHeader(name, value, 'a non-negative integer');
    args[name] = Number(value);
  }
  for (const name of stringArguments) {
    const value = headers.get(name);
    if (value !== undefined) args[name] = value;
  }
  for (const name of booleanArguments) {
    if (headers.has(name)) args[name] = flag(headers, name, false);
  }
  return args;
}

export interface QueueDefaults {
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly exclusive: boolean;
}

/** The declaration of `name` with the frame's properties over the destination type's defaults. */
export function queueDeclaration(name: string, headers: StompHeaders, defaults: QueueDefaults): QueueDeclaration {
  return {
    name,
    durable: flag(headers, 'durable', defaults.durable),
    autoDelete: flag(headers, 'auto-delete', defaults.autoDelete),
    exclusive: flag(headers, 'exclusive', defaults.exclusive),
    arguments: queueArguments(headers),
  };
}

/** A durable subscription asks with `durable:true` (RabbitMQ also accepts the older `persistent:true`). */
export function wantsDurableSubscription(headers: StompHeaders): boolean {
  return headers.get('durable') === 'true' || headers.get('persistent') === 'true';
}
