import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Broker } from '../../core/broker.js';
import { createMessage } from '../../core/message/message.js';
import { MemoryLogStore, MemoryMetadataStore } from '../../storage/index.js';
import { applyTopology, planTopology } from './apply.js';
import { BrokerTopologyTarget, TOPOLOGY_PRINCIPAL } from './broker-target.js';
import { desiredState } from './desired-state.js';
import { parseTopology } from './topology-parser.js';

function openBroker(): Promise<Broker> {
  return Broker.open({
    logStore: new MemoryLogStore(),
    transientLogStore: new MemoryLogStore(),
    metadataStore: new MemoryMetadataStore(),
    fsync: { mode: 'never' },
  });
}

const file = [
  'topics:',
  '  - { name: orders.created, displayName: Order created }',
  '  - { name: audit.events, retention: { maxAge: 1d } }',
  'exchanges:',
  '  - { name: jobs, type: direct }',
  'queues:',
  '  - { name: jobs.high, arguments: { x-max-length: 100, x-overflow: reject-publish } }',
  'bindings:',
  '  - { source: jobs, destination: jobs.high, routingKey: high }',
  'services:',
  '  - { name: billing, consumes: [orders.created] }',
  '  - { name: shipping, produces: [audit.events], consumes: [orders.created] }',
  '',
].join('\n');

describe('topology on the in-process broker', () => {
  it('apply creates everything, a second apply is a no-op, and an event reaches every consuming service', async () => {
    const broker = await openBroker();
    try {
      const parsed = parseTopology(file, 'courier.yaml');
      assert.ok(parsed.ok, JSON.stringify(parsed));
      const desired = desiredState(parsed.document);
      const target = new BrokerTopologyTarget(broker);

      const first = await applyTopology(desired, target);
      assert.equal(first.applied.length, 11, 'nine entities and two service records');
      assert.deepEqual(broker.listServices(), [
        { name: 'billing', produces: [], consumes: ['orders.created'] },
        { name: 'shipping', produces: ['audit.events'], consumes: ['orders.created'] },
      ]);
      assert.equal(broker.topics.get('orders.created')?.displayName, 'Order created');
      assert.ok(broker.getStream('audit.events'), 'a topic with retention keeps history in a stream');
      assert.deepEqual(broker.getQueue('jobs.high')?.record.arguments, { 'x-max-length': 100, 'x-overflow': 'reject-publish' });

      const second = await planTopology(desired, target);
      assert.deepEqual(second.actions, []);
      assert.deepEqual(second.conflicts, []);
      assert.deepEqual(second.drift, [], 'the topic stream is not drift');

      const outcome = broker.publish(TOPOLOGY_PRINCIPAL, createMessage({ exchange: 'amq.topic', routingKey: 'orders.created', body: new TextEncoder().encode('o1') }));
      assert.equal(outcome.routed, 2);
      assert.equal(broker.getQueue('billing.orders.created')?.messageCount, 1);
      assert.equal(broker.getQueue('shipping.orders.created')?.messageCount, 1);

      // A service on the broker that the file does not declare is drift; a changed one is an update.
      await broker.putService(TOPOLOGY_PRINCIPAL, { name: 'mailer', consumes: ['orders.created'] });
      await broker.putService(TOPOLOGY_PRINCIPAL, { name: 'billing', description: 'Charges customers', consumes: ['orders.created'] });
      const third = await planTopology(desired, target);
      assert.deepEqual(third.drift, [{ entity: 'service', name: 'mailer' }]);
      assert.deepEqual(third.actions, [
        {
          kind: 'update-service',
          service: { name: 'billing', produces: [], consumes: ['orders.created'] },
          changes: [{ field: 'description', current: 'Charges customers', desired: '' }],
        },
      ]);
      await applyTopology(desired, target);
      assert.equal(broker.getService('billing')?.description, undefined);
      assert.ok(broker.getService('mailer'), 'apply leaves drift alone');
    } finally {
      await broker.close();
    }
  });

  it('a queue declared behind the file back is drift; changed arguments are a conflict the broker would refuse', async () => {
    const broker = await openBroker();
    try {
      const parsed = parseTopology(file, 'courier.yaml');
      assert.ok(parsed.ok);
      const target = new BrokerTopologyTarget(broker);
      await broker.declareQueue(TOPOLOGY_PRINCIPAL, undefined, { name: 'jobs.high', durable: true, arguments: { 'x-max-length': 5 } });
      await broker.declareQueue(TOPOLOGY_PRINCIPAL, undefined, { name: 'scratch', durable: true });
      const plan = await planTopology(desiredState(parsed.document), target);
      assert.deepEqual(plan.drift, [{ entity: 'queue', name: 'scratch', bindings: 0 }]);
      assert.deepEqual(
        plan.conflicts.map((conflict) => conflict.differences.map((difference) => difference.field)),
        [['arguments.x-max-length', 'arguments.x-overflow']],
      );
      await assert.rejects(applyTopology(desiredState(parsed.document), target), { code: 'PRECONDITION_FAILED' });
      assert.equal(broker.topics.size, 0, 'nothing applied');
    } finally {
      await broker.close();
    }
  });
});
