import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileMetadataStore, MemoryLogStore, MemoryMetadataStore } from '../../storage/index.js';
import { encodeMetadata } from '../../storage/file/metadata-file.js';
import { Broker } from '../broker.js';
import { isBrokerError, type ErrorCode } from '../errors.js';
import { emptySnapshot, type Authorizer, type MetadataStore, type Principal, type ServiceRecord } from '../ports.js';
import { ServiceRegistry, validateServiceName } from './service-registry.js';

const admin: Principal = { username: 'admin', tags: ['administrator'] };

function throwsCode(fn: () => unknown, code: ErrorCode, message?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(isBrokerError(error, code), `expected ${code}, got ${String(error)}`);
    if (message) assert.match(error.message, message);
    return true;
  });
}

async function rejectsCode(promise: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isBrokerError(error, code), `expected ${code}, got ${String(error)}`);
    if (message) assert.match(error.message, message);
    return true;
  });
}

function openBroker(metadataStore: MetadataStore = new MemoryMetadataStore(), authorizer?: Authorizer): Promise<Broker> {
  return Broker.open({
    logStore: new MemoryLogStore(),
    transientLogStore: new MemoryLogStore(),
    metadataStore,
    fsync: { mode: 'never' },
    ...(authorizer ? { authorizer } : {}),
  });
}

describe('service names', () => {
  it('accepts one word of letters, digits, dashes and underscores', () => {
    for (const name of ['billing', 'order-service', 'svc_2', 'größe']) assert.doesNotThrow(() => validateServiceName(name), name);
  });
  for (const [name, message] of [
    ['', /must not be empty/],
    ['billing.v2', /must be one word .*no dots/],
    ['a b', /one word/],
    ['x'.repeat(101), /101 characters; the limit is 100/],
    [7, /must be a string, got number/],
  ] as const) {
    it(`refuses ${JSON.stringify(name).slice(0, 20)}`, () => throwsCode(() => validateServiceName(name), 'INVALID_NAME', message));
  }
});

describe('ServiceRegistry', () => {
  it('creates, leaves an equal record unchanged and replaces a different one', () => {
    const registry = new ServiceRegistry();
    const created = registry.put({ name: 'billing', consumes: ['orders.created', 'a.b', 'orders.created'] });
    assert.equal(created.outcome, 'created');
    assert.deepEqual(created.service, { name: 'billing', produces: [], consumes: ['a.b', 'orders.created'] });
    assert.ok(Object.isFrozen(created.service));
    const again = registry.put({ name: 'billing', consumes: ['orders.created', 'a.b'], produces: [] });
    assert.equal(again.outcome, 'unchanged');
    assert.equal(again.service, created.service);
    const updated = registry.put({ name: 'billing', displayName: 'Billing', produces: ['payments.settled'] });
    assert.equal(updated.outcome, 'updated');
    assert.deepEqual(registry.get('billing'), { name: 'billing', displayName: 'Billing', produces: ['payments.settled'], consumes: [] });
  });

  const bad: [string, unknown, RegExp][] = [
    ['an unknown field', { name: 's', topics: [] }, /unknown field 'topics'/],
    ['produces that is not a list', { name: 's', produces: 'orders' }, /produces must be a list/],
    ['a wildcard topic', { name: 's', consumes: ['orders.*'] }, /consumes\[0\]: .*wildcard/],
    ['a blank display name', { name: 's', displayName: ' ' }, /displayName must not be empty/],
    ['a long description', { name: 's', description: 'd'.repeat(2001) }, /2001 characters/],
  ];
  for (const [what, input, message] of bad) {
    it(`refuses ${what} with INVALID_ARGUMENT and stores nothing`, () => {
      const registry = new ServiceRegistry();
      throwsCode(() => registry.put(input), 'INVALID_ARGUMENT', message);
      assert.equal(registry.size, 0);
    });
  }

  it('deletes and lists by name; unknown names are SERVICE_NOT_FOUND', () => {
    const registry = new ServiceRegistry();
    for (const name of ['shipping', 'billing', 'checkout']) registry.put({ name });
    assert.deepEqual(
      registry.list().map((service) => service.name),
      ['billing', 'checkout', 'shipping'],
    );
    assert.equal(registry.delete('checkout').name, 'checkout');
    throwsCode(() => registry.delete('checkout'), 'SERVICE_NOT_FOUND', /no service named 'checkout'/);
  });

  it('refuses damaged snapshot records with METADATA_CORRUPT and keeps its state', () => {
    const registry = new ServiceRegistry();
    registry.put({ name: 'kept' });
    const good: ServiceRecord = { name: 'a', produces: [], consumes: [] };
    for (const records of [[good, good], [{ ...good, name: 'a.b' }], [{ ...good, consumes: [1] }], [null]]) {
      throwsCode(() => registry.load(records as ServiceRecord[]), 'METADATA_CORRUPT', /service record \d+ is damaged/);
    }
    assert.deepEqual(
      registry.list().map((service) => service.name),
      ['kept'],
    );
  });
});

