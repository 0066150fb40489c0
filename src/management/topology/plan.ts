import type { HeaderTable } from '../../core/message/message.js';
import { bindingKey, canonical } from './desired-state.js';
import type {
  BindingSpec,
  CurrentBinding,
  CurrentQueue,
  CurrentState,
  DesiredState,
  ExchangeSpec,
  QueueSpec,
  ServiceSpec,
  TopicRetentionSpec,
  TopicSpec,
} from './topology-model.js';

export interface FieldChange {
  readonly field: string;
  /** Undefined: not set. */
  readonly current: unknown;
  readonly desired: unknown;
}

/** What apply does, in this order: exchanges and queues, then topics, then bindings, then services. */
export type PlanAction =
  | { readonly kind: 'create-exchange'; readonly exchange: ExchangeSpec }
  | { readonly kind: 'create-queue'; readonly queue: QueueSpec }
  | { readonly kind: 'create-topic'; readonly topic: TopicSpec }
  | { readonly kind: 'update-topic'; readonly topic: TopicSpec; readonly changes: readonly FieldChange[] }
  | { readonly kind: 'create-binding'; readonly binding: BindingSpec }
  | { readonly kind: 'create-service'; readonly service: ServiceSpec }
  | { readonly kind: 'update-service'; readonly service: ServiceSpec; readonly changes: readonly FieldChange[] };

/** An entity that exists with settings the file contradicts and that cannot change in place. */
export interface PlanConflict {
  readonly entity: 'topic' | 'exchange' | 'queue';
  readonly name: string;
  readonly differences: readonly FieldChange[];
  readonly reason: string;
}

/** Something on the broker that the file does not declare: shown, never touched. */
export type PlanDrift =
  | { readonly entity: 'topic' | 'exchange' | 'service'; readonly name: string }
  | { readonly entity: 'queue'; readonly name: string; readonly bindings: number }
  | { readonly entity: 'binding'; readonly binding: CurrentBinding };

export interface Plan {
  readonly actions: readonly PlanAction[];
  readonly conflicts: readonly PlanConflict[];
  readonly drift: readonly PlanDrift[];
  /** Entities of the file that exist as declared. */
  readonly unchanged: number;
}

export function planHasChanges(plan: Plan): boolean {
  return plan.actions.length > 0;
}

const ACTION_ORDER: Readonly<Record<PlanAction['kind'], number>> = {
  'create-exchange': 0,
  'create-queue': 1,
  'create-topic': 2,
  'update-topic': 3,
  'create-binding': 4,
  // Last: a service names topics, which exist by then.
  'create-service': 5,
  'update-service': 6,
};

/**
 * Compares what the file wants with what the broker has. Creating is always possible; a topic's display
 * name, description and retention change in place; anything else that differs (an exchange's type, a
 * queue's arguments) is a conflict, because the broker refuses such a redeclare (AMQP 406
 * PRECONDITION_FAILED) and changing it means deleting the entity and its messages, which plan never does.
 */
