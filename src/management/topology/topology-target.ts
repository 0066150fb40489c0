import type { BindingSpec, CurrentState, ExchangeSpec, QueueSpec, ServiceSpec, TopicSpec } from './topology-model.js';

/**
 * Where a topology is read from and applied to: the REST management API (the CLI) or the in-process broker
 * (`courier serve --topology`). Every write is a declare that succeeds when the entity already exists as
 * given, so applying a plan twice, or racing another client, does no harm.
 */
export interface TopologyTarget {
  readState(): Promise<CurrentState>;
  createTopic(topic: TopicSpec): Promise<void>;
  /** Sets display name, description and retention to the given topic's. */
  updateTopic(topic: TopicSpec): Promise<void>;
  declareExchange(exchange: ExchangeSpec): Promise<void>;
  declareQueue(queue: QueueSpec): Promise<void>;
  bind(binding: BindingSpec): Promise<void>;
  /** Creates or replaces the service record (its topics exist by then: apply creates topics first). */
  putService(service: ServiceSpec): Promise<void>;
}
