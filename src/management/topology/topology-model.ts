/**
 * The shapes topology-as-code works with: what a `courier.yaml` declares (the document), the broker
 * entities it stands for (the desired state), and what a broker has now (the current state). The plan
 * engine compares the last two; both targets (REST API, in-process broker) read and write these shapes.
 */
import type { HeaderTable } from '../../core/message/message.js';

export interface TopicRetentionSpec {
  readonly maxAgeMs?: number;
  readonly maxBytes?: number;
}

export interface TopicSpec {
  readonly name: string;
  /** Defaults to the name, as the broker's registry does. */
  readonly displayName: string;
  readonly description: string;
  /** Present: the topic keeps history in a stream of its name. */
  readonly retention?: TopicRetentionSpec;
}

export type ExchangeType = 'direct' | 'fanout' | 'topic' | 'headers';

export interface ExchangeSpec {
  readonly name: string;
  readonly type: ExchangeType;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly internal: boolean;
  readonly arguments: HeaderTable;
}

export interface QueueSpec {
  readonly name: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly arguments: HeaderTable;
}

export interface BindingSpec {
  readonly source: string;
  readonly destination: string;
  readonly destinationKind: 'queue' | 'exchange';
  readonly routingKey: string;
  readonly arguments: HeaderTable;
}

export interface ServiceSpec {
  readonly name: string;
  /** Left out: the broker shows the name. */
  readonly displayName?: string;
  readonly description?: string;
  /** Topic names, sorted, without duplicates (as the broker stores them). */
  readonly produces: readonly string[];
  readonly consumes: readonly string[];
}

/** A parsed `courier.yaml`, checked for every rule the parser knows. */
export interface TopologyDocument {
  readonly topics: readonly TopicSpec[];
  readonly exchanges: readonly ExchangeSpec[];
  readonly queues: readonly QueueSpec[];
  readonly bindings: readonly BindingSpec[];
  readonly services: readonly ServiceSpec[];
}

/** Broker entities a document stands for: its own plus the queues and bindings its services need. */
export type DesiredState = TopologyDocument;

export interface CurrentQueue {
  readonly name: string;
  readonly type: 'classic' | 'quorum' | 'stream';
  readonly durable: boolean;
  readonly exclusive: boolean;
  readonly autoDelete: boolean;
  /** Undefined when the target cannot tell (then arguments are not compared). */
  readonly arguments: HeaderTable | undefined;
}

export interface CurrentBinding {
  readonly source: string;
  readonly destination: string;
  /** Streams are queues here (they share the queues' namespace). */
  readonly destinationKind: 'queue' | 'exchange';
  readonly routingKey: string;
  readonly arguments: HeaderTable;
}

/** What a broker has now, as far as topology is concerned. */
export interface CurrentState {
  readonly topics: readonly TopicSpec[];
  readonly exchanges: readonly ExchangeSpec[];
  readonly queues: readonly CurrentQueue[];
  readonly bindings: readonly CurrentBinding[];
  readonly services: readonly ServiceSpec[];
}

/** The exchange every topic lives in (DESIGN §3): a topic's name is its routing key there. */
export const TOPIC_EXCHANGE = 'amq.topic';

/**
 * The queue of `service` for `topic`: one per (service, topic), shared by the service's replicas. Service
 * names have no dots, so `{service}.{topic}` never collides between two pairs.
 */
export function serviceQueueName(service: string, topic: string): string {
  return `${service}.${topic}`;
}
