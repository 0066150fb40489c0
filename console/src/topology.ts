/**
 * Which service produces and which consumes each topic, from what the REST API lists. Services declared in
 * courier.yaml are broker records (`GET /api/services`: produces, consumes). Topology as code also gives a
 * service that consumes a topic one queue named `{service}.{topic}`, bound to `amq.topic` with the topic
 * as routing key; service names have no dots, so such a binding names exactly one (service, topic) pair.
 * That is how consumers made by hand (or by an older apply) are still found. Pure, so it is unit-tested
 * in Node.
 */

export interface TopicLike {
  readonly name: string;
  readonly displayName?: string;
  readonly description?: string;
}

export interface QueueLike {
  readonly name: string;
  readonly messagesReady?: number;
  readonly messagesUnacked?: number;
  readonly consumers?: number;
}

export interface BindingLike {
  readonly source: string;
  readonly destination: string;
  readonly destinationKind: string;
  readonly routingKey: string;
}

export interface ServiceLike {
  readonly name: string;
  readonly displayName?: string;
  readonly produces?: readonly string[];
  readonly consumes?: readonly string[];
}

export interface ServiceSubscription {
  readonly service: string;
  readonly topic: string;
  /** `{service}.{topic}`, whether or not it exists. */
  readonly queue: string;
  /** The queue exists and is bound to the topic (false: declared by the service record only). */
  readonly queueExists: boolean;
  /** The service record lists the topic under consumes (false: found through the queue only). */
  readonly declared: boolean;
  readonly messagesReady: number;
  readonly consumers: number;
}

export interface ServiceProduction {
  readonly service: string;
  readonly topic: string;
}

export interface TopologyTopic {
  readonly name: string;
  readonly displayName: string;
  /** False for a topic named by a service or a service queue that has no topic record. */
  readonly declared: boolean;
  /** Services producing it, sorted. */
  readonly producers: readonly string[];
  /** Services consuming it, sorted. */
  readonly consumers: readonly string[];
}

export interface TopologyService {
  readonly name: string;
  readonly displayName: string;
  /** There is a service record (`GET /api/services`); false: found through its queues only. */
  readonly declared: boolean;
  readonly produces: readonly ServiceProduction[];
  readonly consumes: readonly ServiceSubscription[];
}

export interface Topology {
  readonly topics: readonly TopologyTopic[];
  /** Services sorted by name, each with what it produces and consumes. */
  readonly services: readonly TopologyService[];
  readonly subscriptions: readonly ServiceSubscription[];
  readonly productions: readonly ServiceProduction[];
  /** Every binding that is not a service subscription (dead-letter routes, jobs, user bindings...). */
  readonly otherBindings: readonly BindingLike[];
}

export const TOPIC_EXCHANGE = 'amq.topic';
const SERVICE_NAME = /^[A-Za-z0-9_-]+$/;