export function computePlan(desired: DesiredState, current: CurrentState): Plan {
  const actions: PlanAction[] = [];
  const conflicts: PlanConflict[] = [];
  let unchanged = 0;

  const currentExchanges = new Map(current.exchanges.map((exchange) => [exchange.name, exchange]));
  for (const exchange of desired.exchanges) {
    const existing = currentExchanges.get(exchange.name);
    if (!existing) actions.push({ kind: 'create-exchange', exchange });
    else {
      const differences = exchangeDifferences(exchange, existing);
      if (differences.length === 0) unchanged++;
      else conflicts.push({ entity: 'exchange', name: exchange.name, differences, reason: 'an exchange cannot change these settings; delete it and apply again' });
    }
  }

  const currentQueues = new Map(current.queues.map((queue) => [queue.name, queue]));
  for (const queue of desired.queues) {
    const existing = currentQueues.get(queue.name);
    if (!existing) actions.push({ kind: 'create-queue', queue });
    else {
      const differences = queueDifferences(queue, existing);
      if (differences.length === 0) unchanged++;
      else
        conflicts.push({
          entity: 'queue',
          name: queue.name,
          differences,
          reason: 'a queue cannot change these settings; delete it (losing its messages) and apply again',
        });
    }
  }

  const currentTopics = new Map(current.topics.map((topic) => [topic.name, topic]));
  for (const topic of desired.topics) {
    const existing = currentTopics.get(topic.name);
    if (!existing) {
      actions.push({ kind: 'create-topic', topic });
      continue;
    }
    const changes: FieldChange[] = [];
    if (existing.displayName !== topic.displayName) changes.push({ field: 'displayName', current: existing.displayName, desired: topic.displayName });
    if (existing.description !== topic.description) changes.push({ field: 'description', current: existing.description, desired: topic.description });
    if (!sameRetention(existing.retention, topic.retention)) {
      if (topic.retention === undefined) {
        conflicts.push({
          entity: 'topic',
          name: topic.name,
          differences: [{ field: 'retention', current: existing.retention, desired: undefined }],
          reason: 'removing the retention would delete the history the topic keeps; delete it yourself if that is meant',
        });
      } else changes.push({ field: 'retention', current: existing.retention, desired: topic.retention });
    }
    if (changes.length > 0) actions.push({ kind: 'update-topic', topic, changes });
    else unchanged++;
  }

  const currentServices = new Map(current.services.map((service) => [service.name, service]));
  for (const service of desired.services) {
    const existing = currentServices.get(service.name);
    if (!existing) {
      actions.push({ kind: 'create-service', service });
      continue;
    }
    const changes = serviceChanges(service, existing);
    if (changes.length > 0) actions.push({ kind: 'update-service', service, changes });
    else unchanged++;
  }

  const currentBindings = new Set(current.bindings.map(bindingKey));
  for (const binding of desired.bindings) {
    if (currentBindings.has(bindingKey(binding))) unchanged++;
    else actions.push({ kind: 'create-binding', binding });
  }

  actions.sort((a, b) => ACTION_ORDER[a.kind] - ACTION_ORDER[b.kind]);
  return { actions, conflicts, drift: findDrift(desired, current), unchanged };
}

function findDrift(desired: DesiredState, current: CurrentState): PlanDrift[] {
  const drift: PlanDrift[] = [];
  const topics = new Set(desired.topics.map((topic) => topic.name));
  for (const topic of current.topics) if (!topics.has(topic.name)) drift.push({ entity: 'topic', name: topic.name });

  const services = new Set(desired.services.map((service) => service.name));
  for (const service of current.services) if (!services.has(service.name)) drift.push({ entity: 'service', name: service.name });

  const exchanges = new Set(desired.exchanges.map((exchange) => exchange.name));
  for (const exchange of current.exchanges) {
    if (exchange.name === '' || exchange.name.startsWith('amq.') || exchanges.has(exchange.name)) continue;
    drift.push({ entity: 'exchange', name: exchange.name });
  }

  // The broker's own: a topic's history stream (named as the topic) and connection-private queues.
  const topicStreams = new Set([...desired.topics, ...current.topics].filter((topic) => topic.retention).map((topic) => topic.name));
  const ignored = (queue: CurrentQueue): boolean => queue.exclusive || (queue.type === 'stream' && topicStreams.has(queue.name));
  const ignoredQueues = new Set(current.queues.filter(ignored).map((queue) => queue.name));
  const queues = new Set(desired.queues.map((queue) => queue.name));
  const driftQueues = new Map<string, { entity: 'queue'; name: string; bindings: number }>();
  for (const queue of current.queues) {
    if (ignoredQueues.has(queue.name) || queues.has(queue.name)) continue;
    const entry = { entity: 'queue' as const, name: queue.name, bindings: 0 };
    driftQueues.set(queue.name, entry);
    drift.push(entry);
  }

  const bindings = new Set(desired.bindings.map(bindingKey));
  for (const binding of current.bindings) {
    if (bindings.has(bindingKey(binding))) continue;
    if (binding.destinationKind === 'queue' && ignoredQueues.has(binding.destination)) continue;
    const queue = binding.destinationKind === 'queue' ? driftQueues.get(binding.destination) : undefined;
    // A queue that is drift itself carries its bindings along: one line, not one per binding.
    if (queue) queue.bindings++;
    else drift.push({ entity: 'binding', binding });
  }
  return drift;
}

