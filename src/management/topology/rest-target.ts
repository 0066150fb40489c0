import type { HeaderTable } from '../../core/message/message.js';
import { segment, type ManagementClient } from './management-client.js';
import type { BindingSpec, CurrentBinding, CurrentQueue, CurrentState, ExchangeSpec, QueueSpec, ServiceSpec, TopicRetentionSpec, TopicSpec } from './topology-model.js';
import type { TopologyTarget } from './topology-target.js';

interface TopicJson {
  name: string;
  displayName?: string;
  description?: string;
  retention?: TopicRetentionSpec | null;
}

interface QueueJson {
  name: string;
  type?: CurrentQueue['type'];
  durable: boolean;
  exclusive?: boolean;
  autoDelete?: boolean;
  arguments?: HeaderTable;
}

interface ServiceJson {
  name: string;
  displayName?: string;
  description?: string;
  produces?: string[];
  consumes?: string[];
}

interface BindingJson {
  source: string;
  destination: string;
  destinationKind: string;
  routingKey: string;
  arguments?: HeaderTable;
}

/** Reads and applies a topology through the REST management API (the `courier plan` / `apply` commands). */
export class RestTopologyTarget implements TopologyTarget {
  constructor(private readonly client: ManagementClient) {}

  async readState(): Promise<CurrentState> {
    const [topics, exchanges, queues, bindings, services] = await Promise.all([
      this.client.get<TopicJson[]>('/api/topics'),
      this.client.get<ExchangeSpec[]>('/api/exchanges'),
      this.client.get<QueueJson[]>('/api/queues'),
      this.client.get<BindingJson[]>('/api/bindings'),
      this.client.get<ServiceJson[]>('/api/services'),
    ]);
    return {
      topics: topics.map((topic) => ({
        name: topic.name,
        displayName: topic.displayName ?? topic.name,
        description: topic.description ?? '',
        ...(topic.retention ? { retention: topic.retention } : {}),
      })),
      exchanges: exchanges.map((exchange) => ({ ...exchange, arguments: exchange.arguments ?? {} })),
      queues: queues.map((queue) => ({
        name: queue.name,
        type: queue.type ?? 'classic',
        durable: queue.durable,
        exclusive: queue.exclusive ?? false,
        autoDelete: queue.autoDelete ?? false,
        arguments: queue.arguments,
      })),
      bindings: bindings.map(
        (binding): CurrentBinding => ({
          source: binding.source,
          destination: binding.destination,
          destinationKind: binding.destinationKind === 'exchange' ? 'exchange' : 'queue',
          routingKey: binding.routingKey,
          arguments: binding.arguments ?? {},
        }),
      ),
      services: services.map(
        (service): ServiceSpec => ({
          name: service.name,
          // The API shows the name and '' for texts that are not set, which compare equal to unset.
          ...(service.displayName === undefined ? {} : { displayName: service.displayName }),
          ...(service.description === undefined ? {} : { description: service.description }),
          produces: service.produces ?? [],
          consumes: service.consumes ?? [],
        }),
      ),
    };
  }

  async createTopic(topic: TopicSpec): Promise<void> {
    await this.client.request('POST', '/api/topics', { body: topic });
  }

  async updateTopic(topic: TopicSpec): Promise<void> {
    const { name, ...fields } = topic;
    await this.client.request('PATCH', `/api/topics/${segment(name)}`, { body: fields });
  }

  async declareExchange(exchange: ExchangeSpec): Promise<void> {
    const { name, ...fields } = exchange;
    await this.client.request('PUT', `/api/exchanges/${segment(name)}`, { body: fields });
  }

  async declareQueue(queue: QueueSpec): Promise<void> {
    const { name, ...fields } = queue;
    await this.client.request('PUT', `/api/queues/${segment(name)}`, { body: fields });
  }

  async bind(binding: BindingSpec): Promise<void> {
    await this.client.request('POST', '/api/bindings', { body: binding });
  }

  async putService(service: ServiceSpec): Promise<void> {
    const { name, ...fields } = service;
    await this.client.request('PUT', `/api/services/${segment(name)}`, { body: fields });
  }
}
