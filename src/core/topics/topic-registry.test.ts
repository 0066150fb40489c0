import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../clock.js';
import { isBrokerError } from '../errors.js';
import type { ErrorCode } from '../errors.js';
import type { TopicRecord } from '../ports.js';
import { validateTopicName } from './topic-name.js';
import { TopicRegistry } from './topic-registry.js';
import type { CreateTopicInput, TopicChange, TopicPatch } from './topic-registry.js';

function throwsCode(fn: () => unknown, code: ErrorCode, message?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(isBrokerError(error, code), `expected ${code}, got ${String(error)}`);
    if (message) assert.match(error.message, message);
    return true;
  });
}

function setup(): { clock: ManualClock; registry: TopicRegistry; changes: TopicChange[] } {
  const clock = new ManualClock(1_000);
  const changes: TopicChange[] = [];
  const registry = new TopicRegistry({ clock, onChange: (change) => changes.push(change) });
  return { clock, registry, changes };
}

describe('topic names', () => {
  it('accepts dotted words of letters, digits, dashes and underscores', () => {
    for (const name of ['orders', 'orders.created', 'sensor-1.room_2.t', 'grüße.日本', 'a', 'amq', 'x'.repeat(255), 'é'.repeat(127)]) {
      assert.doesNotThrow(() => validateTopicName(name), name);
    }
  });

  const refused: [unknown, ErrorCode, RegExp][] = [
    ['', 'INVALID_NAME', /must not be empty/],
    [42, 'INVALID_NAME', /must be a string, got number/],
    [null, 'INVALID_NAME', /got null/],
    ['x'.repeat(256), 'INVALID_NAME', /256 bytes of UTF-8; the limit is 255/],
    ['é'.repeat(128), 'INVALID_NAME', /256 bytes/],
    ['.orders', 'INVALID_NAME', /starts with '\.'/],
    ['orders.', 'INVALID_NAME', /ends with '\.'/],
    ['orders..created', 'INVALID_NAME', /two dots in a row at character 7/],
    ['orders.*', 'INVALID_NAME', /wildcard '\*' at character 8; wildcards belong in subscription patterns/],
    ['orders.#', 'INVALID_NAME', /wildcard '#'/],
    ['a+b', 'INVALID_NAME', /wildcard '\+' at character 2/],
    ['new orders', 'INVALID_NAME', /a space \(U\+0020\) at character 4/],
    ['a\tb', 'INVALID_NAME', /whitespace or control character \(U\+0009\)/],
    ['a/b', 'INVALID_NAME', /'\/' \(U\+002F\) at character 2; allowed are letters, digits/],
    ['amq.orders', 'RESERVED_NAME', /reserved prefix 'amq\.'/],
  ];
  for (const [name, code, message] of refused) {
    it(`refuses ${JSON.stringify(name)?.slice(0, 30) ?? String(name)} with ${code}`, () => {
      throwsCode(() => validateTopicName(name), code, message);
    });
  }
});