describe('services on the broker', () => {
  it('puts, lists and deletes services, refusing topics the broker does not have', async () => {
    const broker = await openBroker();
    try {
      await broker.createTopic(admin, { name: 'orders.created' });
      await rejectsCode(
        broker.putService(admin, { name: 'billing', consumes: ['orders.created', 'payments.settled'] }),
        'PRECONDITION_FAILED',
        /a topic that does not exist: payments\.settled; create it first/,
      );
      assert.deepEqual(broker.listServices(), []);
      assert.equal((await broker.putService(admin, { name: 'billing', consumes: ['orders.created'] })).outcome, 'created');
      assert.equal((await broker.putService(admin, { name: 'checkout', produces: ['orders.created'] })).outcome, 'created');
      assert.deepEqual(
        broker.listServices().map((service) => service.name),
        ['billing', 'checkout'],
      );
      await broker.deleteService(admin, 'checkout');
      assert.equal(broker.getService('checkout'), undefined);
      await rejectsCode(broker.deleteService(admin, 'checkout'), 'SERVICE_NOT_FOUND');
    } finally {
      await broker.close();
    }
  });

  it('authorizes configure on the service', async () => {
    const seen: string[] = [];
    const authorizer: Authorizer = {
      authorize: (_principal, permission, resource) => {
        seen.push(`${permission}:${resource.kind}:${resource.name}`);
        return resource.kind !== 'service';
      },
    };
    const broker = await openBroker(new MemoryMetadataStore(), authorizer);
    try {
      await rejectsCode(broker.putService(admin, { name: 'billing' }), 'ACCESS_REFUSED', /service 'billing'/);
      assert.ok(seen.includes('configure:service:billing'));
      assert.deepEqual(broker.listServices(), []);
    } finally {
      await broker.close();
    }
  });

  it('keeps services across a restart, and opens a metadata file written before services existed', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'courier-services-'));
    try {
      const path = join(directory, 'metadata.json');
      const old = { ...emptySnapshot(), topics: [{ name: 'orders', displayName: 'orders', description: '', createdAt: 1, updatedAt: 1 }] };
      assert.ok(!('services' in old));
      await writeFile(path, encodeMetadata(old));
      let broker = await openBroker(new FileMetadataStore({ path }));
      assert.deepEqual(broker.listServices(), []);
      assert.equal(broker.topics.list().length, 1);
      await broker.putService(admin, { name: 'billing', displayName: 'Billing', consumes: ['orders'] });
      await broker.close();

      broker = await openBroker(new FileMetadataStore({ path }));
      try {
        assert.deepEqual(broker.listServices(), [{ name: 'billing', displayName: 'Billing', produces: [], consumes: ['orders'] }]);
      } finally {
        await broker.close();
      }
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
