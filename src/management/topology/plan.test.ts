import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyTopology, planTopology } from './apply.js';
import { desiredState } from './desired-state.js';
import { formatPlan } from './format-plan.js';
import { computePlan, type PlanAction } from './plan.js';
import type { BindingSpec, CurrentQueue, CurrentState, ExchangeSpec, QueueSpec, ServiceSpec, TopicSpec, TopologyDocument } from './topology-model.js';
import { parseTopology } from './topology-parser.js';
import type { TopologyTarget } from './topology-target.js';

function documentOf(text: string): TopologyDocument {
  const result = parseTopology(text, 'courier.yaml');
  assert.ok(result.ok, JSON.stringify(result));
  return result.document;
}

const shop = documentOf(
  [
    'topics:',
    '  - { name: orders.created, displayName: Order created, description: A customer placed an order. }',
    '  - { name: orders.shipped }',
    'exchanges:',
    '  - { name: billing, type: direct }',
    'queues:',
    '  - { name: invoices, arguments: { x-message-ttl: 60000 } }',
    'bindings:',
    '  - { source: billing, destination: invoices, routingKey: invoice }',
    'services:',
    '  - { name: billing, produces: [orders.shipped], consumes: [orders.created] }',
    '  - { name: shipping, consumes: [orders.created] }',
    '  - { name: analytics, consumes: [orders.created, orders.shipped] }',
    '',
  ].join('\n'),
);

/** A broker reduced to its topology, which records every write a target receives. */
class MemoryTarget implements TopologyTarget {
  topics: TopicSpec[] = [];
  exchanges: ExchangeSpec[] = [{ name: 'amq.topic', type: 'topic', durable: true, autoDelete: false, internal: false, arguments: {} }];
  queues: CurrentQueue[] = [];
  bindings: BindingSpec[] = [];
  services: ServiceSpec[] = [];
  readonly writes: string[] = [];

  readState(): Promise<CurrentState> {
    return Promise.resolve(
      structuredClone({ topics: this.topics, exchanges: this.exchanges, queues: this.queues, bindings: this.bindings, services: this.services }),
    );
  }
  putService(service: ServiceSpec): Promise<void> {
    // As the broker: a service naming a topic that does not exist is refused, so apply order matters.
    const missing = [...service.produces, ...service.consumes].find((topic) => !this.topics.some((existing) => existing.name === topic));
    if (missing !== undefined) return Promise.reject(new Error(`no topic ${missing}`));
    this.writes.push(`service ${service.name}`);
    this.services = [...this.services.filter((existing) => existing.name !== service.name), service];
    return Promise.resolve();
  }
  createTopic(topic: TopicSpec): Promise<void> {
    this.writes.push(`topic ${topic.name}`);
    this.topics.push(topic);
    return Promise.resolve();
  }
  updateTopic(topic: TopicSpec): Promise<void> {
    this.writes.push(`update ${topic.name}`);
    this.topics = this.topics.map((existing) => (existing.name === topic.name ? topic : existing));
    return Promise.resolve();
  }
  declareExchange(exchange: ExchangeSpec): Promise<void> {
    this.writes.push(`exchange ${exchange.name}`);
    this.exchanges.push(exchange);
    return Promise.resolve();
  }
  declareQueue(queue: QueueSpec): Promise<void> {
    this.writes.push(`queue ${queue.name}`);
    this.queues.push({ ...queue, type: 'classic', exclusive: false });
    return Promise.resolve();
  }
  bind(binding: BindingSpec): Promise<void> {
    // As the broker: binding to something missing fails, so apply order matters.
    if (!this.exchanges.some((exchange) => exchange.name === binding.source)) return Promise.reject(new Error(`no exchange ${binding.source}`));
    if (binding.destinationKind === 'queue' && !this.queues.some((queue) => queue.name === binding.destination)) {
      return Promise.reject(new Error(`no queue ${binding.destination}`));
    }
    this.writes.push(`bind ${binding.source}->${binding.destination}`);
    this.bindings.push(binding);
    return Promise.resolve();
  }
}

