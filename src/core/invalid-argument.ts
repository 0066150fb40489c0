import { BrokerError } from './errors.js';
import type { HeaderValue } from './message/message.js';

/** The error for a declaration argument of the wrong type or value, worded as RabbitMQ words it. */
export function invalidArgument(name: string, expected: string, value: HeaderValue): BrokerError {
  return new BrokerError('INVALID_ARGUMENT', `invalid arg '${name}': expected ${expected}, got ${describeValue(value)}`, {
    argument: name,
  });
}

function describeValue(value: HeaderValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}`;
  if (value instanceof Uint8Array) return 'bytes';
  if (value === null) return 'void';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'object' ? 'table' : String(value);
}
