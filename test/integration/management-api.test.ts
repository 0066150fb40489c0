/** The REST management API against a real server: every endpoint, its answers and its errors. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import type { Message } from '../../src/core/message/message.js';
import { expectProblem, startManagementFixture, type ManagementFixture } from './management-harness.js';

function message(routingKey: string, body: string, exchange = ''): Message {
  return { exchange, routingKey, headers: {}, properties: { contentType: 'text/plain' }, body: Buffer.from(body), persistent: true };
}

async function publish(fixture: ManagementFixture, msg: Message): Promise<void> {
  const outcome = fixture.core.publish(msg);
  assert.ok(outcome.routed > 0, `routed ${msg.routingKey}`);
  await outcome.durable;
}

type Json = Record<string, unknown>;

describe('management API', () => {
  let fixture: ManagementFixture;
  before(async () => {
    fixture = await startManagementFixture();
  });
  after(async () => {
    await fixture.close();
  });

  test('the one OpenAPI document holds the management paths next to the messaging ones', async () => {
    const document = await fixture.get<{ paths: Json; components: { schemas: Json } }>('/api/openapi.json');
    for (const path of ['/api/overview', '/api/queues/{name}/redrive', '/api/queues/{name}/peek', '/api/connections/{id}', '/api/bindings', '/api/streams/{name}']) {
      assert.ok(document.paths[path], `documents ${path}`);
    }
    assert.ok(document.paths['/api/topics/{topic}/messages'], 'keeps the messaging API paths');
    assert.ok(document.components.schemas['Problem'] && document.components.schemas['Queue'] && document.components.schemas['Message']);
  });

  test('401 without credentials or with wrong ones, with a Basic challenge', async () => {
    const anonymous = await fetch(`${fixture.base}/api/overview`);
    await expectProblem(anonymous, 401, 'AUTHENTICATION_FAILED');
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic/);
    const wrong = await fixture.api('/api/queues', { headers: { authorization: `Basic ${Buffer.from('guest:nope').toString('base64')}` } });
    await expectProblem(wrong, 401, 'AUTHENTICATION_FAILED');
    await expectProblem(await fetch(`${fixture.base}/api/queues/q/purge`, { method: 'POST' }), 401);
  });

  test('overview: version, uptime, totals', async () => {
    await fixture.send('PUT', '/api/queues/ov-q', {});
    await publish(fixture, message('ov-q', 'one'));
    const overview = await fixture.get<{ version: string; uptimeSeconds: number; rates: Json; totals: Record<string, number> }>('/api/overview');
    assert.equal(overview.version, '9.9.9-test');
    assert.ok(Number.isInteger(overview.uptimeSeconds) && overview.uptimeSeconds >= 0);
    assert.deepEqual(Object.keys(overview.rates).sort(), ['ack', 'deliver', 'publish']);
    assert.ok(overview.totals['published']! >= 1);
    assert.ok(overview.totals['messagesReady']! >= 1);
    assert.ok(overview.totals['queues']! >= 1);
    assert.ok(overview.totals['exchanges']! >= 4, 'the built-in exchanges count');
    assert.ok(overview.totals['connections']! >= 1, 'the test connection counts');
    for (const key of ['delivered', 'acked', 'messagesUnacked', 'topics', 'streams', 'consumers']) assert.equal(typeof overview.totals[key], 'number', key);
  });

  test('topics: create, idempotent re-create, 409 on other attributes, patch, get, delete, 404', async () => {
    const created = await fixture.send('POST', '/api/topics', { name: 'orders.created', displayName: 'Order created', description: 'A new order' });
    assert.equal(created.status, 201);
    const topic = (await created.json()) as Json;
    assert.equal(topic['displayName'], 'Order created');
    assert.equal(typeof topic['createdAt'], 'string');
    assert.equal((await fixture.send('POST', '/api/topics', { name: 'orders.created', displayName: 'Order created', description: 'A new order' })).status, 200);
    await expectProblem(await fixture.send('POST', '/api/topics', { name: 'orders.created', displayName: 'Other' }), 409, 'TOPIC_EXISTS');
    const patched = await fixture.send('PATCH', '/api/topics/orders.created', { description: 'Placed by a customer' });
    assert.equal(patched.status, 200);
    assert.equal(((await patched.json()) as Json)['description'], 'Placed by a customer');
    const listed = await fixture.get<Json[]>('/api/topics');
    assert.ok(listed.some((entry) => entry['name'] === 'orders.created' && entry['description'] === 'Placed by a customer'));
    assert.equal((await fixture.get<Json>('/api/topics/orders.created'))['name'], 'orders.created');
    assert.equal((await fixture.send('DELETE', '/api/topics/orders.created')).status, 204);
    await expectProblem(await fixture.api('/api/topics/orders.created'), 404, 'TOPIC_NOT_FOUND');
    await expectProblem(await fixture.send('DELETE', '/api/topics/orders.created'), 404, 'TOPIC_NOT_FOUND');
    await expectProblem(await fixture.send('PATCH', '/api/topics/nope', { description: 'x' }), 404, 'TOPIC_NOT_FOUND');
  });

  test('services: 201 created, 204 unchanged, 200 replaced, get, list, delete, 404', async () => {
    await fixture.send('POST', '/api/topics', { name: 'svc.orders' });
    await fixture.send('POST', '/api/topics', { name: 'svc.payments' });
    const created = await fixture.send('PUT', '/api/services/billing', { consumes: ['svc.orders'], produces: ['svc.payments'], displayName: 'Billing' });
    assert.equal(created.status, 201, await created.clone().text());
    assert.equal(created.headers.get('location'), '/api/services/billing');
    assert.deepEqual(await created.json(), { name: 'billing', displayName: 'Billing', description: '', produces: ['svc.payments'], consumes: ['svc.orders'] });
    const same = await fixture.send('PUT', '/api/services/billing', { produces: ['svc.payments'], consumes: ['svc.orders', 'svc.orders'], displayName: 'Billing' });
    assert.equal(same.status, 204);
    const replaced = await fixture.send('PUT', '/api/services/billing', { consumes: ['svc.orders', 'svc.payments'], description: 'Charges customers' });
    assert.equal(replaced.status, 200);
    assert.deepEqual(await replaced.json(), { name: 'billing', displayName: 'billing', description: 'Charges customers', produces: [], consumes: ['svc.orders', 'svc.payments'] });
    assert.equal((await fixture.send('PUT', '/api/services/checkout', { produces: ['svc.orders'] })).status, 201);
    const listed = await fixture.get<Json[]>('/api/services');
    assert.deepEqual(
      listed.map((service) => service['name']),
      ['billing', 'checkout'],
    );
    assert.deepEqual((await fixture.get<Json>('/api/services/checkout'))['produces'], ['svc.orders']);
    assert.equal((await fixture.send('DELETE', '/api/services/checkout')).status, 204);
    await expectProblem(await fixture.api('/api/services/checkout'), 404, 'SERVICE_NOT_FOUND');
    await expectProblem(await fixture.send('DELETE', '/api/services/checkout'), 404, 'SERVICE_NOT_FOUND');
    assert.equal((await fixture.send('DELETE', '/api/services/billing')).status, 204);
    assert.deepEqual(await fixture.get<Json[]>('/api/services'), []);
  });

  test('services: bad bodies are 400, unknown topics 409, and nothing changes', async () => {
    await fixture.send('POST', '/api/topics', { name: 'svc.known' });
    assert.equal((await fixture.send('PUT', '/api/services/keeper', { consumes: ['svc.known'] })).status, 201);
    const unknownTopic = await expectProblem(await fixture.send('PUT', '/api/services/keeper', { consumes: ['svc.known', 'svc.missing'] }), 409, 'PRECONDITION_FAILED');
    assert.match(String(unknownTopic['detail']), /svc\.missing; create it first/);
    await expectProblem(await fixture.send('PUT', '/api/services/keeper', { consumes: 'svc.known' }), 400, 'INVALID_ARGUMENT');
    await expectProblem(await fixture.send('PUT', '/api/services/keeper', { consumes: ['svc.*'] }), 400, 'INVALID_ARGUMENT');
    await expectProblem(await fixture.send('PUT', '/api/services/keeper', { topics: [] }), 400, 'INVALID_ARGUMENT');
    await expectProblem(await fixture.send('PUT', '/api/services/keeper', { displayName: '' }), 400, 'INVALID_ARGUMENT');
    await expectProblem(await fixture.send('PUT', '/api/services/has.dot', {}), 400, 'INVALID_NAME');
    const notJson = await fixture.api('/api/services/keeper', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '[1' });
    await expectProblem(notJson, 400);
    assert.deepEqual((await fixture.get<Json>('/api/services/keeper'))['consumes'], ['svc.known']);
    const document = await fixture.get<{ paths: Json; components: { schemas: Json } }>('/api/openapi.json');
    assert.ok(document.paths['/api/services'] && document.paths['/api/services/{name}'] && document.components.schemas['Service']);
    assert.equal((await fixture.send('DELETE', '/api/services/keeper')).status, 204);
  });

  test('topics: bad bodies are 400 and change nothing', async () => {
    await expectProblem(await fixture.api('/api/topics', { method: 'POST', body: '{not json' }), 400, 'INVALID_ARGUMENT');
    await expectProblem(await fixture.send('POST', '/api/topics', ['name']), 400, 'INVALID_ARGUMENT');
    await expectProblem(await fixture.send('POST', '/api/topics', { name: 'a.b', colour: 'red' }), 400, 'INVALID_ARGUMENT');
    await expectProblem(await fixture.send('POST', '/api/topics', { name: 'has space' }), 400, 'INVALID_NAME');
    await expectProblem(await fixture.send('POST', '/api/topics', { name: 'r.t', retention: { maxAgeMs: -1 } }), 400, 'INVALID_ARGUMENT');
    const listed = await fixture.get<Json[]>('/api/topics');
    assert.ok(!listed.some((entry) => entry['name'] === 'a.b' || entry['name'] === 'r.t'));
  });

  test('topics with retention get a stream, shown by /api/streams', async () => {
    assert.equal((await fixture.send('POST', '/api/topics', { name: 'audit.log', retention: { maxBytes: 1_000_000 } })).status, 201);
    await publish(fixture, message('audit.log', 'entry', 'amq.topic'));
    const stream = await fixture.get<Json>('/api/streams/audit.log');
    assert.equal(stream['messages'], 1);
    assert.equal(stream['firstOffset'], 0);
    assert.equal(stream['lastOffset'], 0);
    assert.ok((stream['sizeBytes'] as number) > 0);
    assert.deepEqual(stream['consumerOffsets'], {});
    const streams = await fixture.get<Json[]>('/api/streams');
    assert.ok(streams.some((entry) => entry['name'] === 'audit.log'));
    const queues = await fixture.get<Json[]>('/api/queues');
    assert.equal(queues.find((entry) => entry['name'] === 'audit.log')?.['type'], 'stream');
    await expectProblem(await fixture.api('/api/streams/missing'), 404, 'STREAM_NOT_FOUND');
  });

  test('exchanges: 201 / 204 / 409 declare, get, list, delete with ifUnused, 404', async () => {
    const created = await fixture.send('PUT', '/api/exchanges/billing', { type: 'topic' });
    assert.equal(created.status, 201);
    assert.deepEqual(await created.json(), { name: 'billing', type: 'topic', durable: true, autoDelete: false, internal: false, arguments: {} });
    assert.equal((await fixture.send('PUT', '/api/exchanges/billing', { type: 'topic', durable: true })).status, 204);
    await expectProblem(await fixture.send('PUT', '/api/exchanges/billing', { type: 'fanout' }), 409, 'PRECONDITION_FAILED');
    await expectProblem(await fixture.send('PUT', '/api/exchanges/bad', { type: 'nonsense' }), 400, 'INVALID_ARGUMENT');
    await expectProblem(await fixture.send('PUT', '/api/exchanges/bad', {}), 400, 'INVALID_ARGUMENT');
    await expectProblem(await fixture.send('PUT', '/api/exchanges/bad', { type: 'direct', durable: 'yes' }), 400, 'INVALID_ARGUMENT');
    await expectProblem(await fixture.send('PUT', '/api/exchanges/amq.custom', { type: 'direct' }), 400, 'RESERVED_NAME');
    assert.equal((await fixture.get<Json>('/api/exchanges/billing'))['type'], 'topic');
    const listed = await fixture.get<Json[]>('/api/exchanges');
    assert.ok(listed.some((entry) => entry['name'] === 'amq.topic' && entry['type'] === 'topic'));
    await expectProblem(await fixture.api('/api/exchanges/missing'), 404, 'EXCHANGE_NOT_FOUND');

    await fixture.send('PUT', '/api/queues/billing-q', {});
    assert.equal((await fixture.send('POST', '/api/bindings', { source: 'billing', destination: 'billing-q', routingKey: 'invoice.*' })).status, 201);
    await expectProblem(await fixture.send('DELETE', '/api/exchanges/billing?ifUnused=true'), 409, 'IN_USE');
    await expectProblem(await fixture.send('DELETE', '/api/exchanges/billing?ifUnused=maybe'), 400, 'INVALID_ARGUMENT');
    assert.equal((await fixture.send('DELETE', '/api/exchanges/billing')).status, 204);
    await expectProblem(await fixture.send('DELETE', '/api/exchanges/billing'), 404, 'EXCHANGE_NOT_FOUND');
    await expectProblem(await fixture.send('DELETE', '/api/exchanges/amq.direct'), 403, 'ACCESS_REFUSED');
  });

  test('queues: 201 / 204 / 409 declare, get, list with counts, 400 bodies, 404', async () => {
    const created = await fixture.send('PUT', '/api/queues/work', { arguments: { 'x-max-length': 100 } });
    assert.equal(created.status, 201);
    const queue = (await created.json()) as Json;
    assert.equal(queue['type'], 'classic');
    assert.equal(queue['durable'], true);
    assert.deepEqual(queue['arguments'], { 'x-max-length': 100 });
    assert.equal((await fixture.send('PUT', '/api/queues/work', { arguments: { 'x-max-length': 100 } })).status, 204);
    await expectProblem(await fixture.send('PUT', '/api/queues/work', { durable: false, arguments: { 'x-max-length': 100 } }), 409, 'PRECONDITION_FAILED');
    await expectProblem(await fixture.send('PUT', '/api/queues/work', { arguments: { 'x-max-length': 5 } }), 409, 'PRECONDITION_FAILED');
    await expectProblem(await fixture.send('PUT', '/api/queues/bad', { arguments: 'x' }), 400, 'INVALID_ARGUMENT');
    await expectProblem(await fixture.send('PUT', '/api/queues/bad', { exclusive: true }), 400, 'INVALID_ARGUMENT');
    await expectProblem(await fixture.send('PUT', '/api/queues/bad', { arguments: { 'x-message-ttl': -5 } }), 400, 'INVALID_ARGUMENT');
    assert.equal((await fixture.send('PUT', '/api/queues/quorum-q', { arguments: { 'x-queue-type': 'quorum' } })).status, 201);

    await publish(fixture, message('work', 'a'));
    await publish(fixture, message('work', 'b'));
    const got = await fixture.get<Json>('/api/queues/work');
    assert.equal(got['messagesReady'], 2);
    assert.equal(got['messagesUnacked'], 0);
    assert.equal(got['consumers'], 0);
    assert.deepEqual(Object.keys(got['rates'] as Json).sort(), ['ack', 'deliver', 'publish']);
    const listed = await fixture.get<Json[]>('/api/queues');
    assert.equal(listed.find((entry) => entry['name'] === 'quorum-q')?.['type'], 'quorum');
    await expectProblem(await fixture.api('/api/queues/missing'), 404, 'QUEUE_NOT_FOUND');
  });

  test('queues: purge, delete with ifEmpty / ifUnused, 404s', async () => {
    await fixture.send('PUT', '/api/queues/purge-me', {});
    for (const body of ['1', '2', '3']) await publish(fixture, message('purge-me', body));
    await expectProblem(await fixture.send('DELETE', '/api/queues/purge-me?ifEmpty=true'), 409, 'NOT_EMPTY');
    const purged = await fixture.send('POST', '/api/queues/purge-me/purge');
    assert.equal(purged.status, 200);
    assert.deepEqual(await purged.json(), { purged: 3 });
    assert.equal((await fixture.get<Json>('/api/queues/purge-me'))['messagesReady'], 0);
    const channel = fixture.core.openChannel();
    fixture.core.consume(channel, 'purge-me', {}, { deliver: () => {} });
    await expectProblem(await fixture.send('DELETE', '/api/queues/purge-me?ifUnused=true'), 409, 'IN_USE');
    fixture.core.closeChannel(channel);
    assert.equal((await fixture.send('DELETE', '/api/queues/purge-me?ifEmpty=true&ifUnused=true')).status, 204);
    await expectProblem(await fixture.send('DELETE', '/api/queues/purge-me'), 404, 'QUEUE_NOT_FOUND');
    await expectProblem(await fixture.send('POST', '/api/queues/purge-me/purge'), 404, 'QUEUE_NOT_FOUND');
  });

  test('peek shows ready messages in order and consumes nothing', async () => {
    await fixture.send('PUT', '/api/queues/peek-q', {});
    for (const body of ['first', 'second', 'third']) await publish(fixture, message('peek-q', body));
    const peek = await fixture.get<{ messages: Json[] }>('/api/queues/peek-q/peek?max=2');
    assert.deepEqual(
      peek.messages.map((entry) => Buffer.from(entry['body'] as string, 'base64').toString()),
      ['first', 'second'],
    );
    assert.equal(peek.messages[0]?.['routingKey'], 'peek-q');
    assert.equal(peek.messages[0]?.['contentType'], 'text/plain');
    assert.equal(peek.messages[0]?.['redelivered'], false);
    assert.equal(peek.messages[0]?.['receiptHandle'], undefined);
    assert.equal((await fixture.get<{ messages: Json[] }>('/api/queues/peek-q/peek')).messages.length, 3, 'default max covers all three');
    assert.equal((await fixture.get<Json>('/api/queues/peek-q'))['messagesReady'], 3, 'peeking consumed nothing');
    // A consumer still gets the first message first.
    const channel = fixture.core.openChannel();
    const delivery = await fixture.core.get(channel, 'peek-q', true);
    assert.equal(Buffer.from(delivery?.message.body ?? []).toString(), 'first');
    fixture.core.closeChannel(channel);
    await expectProblem(await fixture.api('/api/queues/peek-q/peek?max=0'), 400, 'INVALID_ARGUMENT');
    await expectProblem(await fixture.api('/api/queues/peek-q/peek?max=101'), 400, 'INVALID_ARGUMENT');
    await expectProblem(await fixture.api('/api/queues/nothing/peek'), 404, 'QUEUE_NOT_FOUND');
  });

  test('bindings: 201 / 204 bind, list, unbind 204 / 404, bad bodies 400, unknown exchange 404', async () => {
    await fixture.send('PUT', '/api/exchanges/events', { type: 'topic' });
    await fixture.send('PUT', '/api/exchanges/events-copy', { type: 'fanout' });
    await fixture.send('PUT', '/api/queues/events-q', {});
    const binding = { source: 'events', destination: 'events-q', destinationKind: 'queue', routingKey: 'user.#', arguments: {} };
    const created = await fixture.send('POST', '/api/bindings', binding);
    assert.equal(created.status, 201);
    assert.deepEqual(await created.json(), binding);
    assert.equal((await fixture.send('POST', '/api/bindings', binding)).status, 204);
    const e2e = { source: 'events', destination: 'events-copy', destinationKind: 'exchange', routingKey: '#' };
    assert.equal((await fixture.send('POST', '/api/bindings', e2e)).status, 201);
    const listed = await fixture.get<Json[]>('/api/bindings');
    assert.ok(listed.some((entry) => entry['source'] === 'events' && entry['destination'] === 'events-q' && entry['routingKey'] === 'user.#'));
    assert.ok(listed.some((entry) => entry['destination'] === 'events-copy' && entry['destinationKind'] === 'exchange'));
    assert.equal((await fixture.send('DELETE', '/api/bindings', binding)).status, 204);
    await expectProblem(await fixture.send('DELETE', '/api/bindings', binding), 404, 'BINDING_NOT_FOUND');
    await expectProblem(await fixture.send('POST', '/api/bindings', { ...binding, source: 'nowhere' }), 404, 'EXCHANGE_NOT_FOUND');
    await expectProblem(await fixture.send('POST', '/api/bindings', { ...binding, destination: 'no-queue' }), 404, 'QUEUE_NOT_FOUND');
    await expectProblem(await fixture.send('POST', '/api/bindings', { ...binding, destinationKind: 'topic' }), 400, 'INVALID_ARGUMENT');
    await expectProblem(await fixture.send('POST', '/api/bindings', { destination: 'events-q' }), 400, 'INVALID_ARGUMENT');
    await expectProblem(await fixture.send('DELETE', '/api/bindings'), 400, 'INVALID_ARGUMENT');
  });

  test('connections and consumers list core connections; closing one without an adapter closes it; 404s', async () => {
    const other = fixture.server.broker.connect({ username: 'guest', tags: [] }, { protocol: 'test', remoteAddress: '10.1.2.3', clientId: 'probe' });
    const channel = other.openChannel();
    await fixture.send('PUT', '/api/queues/conn-q', {});
    channel.setPrefetch(7, false);
    const tag = other.consume(channel, 'conn-q', { consumerTag: 'probe-consumer' }, { deliver: () => {} });
    const connections = await fixture.get<Json[]>('/api/connections');
    const listed = connections.find((entry) => entry['id'] === other.id);
    assert.ok(listed, 'the connection is listed');
    assert.equal(listed['protocol'], 'test');
    assert.equal(listed['clientId'], 'probe');
    assert.equal(listed['user'], 'guest');
    assert.equal(listed['remoteAddress'], '10.1.2.3');
    assert.equal(listed['channels'], 1);
    assert.equal(typeof listed['connectedAt'], 'string');
    assert.deepEqual(listed['rates'], { publish: 0, deliver: 0 });
    const consumers = await fixture.get<Json[]>('/api/consumers');
    assert.deepEqual(
      consumers.find((entry) => entry['tag'] === tag),
      { queue: 'conn-q', tag: 'probe-consumer', connectionId: other.id, protocol: 'test', prefetch: 7, ackRequired: true },
    );
    assert.equal((await fixture.get<Json>('/api/queues/conn-q'))['consumers'], 1);
    assert.equal((await fixture.send('DELETE', `/api/connections/${other.id}`)).status, 204);
    assert.equal(other.isClosed, true);
    assert.ok(!(await fixture.get<Json[]>('/api/connections')).some((entry) => entry['id'] === other.id));
    await expectProblem(await fixture.send('DELETE', `/api/connections/${other.id}`), 404, 'CONNECTION_NOT_FOUND');
    await expectProblem(await fixture.send('DELETE', '/api/connections/not-a-number'), 404, 'CONNECTION_NOT_FOUND');
  });

  test('a wrong method is 405 and an unknown path 404, as problem details', async () => {
    await expectProblem(await fixture.send('PATCH', '/api/queues/work'), 405);
    await expectProblem(await fixture.api('/api/nothing-here'), 404);
  });
});

describe('management API rates', () => {
  test('publish, deliver and ack rates come from samples taken on the broker clock', async () => {
    const clock = new ManualClock(Date.now());
    const fixture = await startManagementFixture({ clock });
    try {
      await fixture.send('PUT', '/api/queues/rated', {});
      for (let i = 0; i < 10; i++) await publish(fixture, message('rated', `m${i}`));
      const channel = fixture.core.openChannel();
      for (let i = 0; i < 5; i++) {
        const delivery = await fixture.core.get(channel, 'rated', false);
        assert.ok(delivery);
        channel.ack(delivery.deliveryTag);
      }
      // One sample window (5 s) later: 10 published, 5 delivered and 5 acked in 5 s.
      clock.advance(5000);
      const queue = await fixture.get<{ rates: Json }>('/api/queues/rated');
      assert.deepEqual(queue.rates, { publish: 2, deliver: 1, ack: 1 });
      const overview = await fixture.get<{ rates: Json; totals: Json; uptimeSeconds: number }>('/api/overview');
      assert.deepEqual(overview.rates, { publish: 2, deliver: 1, ack: 1 });
      assert.equal(overview.totals['published'], 10);
      assert.equal(overview.totals['delivered'], 5);
      assert.equal(overview.totals['acked'], 5);
      assert.equal(overview.uptimeSeconds, 5);
      const connection = (await fixture.get<Json[]>('/api/connections')).find((entry) => entry['id'] === fixture.core.id);
      assert.deepEqual(connection?.['rates'], { publish: 2, deliver: 1 });
      // A quiet window brings the rates back to zero.
      clock.advance(5000);
      assert.deepEqual((await fixture.get<{ rates: Json }>('/api/queues/rated')).rates, { publish: 0, deliver: 0, ack: 0 });
      fixture.core.closeChannel(channel);
    } finally {
      await fixture.close();
    }
  });
});