function kinds(actions: readonly PlanAction[]): string[] {
  return actions.map((action) => action.kind);
}

describe('topology plan', () => {
  it('each consuming service gets its own durable queue {service}.{topic} bound to amq.topic with the topic as key', () => {
    const desired = desiredState(shop);
    const serviceQueues = desired.queues.filter((queue) => queue.name !== 'invoices');
    assert.deepEqual(
      serviceQueues.map((queue) => queue.name),
      ['billing.orders.created', 'shipping.orders.created', 'analytics.orders.created', 'analytics.orders.shipped'],
    );
    for (const queue of serviceQueues) assert.deepEqual({ durable: queue.durable, autoDelete: queue.autoDelete }, { durable: true, autoDelete: false });
    assert.deepEqual(
      desired.bindings.filter((binding) => binding.source === 'amq.topic').map((binding) => `${binding.routingKey} -> ${binding.destination}`),
      [
        'orders.created -> billing.orders.created',
        'orders.created -> shipping.orders.created',
        'orders.created -> analytics.orders.created',
        'orders.shipped -> analytics.orders.shipped',
      ],
    );
  });

  it('a service queue declared under queues keeps its declared arguments', () => {
    const desired = desiredState(
      documentOf('topics: [{ name: t }]\nqueues: [{ name: s.t, arguments: { x-max-length: 10 } }]\nservices: [{ name: s, consumes: [t] }]\n'),
    );
    assert.deepEqual(desired.queues, [{ name: 's.t', durable: true, autoDelete: false, arguments: { 'x-max-length': 10 } }]);
    assert.equal(desired.bindings.length, 1);
  });

  it('against an empty broker everything is created, exchanges and queues before topics and bindings', async () => {
    const target = new MemoryTarget();
    const plan = await planTopology(desiredState(shop), target);
    assert.deepEqual(kinds(plan.actions), [
      'create-exchange',
      ...Array<string>(5).fill('create-queue'),
      'create-topic',
      'create-topic',
      ...Array<string>(5).fill('create-binding'),
      ...Array<string>(3).fill('create-service'),
    ]);
    assert.deepEqual(plan.conflicts, []);
    assert.deepEqual(plan.drift, []);
    assert.equal(plan.unchanged, 0);
  });

  it('apply runs the plan in order, and a second apply changes nothing', async () => {
    const target = new MemoryTarget();
    const first = await applyTopology(desiredState(shop), target);
    assert.equal(first.applied.length, 16);
    assert.equal(target.writes.length, 16);
    assert.deepEqual(target.writes.slice(-3), ['service billing', 'service shipping', 'service analytics']);
    assert.deepEqual(target.services.find((service) => service.name === 'billing'), { name: 'billing', produces: ['orders.shipped'], consumes: ['orders.created'] });
    const second = await applyTopology(desiredState(shop), target);
    assert.deepEqual(second.applied, []);
    assert.equal(second.plan.unchanged, 16);
    assert.equal(target.writes.length, 16, 'no write on the second apply');
    assert.match(formatPlan(second.plan), /^No changes: /);
  });

  it('a changed display name or description is an update in place', async () => {
    const target = new MemoryTarget();
    await applyTopology(desiredState(shop), target);
    target.topics = target.topics.map((topic) => (topic.name === 'orders.created' ? { ...topic, description: 'old words' } : topic));
    const plan = await planTopology(desiredState(shop), target);
    assert.deepEqual(plan.actions, [
      {
        kind: 'update-topic',
        topic: shop.topics[0],
        changes: [{ field: 'description', current: 'old words', desired: 'A customer placed an order.' }],
      },
    ]);
    assert.match(formatPlan(plan), /~ topic {4}orders\.created: description "old words" -> "A customer placed an order\."/);
    await applyTopology(desiredState(shop), target);
    assert.equal((await planTopology(desiredState(shop), target)).actions.length, 0);
  });

  it('things on the broker that the file does not declare are drift: shown, never touched', async () => {
    const target = new MemoryTarget();
    await applyTopology(desiredState(shop), target);
    target.queues.push({ name: 'scratch', type: 'classic', durable: true, exclusive: false, autoDelete: false, arguments: {} });
    target.bindings.push({ source: 'amq.topic', destination: 'scratch', destinationKind: 'queue', routingKey: '#', arguments: {} });
    target.bindings.push({ source: 'amq.topic', destination: 'invoices', destinationKind: 'queue', routingKey: 'extra', arguments: {} });
    target.exchanges.push({ name: 'legacy', type: 'fanout', durable: true, autoDelete: false, internal: false, arguments: {} });
    target.topics.push({ name: 'old.topic', displayName: 'old.topic', description: '' });
    target.services.push({ name: 'legacy-mailer', produces: [], consumes: ['old.topic'] });
    // A client's private queue and a topic's history stream are the broker's business, not drift.
    target.queues.push({ name: 'amq.gen-1', type: 'classic', durable: false, exclusive: true, autoDelete: true, arguments: {} });
    target.topics.push({ name: 'audit', displayName: 'audit', description: '', retention: {} });
    target.queues.push({ name: 'audit', type: 'stream', durable: true, exclusive: false, autoDelete: false, arguments: undefined });
    target.bindings.push({ source: 'amq.topic', destination: 'audit', destinationKind: 'queue', routingKey: 'audit', arguments: {} });

    const plan = await planTopology(desiredState(shop), target);
    assert.deepEqual(plan.actions, []);
    assert.deepEqual(plan.drift, [
      { entity: 'topic', name: 'old.topic' },
      { entity: 'topic', name: 'audit' },
      { entity: 'service', name: 'legacy-mailer' },
      { entity: 'exchange', name: 'legacy' },
      { entity: 'queue', name: 'scratch', bindings: 1 },
      { entity: 'binding', binding: { source: 'amq.topic', destination: 'invoices', destinationKind: 'queue', routingKey: 'extra', arguments: {} } },
    ]);
    const text = formatPlan(plan);
    assert.match(text, /On the broker but not in the file \(left alone\):\n/);
    assert.match(text, /\? queue {4}scratch \(with 1 binding\)/);
    assert.match(text, /\? service {2}legacy-mailer\n/);
    const before = target.writes.length;
    await applyTopology(desiredState(shop), target);
    assert.equal(target.writes.length, before, 'apply leaves drift alone');
  });

  it('a queue with other arguments is a conflict, and apply then changes nothing at all', async () => {
    const target = new MemoryTarget();
    target.queues.push({ name: 'invoices', type: 'classic', durable: true, exclusive: false, autoDelete: false, arguments: { 'x-message-ttl': 30000 } });
    const plan = await planTopology(desiredState(shop), target);
    assert.deepEqual(plan.conflicts, [
      {
        entity: 'queue',
        name: 'invoices',
        differences: [{ field: 'arguments.x-message-ttl', current: 30000, desired: 60000 }],
        reason: 'a queue cannot change these settings; delete it (losing its messages) and apply again',
      },
    ]);
    assert.ok(!plan.actions.some((action) => action.kind === 'create-queue' && action.queue.name === 'invoices'));
    assert.match(formatPlan(plan), /! queue {4}invoices: arguments\.x-message-ttl 30000 -> 60000/);
    await assert.rejects(applyTopology(desiredState(shop), target), { code: 'PRECONDITION_FAILED', message: /nothing was changed:\n {2}queue 'invoices': arguments\.x-message-ttl is 30000 on the broker, 60000 in the file$/ });
    assert.deepEqual(target.writes, []);
  });

  it('exchanges of another type or durability conflict; queues differing only in non-x arguments do not', () => {
    const desired = desiredState(shop);
    const current: CurrentState = {
      topics: [],
      exchanges: [{ name: 'billing', type: 'topic', durable: false, autoDelete: false, internal: false, arguments: {} }],
      queues: [{ name: 'invoices', type: 'classic', durable: true, exclusive: false, autoDelete: false, arguments: { 'x-message-ttl': 60000, note: 'hi' } }],
      bindings: [],
      services: [],
    };
    const plan = computePlan(desired, current);
    assert.deepEqual(
      plan.conflicts.map((conflict) => [conflict.entity, conflict.name, conflict.differences.map((difference) => difference.field)]),
      [['exchange', 'billing', ['type', 'durable']]],
    );
  });

  it('removing a topic retention is a conflict (it would delete history); adding one is an update', () => {
    const withHistory = documentOf('topics: [{ name: audit, retention: { maxAge: 1d } }]\n');
    const without = documentOf('topics: [{ name: audit }]\n');
    const topic = { name: 'audit', displayName: 'audit', description: '' };
    const adding = computePlan(desiredState(withHistory), { topics: [topic], exchanges: [], queues: [], bindings: [], services: [] });
    assert.deepEqual(kinds(adding.actions), ['update-topic']);
    const removing = computePlan(desiredState(without), { topics: [{ ...topic, retention: { maxAgeMs: 1000 } }], exchanges: [], queues: [], bindings: [], services: [] });
    assert.deepEqual(removing.actions, []);
    assert.equal(removing.conflicts[0]?.entity, 'topic');
  });

  it('a service whose topics or texts changed is updated in place; topic lists compare as sets', async () => {
    const target = new MemoryTarget();
    await applyTopology(desiredState(shop), target);
    target.services = target.services.map((service) =>
      service.name === 'billing' ? { ...service, displayName: 'Billing', consumes: ['orders.created', 'orders.shipped'] } : service,
    );
    const plan = await planTopology(desiredState(shop), target);
    assert.deepEqual(plan.actions, [
      {
        kind: 'update-service',
        service: { name: 'billing', produces: ['orders.shipped'], consumes: ['orders.created'] },
        changes: [
          { field: 'displayName', current: 'Billing', desired: 'billing' },
          { field: 'consumes', current: ['orders.created', 'orders.shipped'], desired: ['orders.created'] },
        ],
      },
    ]);
    assert.match(formatPlan(plan), /~ service {2}billing: displayName "Billing" -> "billing"; consumes \[orders\.created, orders\.shipped\] -> \[orders\.created\]/);
    assert.match(formatPlan(plan), /Plan: 0 to create, 1 to update,/);
    await applyTopology(desiredState(shop), target);
    assert.deepEqual(target.services.find((service) => service.name === 'billing')?.consumes, ['orders.created']);
    assert.equal((await planTopology(desiredState(shop), target)).actions.length, 0);
    // Order and the shown defaults do not count as changes.
    target.services = target.services.map((service) =>
      service.name === 'analytics' ? { ...service, displayName: 'analytics', description: '', consumes: ['orders.shipped', 'orders.created'] } : service,
    );
    assert.deepEqual((await planTopology(desiredState(shop), target)).actions, []);
  });

  it('a new service is shown with its roles and applied after the topics it names', async () => {
    const document = documentOf(
      'topics: [{ name: t.one }, { name: t.two }]\nservices:\n  - { name: svc, displayName: The service, description: Does things, produces: [t.two], consumes: [t.one] }\n',
    );
    const target = new MemoryTarget();
    const plan = await planTopology(desiredState(document), target);
    assert.deepEqual(kinds(plan.actions), ['create-queue', 'create-topic', 'create-topic', 'create-binding', 'create-service']);
    assert.match(formatPlan(plan), /\+ service {2}svc "The service" \(produces t\.two; consumes t\.one\)/);
    await applyTopology(desiredState(document), target);
    assert.deepEqual(target.services, [{ name: 'svc', displayName: 'The service', description: 'Does things', produces: ['t.two'], consumes: ['t.one'] }]);
  });

  it('a failing action stops the apply and says how far it got', async () => {
    const target = new MemoryTarget();
    target.declareQueue = () => Promise.reject(new Error('disk full'));
    await assert.rejects(applyTopology(desiredState(shop), target), { message: "create queue 'invoices' failed after 1 of 16 changes: disk full" });
  });
});
