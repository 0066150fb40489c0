/**
 * The management commands (`courier topics|queues|exchanges|connections`, `publish`, `consume`) as users
 * run them, against a real broker over its REST API.
 */
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { CliHarness, expectExit, type RunningBroker } from './cli-harness.js';

describe('courier management commands (CLI against a running broker)', () => {
  const harness = new CliHarness();
  let broker: RunningBroker;

  before(async () => {
    await harness.setUp();
    broker = await harness.startBroker({ amqp: true });
  });
  after(async () => {
    await broker.stop();
    await harness.tearDown();
  });

  it('topics: create with display name, description and retention; list as a table and as JSON; delete', async () => {
    const created = expectExit(
      await broker.cli(['topics', 'create', 'orders.created', '--display-name', 'Order created', '--description', 'A customer placed an order.']),
      0,
    );
    assert.equal(created.stdout, 'Created topic orders.created.\n');
    expectExit(await broker.cli(['topics', 'create', 'audit.events', '--max-age', '7d', '--max-bytes', '1GiB']), 0);

    const table = expectExit(await broker.cli(['topics', 'list']), 0).stdout;
    assert.equal(
      table,
      [
        'NAME            DISPLAY NAME   RETENTION                 DESCRIPTION',
        'audit.events    audit.events   maxAge 7d, maxBytes 1GiB',
        'orders.created  Order created                            A customer placed an order.',
        '',
      ].join('\n'),
    );
    const json = JSON.parse(expectExit(await broker.cli(['topics', 'list', '--json']), 0).stdout) as Record<string, unknown>[];
    assert.deepEqual(json.find((topic) => topic['name'] === 'audit.events')?.['retention'], { maxAgeMs: 7 * 86_400_000, maxBytes: 1024 ** 3 });

    const again = expectExit(await broker.cli(['topics', 'create', 'orders.created', '--description', 'other words']), 1);
    assert.match(again.stderr, /^courier: .*\(HTTP 409 Conflict, TOPIC_EXISTS\)\n$/);
    assert.equal(expectExit(await broker.cli(['topics', 'update', 'orders.created', '--description', 'Placed.']), 0).stdout, 'Updated topic orders.created.\n');
    expectExit(await broker.cli(['topics', 'delete', 'audit.events']), 0);
    const after = JSON.parse(expectExit(await broker.cli(['topics', 'list', '--json']), 0).stdout) as { name: string; description: string }[];
    assert.deepEqual(after.map((topic) => [topic.name, topic.description]), [['orders.created', 'Placed.']]);
  });

  it('queues and exchanges: create is a declare (again is fine, other settings are a 409), list, delete', async () => {
    assert.equal(expectExit(await broker.cli(['exchanges', 'create', 'billing', '--type', 'direct']), 0).stdout, 'Created exchange billing.\n');
    assert.equal(
      expectExit(await broker.cli(['queues', 'create', 'invoices', '--arg', 'x-message-ttl=60000']), 0).stdout,
      'Created queue invoices.\n',
    );
    assert.equal(
      expectExit(await broker.cli(['queues', 'create', 'invoices', '--arg', 'x-message-ttl=60000']), 0).stdout,
      'Queue invoices exists already with these settings.\n',
    );
    const conflict = expectExit(await broker.cli(['queues', 'create', 'invoices']), 1);
    assert.match(conflict.stderr, /^courier: inequivalent arg 'x-message-ttl' .*\(HTTP 409 Conflict, PRECONDITION_FAILED\)\n$/);

    const queues = expectExit(await broker.cli(['queues', 'list']), 0).stdout;
    assert.match(queues, /^NAME +TYPE {5}DURABLE {2}READY {2}UNACKED {2}CONSUMERS$/m);
    assert.match(queues, /^invoices +classic {2}true {5}0 {6}0 {8}0$/m);
    const exchanges = expectExit(await broker.cli(['exchanges', 'list']), 0).stdout;
    assert.match(exchanges, /^billing +direct +true +false +false$/m);
    assert.match(exchanges, /^\(default\) +direct/m);

    expectExit(await broker.cli(['queues', 'delete', 'invoices']), 0);
    expectExit(await broker.cli(['exchanges', 'delete', 'billing', '--if-unused']), 0);
    const missing = expectExit(await broker.cli(['queues', 'delete', 'invoices', '--if-empty']), 1);
    assert.equal(missing.stderr, "courier: no queue 'invoices' in vhost '/' (HTTP 404 Not Found, QUEUE_NOT_FOUND)\n");
  });

  it('publish to a topic and to an exchange, then consume (acknowledged) and consume --requeue (put back)', async () => {
    expectExit(await broker.cli(['queues', 'create', 'inbox']), 0);
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.amqpPort}`);
    try {
      const channel = await connection.createChannel();
      await channel.bindQueue('inbox', 'amq.topic', 'greetings.#');
      await channel.close();
    } finally {
      await connection.close();
    }
    const published = expectExit(await broker.cli(['publish', 'greetings.en', 'hello world', '--header', 'tenant=acme']), 0);
    assert.equal(published.stdout, 'Published to topic greetings.en: stored in 1 queue.\n');
    expectExit(await broker.cli(['publish', '--exchange', 'amq.direct', '--routing-key', 'nobody', 'lost']), 0);
    const direct = expectExit(await broker.cli(['publish', '--exchange', '', '--routing-key', 'inbox', 'to the queue']), 0);
    assert.equal(direct.stdout, 'Published to the default exchange: stored in 1 queue.\n');
    const dropped = expectExit(await broker.cli(['publish', 'nobody.listens', 'x']), 0);
    assert.equal(dropped.stderr, 'courier: warning: no queue is bound to take this message; it was dropped\n');

    const peek = expectExit(await broker.cli(['consume', 'inbox', '--requeue', '--json']), 0);
    const [message] = JSON.parse(peek.stdout) as { routingKey: string; body: string; headers: Record<string, unknown> }[];
    assert.equal(message?.routingKey, 'greetings.en');
    assert.equal(Buffer.from(message?.body ?? '', 'base64').toString('utf8'), 'hello world');
    assert.deepEqual(message?.headers, { tenant: 'acme' });

    const taken = expectExit(await broker.cli(['consume', 'inbox', '--max', '10']), 0);
    assert.match(
      taken.stdout,
      /^EXCHANGE +ROUTING KEY +REDELIVERED +HEADERS +BODY\namq\.topic +greetings\.en +yes +\{"tenant":"acme"\} +hello world\n\(default\) +inbox +no +to the queue\n$/,
    );
    assert.equal(expectExit(await broker.cli(['consume', 'inbox', '--wait', '0']), 0).stdout, '(no messages)\n');
  });

  it('connections: list shows an AMQP client; delete closes it', async () => {
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.amqpPort}`);
    const closed = once(connection, 'close');
    connection.on('error', () => undefined);
    const list = JSON.parse(expectExit(await broker.cli(['connections', 'list', '--json']), 0).stdout) as { id: number; protocol: string }[];
    const amqpConnection = list.find((entry) => entry.protocol === 'amqp');
    assert.ok(amqpConnection, JSON.stringify(list));
    const table = expectExit(await broker.cli(['connections', 'list']), 0).stdout;
    assert.match(table, /^ID +PROTOCOL +USER +CLIENT ID +PEER +CONNECTED AT +CHANNELS$/m);
    assert.equal(expectExit(await broker.cli(['connections', 'delete', String(amqpConnection.id)]), 0).stdout, `Closed connection ${amqpConnection.id}.\n`);
    await closed;
  });

  it('usage mistakes are exit 2 with one line; --help documents each command', async () => {
    const unknownFlag = expectExit(await broker.cli(['queues', 'list', '--jsn']), 2);
    assert.equal(unknownFlag.stderr, 'courier: unknown flag --jsn (did you mean --json?) (see courier queues list --help)\n');
    const unknownAction = expectExit(await broker.cli(['queues', 'lst']), 2);
    assert.equal(unknownAction.stderr, 'courier: queues: unknown action "lst" (did you mean list?); use one of list, create, delete\n');
    const missing = expectExit(await broker.cli(['topics', 'create']), 2);
    assert.equal(missing.stderr, 'courier: topics create: missing <name> (see courier topics create --help)\n');
    expectExit(await broker.cli(['consume', 'inbox', '--max', '0']), 2);

    const help = expectExit(await harness.run(['--help']), 0).stdout;
    for (const command of ['serve', 'plan', 'apply', 'topics', 'queues', 'exchanges', 'connections', 'publish', 'consume']) {
      assert.match(help, new RegExp(`^ {2}${command} +\\S`, 'm'), command);
    }
    const publishHelp = expectExit(await harness.run(['publish', '--help']), 0).stdout;
    assert.match(publishHelp, /^Usage: courier publish <topic>/);
    assert.match(publishHelp, /--url URL +Broker HTTP address \(env COURIER_URL; default http:\/\/127\.0\.0\.1:8080\)\./);
    assert.match(expectExit(await harness.run(['queues', 'create', '--help']), 0).stdout, /--arg KEY=VALUE/);
  });
});