describe('TopicRegistry', () => {
  it('creates a topic with defaults and timestamps from the clock', () => {
    const { registry, changes } = setup();
    const topic = registry.create({ name: 'orders.created' });
    const expected: TopicRecord = {
      name: 'orders.created',
      displayName: 'orders.created',
      description: '',
      createdAt: 1_000,
      updatedAt: 1_000,
    };
    assert.deepEqual(topic, expected);
    assert.ok(!('retention' in topic));
    assert.ok(Object.isFrozen(topic));
    assert.deepEqual(registry.get('orders.created'), expected);
    assert.deepEqual(changes, [{ kind: 'created', topic: expected }]);
  });

  it('keeps display name, description and retention', () => {
    const { registry } = setup();
    const topic = registry.create({
      name: 'metrics',
      displayName: 'Metrics',
      description: 'CPU and memory\nper host',
      retention: { maxAgeMs: 86_400_000 },
    });
    assert.equal(topic.displayName, 'Metrics');
    assert.equal(topic.description, 'CPU and memory\nper host');
    assert.deepEqual(topic.retention, { maxAgeMs: 86_400_000 });
    assert.deepEqual(registry.create({ name: 'all', retention: {} }).retention, {});
  });

  it('refuses a second topic with the same name', () => {
    const { registry, changes } = setup();
    registry.create({ name: 'orders' });
    throwsCode(() => registry.create({ name: 'orders', description: 'again' }), 'TOPIC_EXISTS', /'orders' exists already/);
    assert.equal(changes.length, 1);
    assert.equal(registry.get('orders')?.description, '');
  });

  const badInputs: [string, unknown, RegExp][] = [
    ['a long display name', { name: 't', displayName: 'd'.repeat(201) }, /displayName has 201 characters; the limit is 200/],
    ['a blank display name', { name: 't', displayName: '  ' }, /displayName must not be empty/],
    ['a display name with a line break', { name: 't', displayName: 'a\nb' }, /control characters/],
    ['a numeric display name', { name: 't', displayName: 5 }, /displayName must be a string, got number/],
    ['a long description', { name: 't', description: 'd'.repeat(2001) }, /description has 2001 characters; the limit is 2000/],
    ['a description with a bell', { name: 't', description: 'a\u0007' }, /other than tab and line breaks/],
    ['a negative maxAgeMs', { name: 't', retention: { maxAgeMs: -1 } }, /retention.maxAgeMs must be a positive integer, got -1/],
    ['a fractional maxBytes', { name: 't', retention: { maxBytes: 1.5 } }, /retention.maxBytes must be a positive integer/],
    ['an unknown retention field', { name: 't', retention: { maxAge: 5 } }, /unknown field 'maxAge'/],
    ['a misspelt field', { name: 't', displayname: 'x' }, /topic has an unknown field 'displayname'/],
    ['a retention that is not an object', { name: 't', retention: 'forever' }, /retention must be an object/],
  ];
  for (const [what, input, message] of badInputs) {
    it(`refuses ${what} with INVALID_ARGUMENT`, () => {
      const { registry, changes } = setup();
      throwsCode(() => registry.create(input as CreateTopicInput), 'INVALID_ARGUMENT', message);
      assert.equal(registry.size, 0);
      assert.equal(changes.length, 0);
    });
  }

  it('accepts limits exactly at the bounds, counting characters not UTF-16 units', () => {
    const { registry } = setup();
    const topic = registry.create({ name: 't', displayName: '🚀'.repeat(200), description: 'ü'.repeat(2000) });
    assert.equal(topic.displayName, '🚀'.repeat(200));
  });

  it('refuses bad names through create', () => {
    const { registry } = setup();
    throwsCode(() => registry.create({ name: 'a..b' }), 'INVALID_NAME', /empty level/);
    throwsCode(() => registry.create({ name: 'amq.x' }), 'RESERVED_NAME');
  });

  it('updates fields, moves updatedAt and reports the previous record', () => {
    const { clock, registry, changes } = setup();
    const created = registry.create({ name: 'orders', retention: { maxBytes: 1_000_000 } });
    clock.advance(500);
    const updated = registry.update('orders', { displayName: 'Orders', description: 'All orders' });
    assert.deepEqual(updated, {
      name: 'orders',
      displayName: 'Orders',
      description: 'All orders',
      createdAt: 1_000,
      updatedAt: 1_500,
      retention: { maxBytes: 1_000_000 },
    });
    assert.deepEqual(changes[1], { kind: 'updated', topic: updated, previous: created });
    clock.advance(1);
    const withoutRetention = registry.update('orders', { retention: null });
    assert.ok(!('retention' in withoutRetention));
    assert.equal(withoutRetention.displayName, 'Orders');
  });

  it('treats a patch that changes nothing as a no-op', () => {
    const { clock, registry, changes } = setup();
    const created = registry.create({ name: 'orders', displayName: 'Orders', retention: { maxAgeMs: 10 } });
    clock.advance(100);
    const same = registry.update('orders', { displayName: 'Orders', retention: { maxAgeMs: 10 } });
    assert.equal(same, created);
    assert.equal(changes.length, 1);
  });

  it('refuses updates of unknown topics and bad patches', () => {
    const { registry } = setup();
    throwsCode(() => registry.update('nope', {}), 'TOPIC_NOT_FOUND', /no topic named 'nope'/);
    registry.create({ name: 'orders' });
    throwsCode(() => registry.update('orders', { name: 'other' } as TopicPatch), 'INVALID_ARGUMENT', /unknown field 'name'/);
    throwsCode(() => registry.update('orders', { displayName: '' }), 'INVALID_ARGUMENT');
    assert.equal(registry.get('orders')?.displayName, 'orders');
  });

  it('deletes topics and reports it', () => {
    const { registry, changes } = setup();
    const topic = registry.create({ name: 'orders' });
    assert.equal(registry.delete('orders'), topic);
    assert.equal(registry.get('orders'), undefined);
    assert.equal(registry.has('orders'), false);
    assert.deepEqual(changes[1], { kind: 'deleted', topic });
    throwsCode(() => registry.delete('orders'), 'TOPIC_NOT_FOUND');
    throwsCode(() => registry.require('orders'), 'TOPIC_NOT_FOUND');
  });

  it('lists topics ordered by name', () => {
    const { registry } = setup();
    for (const name of ['b', 'a.z', 'a', 'c']) registry.create({ name });
    assert.deepEqual(
      registry.list().map((topic) => topic.name),
      ['a', 'a.z', 'b', 'c'],
    );
  });

  it('loads a snapshot back exactly and replaces what was there, without onChange', () => {
    const source = setup();
    source.registry.create({ name: 'a', displayName: 'A', description: 'first', retention: { maxAgeMs: 5, maxBytes: 6 } });
    source.clock.advance(10);
    source.registry.create({ name: 'b' });
    const target = setup();
    target.registry.create({ name: 'stale' });
    target.changes.length = 0;
    target.registry.load(JSON.parse(JSON.stringify(source.registry.list())) as TopicRecord[]);
    assert.deepEqual(target.registry.list(), source.registry.list());
    assert.equal(target.registry.get('stale'), undefined);
    assert.equal(target.changes.length, 0);
  });

  it('refuses damaged snapshot records with METADATA_CORRUPT and keeps its state', () => {
    const { registry } = setup();
    registry.create({ name: 'kept' });
    const good: TopicRecord = { name: 'a', displayName: 'a', description: '', createdAt: 1, updatedAt: 1 };
    const damaged: unknown[] = [
      [good, { ...good }],
      [{ ...good, name: 'a b' }],
      [{ ...good, createdAt: 'yesterday' }],
      [{ ...good, displayName: undefined }],
      [{ ...good, retention: { maxAgeMs: 0 } }],
      [null],
    ];
    for (const records of damaged) {
      throwsCode(() => registry.load(records as TopicRecord[]), 'METADATA_CORRUPT', /topic record \d+ is damaged/);
    }
    assert.deepEqual(
      registry.list().map((topic) => topic.name),
      ['kept'],
    );
  });
});
