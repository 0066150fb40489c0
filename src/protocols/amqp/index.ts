import type { Socket } from 'node:net';
import { createAmqpAdapter, type AmqpAdapterContext, type AmqpAdapterOptions } from './adapter.js';

export { createAmqpAdapter, type AmqpAdapter, type AmqpAdapterContext, type AmqpAdapterOptions } from './adapter.js';

/** A factory for the server's adapter list (structurally the server's ProtocolAdapterFactory). */
export interface AmqpAdapterFactory {
  readonly protocol: 'amqp';
  create(context: AmqpAdapterContext): { accept(socket: Socket): void; close(): Promise<void> };
}

export function createAmqpAdapterFactory(options: AmqpAdapterOptions = {}): AmqpAdapterFactory {
  return { protocol: 'amqp', create: (context) => createAmqpAdapter(context, options) };
}

/** The AMQP adapter with default limits and timings, as `courier serve` runs it. */
export const amqpAdapterFactory: AmqpAdapterFactory = createAmqpAdapterFactory();