/** The service of a queue bound to amq.topic with `routingKey`, when the queue follows the naming rule. */
export function serviceOfQueue(queue: string, routingKey: string): string | undefined {
  if (routingKey === '' || /[*#]/.test(routingKey)) return undefined;
  const suffix = `.${routingKey}`;
  if (!queue.endsWith(suffix)) return undefined;
  const service = queue.slice(0, -suffix.length);
  return SERVICE_NAME.test(service) ? service : undefined;
}

const byName = <T extends { readonly name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

const byPair = (a: { service: string; topic: string }, b: { service: string; topic: string }): number =>
  a.service === b.service ? (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0) : a.service < b.service ? -1 : 1;

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key) ?? new Set<string>();
  set.add(value);
  map.set(key, set);
}

export function deriveTopology(
  topics: readonly TopicLike[],
  queues: readonly QueueLike[],
  bindings: readonly BindingLike[],
  declaredServices: readonly ServiceLike[] = [],
): Topology {
  const queueByName = new Map(queues.map((queue) => [queue.name, queue]));
  const records = new Map(declaredServices.map((service) => [service.name, service]));
  const declaredConsumes = new Set(declaredServices.flatMap((service) => (service.consumes ?? []).map((topic) => `${service.name}\n${topic}`)));
  const subscriptions = new Map<string, ServiceSubscription>();
  const otherBindings: BindingLike[] = [];
  for (const binding of bindings) {
    const queue = queueByName.get(binding.destination);
    const service =
      binding.source === TOPIC_EXCHANGE && binding.destinationKind === 'queue' && queue ? serviceOfQueue(queue.name, binding.routingKey) : undefined;
    if (service === undefined || !queue) {
      otherBindings.push(binding);
      continue;
    }
    subscriptions.set(`${service}\n${binding.routingKey}`, {
      service,
      topic: binding.routingKey,
      queue: queue.name,
      queueExists: true,
      declared: declaredConsumes.has(`${service}\n${binding.routingKey}`),
      messagesReady: queue.messagesReady ?? 0,
      consumers: queue.consumers ?? 0,
    });
  }
  // Declared consumers whose queue is missing (deleted, or the record was made without apply) still show.
  for (const service of declaredServices) {
    for (const topic of service.consumes ?? []) {
      const key = `${service.name}\n${topic}`;
      if (subscriptions.has(key)) continue;
      subscriptions.set(key, { service: service.name, topic, queue: `${service.name}.${topic}`, queueExists: false, declared: true, messagesReady: 0, consumers: 0 });
    }
  }
  const subscriptionList = [...subscriptions.values()].sort(byPair);
  const productions: ServiceProduction[] = declaredServices
    .flatMap((service) => [...new Set(service.produces ?? [])].map((topic) => ({ service: service.name, topic })))
    .sort(byPair);

  const consumersOf = new Map<string, Set<string>>();
  for (const subscription of subscriptionList) addTo(consumersOf, subscription.topic, subscription.service);
  const producersOf = new Map<string, Set<string>>();
  for (const production of productions) addTo(producersOf, production.topic, production.service);
  const topicEntry = (name: string, displayName: string, declared: boolean): TopologyTopic => ({
    name,
    displayName,
    declared,
    producers: [...(producersOf.get(name) ?? [])].sort(),
    consumers: [...(consumersOf.get(name) ?? [])].sort(),
  });
  const topicList: TopologyTopic[] = topics.map((topic) => topicEntry(topic.name, topic.displayName || topic.name, true));
  const declared = new Set(topics.map((topic) => topic.name));
  for (const name of new Set([...consumersOf.keys(), ...producersOf.keys()])) {
    if (!declared.has(name)) topicList.push(topicEntry(name, name, false));
  }
  topicList.sort(byName);

  const serviceNames = new Set([...records.keys(), ...subscriptionList.map((entry) => entry.service)]);
  const services: TopologyService[] = [...serviceNames].sort().map((name) => ({
    name,
    displayName: records.get(name)?.displayName || name,
    declared: records.has(name),
    produces: productions.filter((entry) => entry.service === name),
    consumes: subscriptionList.filter((entry) => entry.service === name),
  }));
  return { topics: topicList, services, subscriptions: subscriptionList, productions, otherBindings };
}

export interface LayoutNode {
  readonly id: string;
  readonly kind: 'topic' | 'service';
  /** For services: the column they are drawn in (a service that does both appears in both). */
  readonly role?: 'producer' | 'consumer';
  readonly label: string;
  readonly x: number;
  readonly y: number;
}

export type LayoutEdge =
  | { readonly kind: 'produces'; readonly from: LayoutNode; readonly to: LayoutNode; readonly production: ServiceProduction }
  | { readonly kind: 'consumes'; readonly from: LayoutNode; readonly to: LayoutNode; readonly subscription: ServiceSubscription };

export interface TopologyLayout {
  readonly width: number;
  readonly height: number;
  readonly nodeWidth: number;
  readonly nodeHeight: number;
  readonly nodes: readonly LayoutNode[];
  readonly edges: readonly LayoutEdge[];
}

/**
 * Three columns, producing services on the left, topics in the middle and consuming services on the
 * right, one row each, with an edge per production and per subscription: events flow left to right.
 * Node coordinates are the top-left corners of the boxes.
 */
export function layoutTopology(topology: Topology, width = 900, rowHeight = 56, nodeWidth = 220, nodeHeight = 36): TopologyLayout {
  const margin = 16;
  const producers = topology.services.filter((service) => service.produces.length > 0);
  const consumers = topology.services.filter((service) => service.consumes.length > 0);
  const rows = Math.max(topology.topics.length, producers.length, consumers.length, 1);
  const height = margin * 2 + rows * rowHeight;
  const column = (count: number, index: number): number => {
    // Centre a shorter column against the longest one.
    const offset = ((rows - count) * rowHeight) / 2;
    return margin + offset + index * rowHeight + (rowHeight - nodeHeight) / 2;
  };
  const topicNodes = new Map<string, LayoutNode>();
  topology.topics.forEach((topic, index) => {
    topicNodes.set(topic.name, { id: `topic:${topic.name}`, kind: 'topic', label: topic.name, x: (width - nodeWidth) / 2, y: column(topology.topics.length, index) });
  });
  const place = (list: readonly TopologyService[], role: 'producer' | 'consumer', x: number): Map<string, LayoutNode> =>
    new Map(list.map((service, index) => [service.name, { id: `${role}:${service.name}`, kind: 'service', role, label: service.name, x, y: column(list.length, index) }]));
  const producerNodes = place(producers, 'producer', margin);
  const consumerNodes = place(consumers, 'consumer', width - margin - nodeWidth);
  const edges: LayoutEdge[] = [];
  for (const production of topology.productions) {
    const from = producerNodes.get(production.service);
    const to = topicNodes.get(production.topic);
    if (from && to) edges.push({ kind: 'produces', from, to, production });
  }
  for (const subscription of topology.subscriptions) {
    const from = topicNodes.get(subscription.topic);
    const to = consumerNodes.get(subscription.service);
    if (from && to) edges.push({ kind: 'consumes', from, to, subscription });
  }
  return { width, height, nodeWidth, nodeHeight, nodes: [...producerNodes.values(), ...topicNodes.values(), ...consumerNodes.values()], edges };
}