function exchangeDifferences(desired: ExchangeSpec, current: ExchangeSpec): FieldChange[] {
  const differences: FieldChange[] = [];
  for (const field of ['type', 'durable', 'autoDelete', 'internal'] as const) {
    if (desired[field] !== current[field]) differences.push({ field, current: current[field], desired: desired[field] });
  }
  // The broker compares only the alternate exchange among exchange arguments.
  const alternate = (args: HeaderTable): unknown => canonical(args['alternate-exchange']);
  if (alternate(desired.arguments) !== alternate(current.arguments)) {
    differences.push({ field: 'arguments.alternate-exchange', current: alternate(current.arguments), desired: alternate(desired.arguments) });
  }
  return differences;
}

function queueDifferences(desired: QueueSpec, current: CurrentQueue): FieldChange[] {
  const differences: FieldChange[] = [];
  const desiredType = typeof desired.arguments['x-queue-type'] === 'string' ? desired.arguments['x-queue-type'] : 'classic';
  if (desiredType !== current.type) differences.push({ field: 'type', current: current.type, desired: desiredType });
  if (current.exclusive) differences.push({ field: 'exclusive', current: true, desired: false });
  if (desired.durable !== current.durable) differences.push({ field: 'durable', current: current.durable, desired: desired.durable });
  if (desired.autoDelete !== current.autoDelete) differences.push({ field: 'autoDelete', current: current.autoDelete, desired: desired.autoDelete });
  if (current.arguments !== undefined) {
    // As the broker does on a redeclare (RabbitMQ's equivalence check): only `x-` arguments count.
    const keys = new Set([...Object.keys(desired.arguments), ...Object.keys(current.arguments)].filter((key) => key.startsWith('x-') && key !== 'x-queue-type'));
    for (const key of [...keys].sort()) {
      const want = desired.arguments[key];
      const have = current.arguments[key];
      if (JSON.stringify(canonical(want)) !== JSON.stringify(canonical(have))) {
        differences.push({ field: `arguments.${key}`, current: have, desired: want });
      }
    }
  }
  return differences;
}

/**
 * What a PUT of the desired service would change. Texts compare as the broker shows them (a missing
 * display name reads as the name, a missing description as empty); topic lists as sets.
 */
function serviceChanges(desired: ServiceSpec, current: ServiceSpec): FieldChange[] {
  const changes: FieldChange[] = [];
  const displayName = (service: ServiceSpec): string => service.displayName ?? service.name;
  const description = (service: ServiceSpec): string => service.description ?? '';
  if (displayName(desired) !== displayName(current)) changes.push({ field: 'displayName', current: displayName(current), desired: displayName(desired) });
  if (description(desired) !== description(current)) changes.push({ field: 'description', current: description(current), desired: description(desired) });
  for (const field of ['produces', 'consumes'] as const) {
    const want = [...new Set(desired[field])].sort();
    const have = [...new Set(current[field])].sort();
    if (JSON.stringify(want) !== JSON.stringify(have)) changes.push({ field, current: have, desired: want });
  }
  return changes;
}

function sameRetention(a: TopicRetentionSpec | undefined, b: TopicRetentionSpec | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.maxAgeMs === b.maxAgeMs && a.maxBytes === b.maxBytes;
}
