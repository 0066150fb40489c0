/**
 * The exchanges every broker has, as RabbitMQ clients expect them: the default exchange and the `amq.*`
 * exchanges (`amq.match` is RabbitMQ's second headers exchange).
 */
import type { ExchangeRecord, ExchangeType } from '../ports.js';
import type { Router } from './router.js';

function builtin(name: string, type: ExchangeType): ExchangeRecord {
  return Object.freeze({ name, type, durable: true, autoDelete: false, internal: false, arguments: Object.freeze({}) });
}

export const BUILTIN_EXCHANGES: readonly ExchangeRecord[] = Object.freeze([
  builtin('', 'direct'),
  builtin('amq.direct', 'direct'),
  builtin('amq.fanout', 'fanout'),
  builtin('amq.topic', 'topic'),
  builtin('amq.headers', 'headers'),
  builtin('amq.match', 'headers'),
]);

const BUILTIN_NAMES: ReadonlySet<string> = new Set(BUILTIN_EXCHANGES.map((record) => record.name));

export function isBuiltinExchange(name: string): boolean {
  return BUILTIN_NAMES.has(name);
}

/** Adds the built-in exchanges that are missing; idempotent (call it after loading metadata too). */
export function declareBuiltins(router: Router): void {
  for (const record of BUILTIN_EXCHANGES) router.addExchange(record);
}
