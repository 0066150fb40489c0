/**
 * `courier plan` and `courier apply` as users run them (bin/courier.js in child processes) against a real
 * broker started with `courier serve`, over its REST management API.
 */
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CliHarness, expectExit, freePort, type RunningBroker } from './cli-harness.js';

const topology = [
  'topics:',
  '  - name: orders.created',
  '    displayName: Order created',
  '    description: A customer placed an order.',
  '  - name: audit.events',
  '    retention: { maxAge: 7d }',
  'exchanges:',
  '  - { name: jobs, type: direct }',
  'queues:',
  '  - name: jobs.pdf',
  '    arguments: { x-max-length: 100, x-overflow: reject-publish }',
  'bindings:',
  '  - { source: jobs, destination: jobs.pdf, routingKey: pdf }',
  'services:',
  '  - { name: checkout, displayName: Checkout, description: The web shop., produces: [orders.created] }',
  '  - { name: billing, consumes: [orders.created] }',
  '  - { name: shipping, consumes: [orders.created, audit.events] }',
  '',
].join('\n');

interface PlanJson {
  actions: { kind: string }[];
  conflicts: { entity: string; name: string }[];
  drift: { entity: string; name?: string }[];
  unchanged: number;
}

describe('courier plan / apply (CLI against a running broker)', () => {
  const harness = new CliHarness();
  let broker: RunningBroker;
  let file = '';

  before(async () => {
    await harness.setUp();
    file = join(harness.directory, 'courier.yaml');
    await writeFile(file, topology);
    broker = await harness.startBroker({ amqp: true });
  });
  after(async () => {
    await broker.stop();
    await harness.tearDown();
  });

  it('plan against an empty broker lists every change, in dependency order', async () => {
    const result = expectExit(await broker.cli(['plan', '-f', file]), 0);
    const lines = result.stdout.split('\n');
    const firstBinding = lines.findIndex((line) => line.includes('+ binding'));
    const lastQueue = lines.findLastIndex((line) => line.includes('+ queue'));
    assert.ok(lastQueue > 0 && firstBinding > lastQueue, result.stdout);
    assert.match(result.stdout, /\+ queue {4}billing\.orders\.created \(durable\)/);
    assert.match(result.stdout, /\+ binding {2}amq\.topic -> shipping\.audit\.events \(key "audit\.events"\)/);
    assert.match(result.stdout, /\+ topic {4}orders\.created "Order created"/);
    assert.match(result.stdout, /\+ service {2}checkout "Checkout" \(produces orders\.created\)/);
    assert.match(result.stdout, /\+ service {2}shipping \(consumes audit\.events, orders\.created\)/);
    const lastService = lines.findLastIndex((line) => line.includes('+ service'));
    assert.ok(lastService === lines.findLastIndex((line) => line.startsWith('  ')), 'services come last, after the topics they name');
    assert.match(result.stdout, /^Plan: 14 to create, 0 to update, 0 conflicts, 0 not in the file, 0 unchanged\.$/m);
    const listed = expectExit(await broker.cli(['queues', 'list', '--json']), 0);
    assert.deepEqual(JSON.parse(listed.stdout), [], 'plan changed nothing');
    assert.deepEqual(JSON.parse(expectExit(await broker.cli(['services', 'list', '--json']), 0).stdout), []);
  });

  it('apply creates everything; a second apply is a no-op', async () => {
    const first = expectExit(await broker.cli(['apply', '-f', file]), 0);
    assert.match(first.stdout, /^Applied 14 changes from courier\.yaml/m);
    const services = JSON.parse(expectExit(await broker.cli(['services', 'list', '--json']), 0).stdout) as Record<string, unknown>[];
    assert.deepEqual(services, [
      { name: 'billing', displayName: 'billing', description: '', produces: [], consumes: ['orders.created'] },
      { name: 'checkout', displayName: 'Checkout', description: 'The web shop.', produces: ['orders.created'], consumes: [] },
      { name: 'shipping', displayName: 'shipping', description: '', produces: [], consumes: ['audit.events', 'orders.created'] },
    ]);
    const table = expectExit(await broker.cli(['services', 'list']), 0).stdout;
    assert.match(table, /^NAME +DISPLAY NAME +PRODUCES +CONSUMES +DESCRIPTION/);
    assert.match(table, /\ncheckout +Checkout +orders\.created +The web shop\./);

    const second = expectExit(await broker.cli(['apply', '-f', file]), 0);
    assert.match(second.stdout, /^No changes: the broker already has everything the file declares\.$/m);
    assert.match(second.stdout, /^Nothing to apply: courier\.yaml matches the broker\.$/m);

    const plan = JSON.parse(expectExit(await broker.cli(['plan', '-f', file, '--json']), 0).stdout) as PlanJson;
    assert.deepEqual(plan.actions, []);
    assert.deepEqual(plan.drift, [], 'the topic history stream is not drift');
    assert.equal(plan.unchanged, 14);

    const queues = JSON.parse(expectExit(await broker.cli(['queues', 'list', '--json']), 0).stdout) as { name: string; durable: boolean }[];
    assert.deepEqual(
      queues.filter((queue) => queue.name !== 'audit.events').map((queue) => [queue.name, queue.durable]).sort(),
      [
        ['billing.orders.created', true],
        ['jobs.pdf', true],
        ['shipping.audit.events', true],
        ['shipping.orders.created', true],
      ],
    );
  });

  it('plan shows a queue created behind its back as drift, and apply leaves it alone', async () => {
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.amqpPort}`);
    try {
      const channel = await connection.createChannel();
      await channel.assertQueue('scratch', { durable: true });
      await channel.bindQueue('scratch', 'amq.topic', 'orders.#');
      await channel.close();
    } finally {
      await connection.close();
    }
    // A service declared over the REST API, not in the file.
    const put = await fetch(`${broker.url}/api/services/mailer`, {
      method: 'PUT',
      headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ consumes: ['orders.created'] }),
    });
    assert.equal(put.status, 201);
    const plan = expectExit(await broker.cli(['plan', '-f', file]), 0);
    assert.match(plan.stdout, /On the broker but not in the file \(left alone\):\n/);
    assert.match(plan.stdout, /\n {2}\? queue {4}scratch \(with 1 binding\)\n/);
    assert.match(plan.stdout, /\n {2}\? service {2}mailer\n/);
    assert.match(plan.stdout, /^Plan: 0 to create, 0 to update, 0 conflicts, 2 not in the file, 14 unchanged\.$/m);
    expectExit(await broker.cli(['apply', '-f', file]), 0);
    const queues = JSON.parse(expectExit(await broker.cli(['queues', 'list', '--json']), 0).stdout) as { name: string }[];
    assert.ok(queues.some((queue) => queue.name === 'scratch'), 'apply deleted nothing');
    assert.equal(expectExit(await broker.cli(['services', 'delete', 'mailer']), 0).stdout, 'Deleted service mailer.\n');
    const missing = expectExit(await broker.cli(['services', 'delete', 'mailer']), 1);
    assert.match(missing.stderr, /no service named 'mailer' \(HTTP 404 Not Found, SERVICE_NOT_FOUND\)/);
  });

  it('a queue with other arguments is a conflict: plan says so, apply changes nothing and exits 1', async () => {
    const conflicting = join(harness.directory, 'conflict.yaml');
    await writeFile(
      conflicting,
      topology
        .replace('x-max-length: 100', 'x-max-length: 500')
        .replace('displayName: Order created', 'displayName: Orders created')
        .replace('description: The web shop.', 'description: The shop.'),
    );
    const plan = expectExit(await broker.cli(['plan', '-f', conflicting]), 1);
    assert.match(plan.stdout, /! queue {4}jobs\.pdf: arguments\.x-max-length 100 -> 500/);
    assert.match(plan.stdout, /~ topic {4}orders\.created: displayName "Order created" -> "Orders created"/);
    assert.match(plan.stdout, /~ service {2}checkout: description "The web shop\." -> "The shop\."/);

    const apply = expectExit(await broker.cli(['apply', '-f', conflicting]), 1);
    assert.match(apply.stderr, /^courier: 1 conflict with the broker; nothing was changed$/m);
    const topic = JSON.parse(expectExit(await broker.cli(['topics', 'list', '--json']), 0).stdout) as { name: string; displayName: string }[];
    assert.equal(topic.find((entry) => entry.name === 'orders.created')?.displayName, 'Order created', 'the update was not applied either');
  });

  it('an invalid file is refused with file:line:column errors (exit 2) before the broker is asked', async () => {
    const bad = join(harness.directory, 'bad.yaml');
    await writeFile(bad, 'topics:\n  - name: orders.created\n    descripton: typo\nservices:\n  - { name: billing, consumes: [orders.creatd] }\n');
    const result = expectExit(await harness.run(['plan', '-f', 'bad.yaml', '--url', `http://127.0.0.1:${await freePort()}`]), 2);
    assert.equal(
      result.stderr,
      [
        'courier: bad.yaml has 2 errors:',
        '  bad.yaml:3:5: topics[0] (orders.created): unknown key "descripton" (did you mean "description"?)',
        '  bad.yaml:5:33: service "billing" consumes topic "orders.creatd", which is not declared under topics (did you mean "orders.created"?)',
        '',
      ].join('\n'),
    );
    const missing = expectExit(await broker.cli(['apply', '-f', 'nowhere.yaml']), 2);
    assert.equal(missing.stderr, 'courier: cannot read topology file nowhere.yaml: no such file\n');
  });

  it('a broker that is not running is one clear line and exit 1', async () => {
    const port = await freePort();
    const result = expectExit(await harness.run(['plan', '-f', file], { COURIER_URL: `http://127.0.0.1:${port}` }), 1);
    assert.equal(result.stderr, `courier: cannot reach Courier at http://127.0.0.1:${port} (connection refused); is it running? (set --url or COURIER_URL)\n`);
  });
});
