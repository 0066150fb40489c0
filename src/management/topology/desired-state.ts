import {
  serviceQueueName,
  TOPIC_EXCHANGE,
  type BindingSpec,
  type DesiredState,
  type QueueSpec,
  type TopologyDocument,
} from './topology-model.js';

/**
 * The broker entities a document stands for. Each service gets, for each topic it consumes, one durable
 * queue `{service}.{topic}` bound to `amq.topic` with the topic's name as key: every consuming service
 * receives every event, and the replicas of one service share the work on its queue. A queue of that name
 * declared under `queues` replaces the default definition (to give it a TTL or a dead-letter exchange).
 * The services themselves are broker records too (who produces and consumes what), with sorted topic lists
 * as the broker keeps them.
 */
export function desiredState(document: TopologyDocument): DesiredState {
  const queues = new Map<string, QueueSpec>(document.queues.map((queue) => [queue.name, queue]));
  const bindings: BindingSpec[] = [...document.bindings];
  for (const service of document.services) {
    for (const topic of service.consumes) {
      const name = serviceQueueName(service.name, topic);
      if (!queues.has(name)) queues.set(name, { name, durable: true, autoDelete: false, arguments: {} });
      bindings.push({ source: TOPIC_EXCHANGE, destination: name, destinationKind: 'queue', routingKey: topic, arguments: {} });
    }
  }
  return {
    topics: document.topics,
    exchanges: document.exchanges,
    queues: [...queues.values()],
    bindings: dedupeBindings(bindings),
    services: document.services.map((service) => ({ ...service, produces: [...service.produces].sort(), consumes: [...service.consumes].sort() })),
  };
}

function dedupeBindings(bindings: readonly BindingSpec[]): BindingSpec[] {
  const seen = new Set<string>();
  return bindings.filter((binding) => {
    const key = bindingKey(binding);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Identity of a binding, as the broker sees it (arguments included: headers bindings differ by them). */
export function bindingKey(binding: Pick<BindingSpec, 'source' | 'destination' | 'destinationKind' | 'routingKey' | 'arguments'>): string {
  return JSON.stringify([binding.source, binding.destinationKind, binding.destination, binding.routingKey, canonical(binding.arguments)]);
}

/** A JSON-able form with sorted keys, so equal tables compare equal whatever their key order. */
export function canonical(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}
