import type { Broker } from '../../core/broker.js';
import type { Principal } from '../../core/ports.js';
import type { CurrentState, ServiceSpec, TopicSpec } from './topology-model.js';
import type { TopologyTarget } from './topology-target.js';

/** Who applies a topology at start: the operator who started the broker, not a client. */
export const TOPOLOGY_PRINCIPAL: Principal = Object.freeze({ username: 'courier-topology', tags: Object.freeze(['administrator']) });

/** Applies a topology to the broker in this process (`courier serve --topology`), before any client connects. */
export class BrokerTopologyTarget implements TopologyTarget {
  constructor(
    private readonly broker: Broker,
    private readonly principal: Principal = TOPOLOGY_PRINCIPAL,
  ) {}

  readState(): Promise<CurrentState> {
    const queues = this.broker.listQueues().map((queue) => ({
      name: queue.name,
      type: queue.policy.queueType,
      durable: queue.record.durable,
      exclusive: queue.record.exclusive,
      autoDelete: queue.record.autoDelete,
      arguments: queue.record.arguments,
    }));
    // The broker keeps a stream's declared arguments to itself; its retention is checked through the topic.
    const streams = this.broker.listStreams().map((stream) => ({
      name: stream.name,
      type: 'stream' as const,
      durable: true,
      exclusive: false,
      autoDelete: false,
      arguments: undefined,
    }));
    return Promise.resolve({
      topics: this.broker.topics.list().map((topic) => ({
        name: topic.name,
        displayName: topic.displayName,
        description: topic.description,
        ...(topic.retention === undefined ? {} : { retention: topic.retention }),
      })),
      exchanges: this.broker.listExchanges(),
      queues: [...queues, ...streams],
      bindings: this.broker.listBindings().map((binding) => ({
        ...binding,
        destinationKind: binding.destinationKind === 'exchange' ? 'exchange' : 'queue',
      })),
      services: this.broker.listServices(),
    });
  }

  async createTopic(topic: TopicSpec): Promise<void> {
    await this.broker.createTopic(this.principal, topic);
  }

  async updateTopic(topic: TopicSpec): Promise<void> {
    await this.broker.updateTopic(this.principal, topic.name, {
      displayName: topic.displayName,
      description: topic.description,
      ...(topic.retention === undefined ? {} : { retention: topic.retention }),
    });
  }

  declareExchange(exchange: Parameters<TopologyTarget['declareExchange']>[0]): Promise<void> {
    return this.broker.declareExchange(this.principal, exchange);
  }

  async declareQueue(queue: Parameters<TopologyTarget['declareQueue']>[0]): Promise<void> {
    await this.broker.declareQueue(this.principal, undefined, { ...queue, exclusive: false });
  }

  bind(binding: Parameters<TopologyTarget['bind']>[0]): Promise<void> {
    return this.broker.bind(this.principal, undefined, binding);
  }

  async putService(service: ServiceSpec): Promise<void> {
    await this.broker.putService(this.principal, service);
  }
}
