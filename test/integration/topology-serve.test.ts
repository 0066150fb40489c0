/**
 * `courier serve --topology courier.yaml`: the file is applied in-process before clients are accepted; an
 * AMQP or MQTT publish to a topic then reaches the queue of every service that consumes it.
 */
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CliHarness, expectExit, freePort } from './cli-harness.js';
import { connectClient } from './mqtt-harness.js';

const topology = [
  'topics:',
  '  - { name: orders.created, displayName: Order created }',
  '  - { name: orders.shipped }',
  'services:',
  '  - { name: checkout, produces: [orders.created] }',
  '  - { name: billing, consumes: [orders.created] }',
  '  - { name: shipping, consumes: [orders.created], produces: [orders.shipped] }',
  '',
].join('\n');

function logLines(lines: readonly string[]): Record<string, unknown>[] {
  return lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function getText(channel: amqp.Channel, queue: string): Promise<string | undefined> {
  const message = await channel.get(queue, { noAck: true });
  return message === false ? undefined : message.content.toString('utf8');
}

describe('courier serve --topology', () => {
  const harness = new CliHarness();
  let file = '';

  before(async () => {
    await harness.setUp();
    file = join(harness.directory, 'courier.yaml');
    await writeFile(file, topology);
  });
  after(() => harness.tearDown());

  it('creates the service queues at start; AMQP and MQTT publishes to a topic reach every consuming service', async () => {
    const broker = await harness.startBroker({ topology: file, amqp: true, mqtt: true });
    try {
      const logs = logLines(broker.child.lines);
      const applied = logs.find((line) => line.msg === 'topology applied');
      assert.ok(applied, 'the topology is logged as applied');
      assert.equal(applied.applied, 9, 'six entities and three service records');
      const appliedAt = logs.indexOf(applied);
      assert.ok(appliedAt < logs.findIndex((line) => line.msg === 'courier started'), 'applied before the listeners started');

      const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.amqpPort}`);
      try {
        const channel = await connection.createConfirmChannel();
        // Passive checks: both service queues exist, durable, without any client having declared them.
        assert.equal((await channel.checkQueue('billing.orders.created')).messageCount, 0);
        assert.equal((await channel.checkQueue('shipping.orders.created')).messageCount, 0);

        channel.publish('amq.topic', 'orders.created', Buffer.from('from amqp'), { persistent: true });
        await channel.waitForConfirms();
        const mqtt = await connectClient(broker.mqttPort);
        try {
          await mqtt.publishAsync('orders/created', 'from mqtt', { qos: 1 });
        } finally {
          await mqtt.endAsync();
        }
        for (const queue of ['billing.orders.created', 'shipping.orders.created']) {
          assert.equal(await getText(channel, queue), 'from amqp', queue);
          assert.equal(await getText(channel, queue), 'from mqtt', queue);
          assert.equal(await getText(channel, queue), undefined, queue);
        }
        await channel.close();
      } finally {
        await connection.close();
      }

      const topics = JSON.parse(expectExit(await broker.cli(['topics', 'list', '--json']), 0).stdout) as { name: string; displayName: string }[];
      assert.deepEqual(
        topics.map((topic) => [topic.name, topic.displayName]),
        [
          ['orders.created', 'Order created'],
          ['orders.shipped', 'orders.shipped'],
        ],
      );
      const services = JSON.parse(expectExit(await broker.cli(['services', 'list', '--json']), 0).stdout) as { name: string; produces: string[]; consumes: string[] }[];
      assert.deepEqual(
        services.map((service) => [service.name, service.produces, service.consumes]),
        [
          ['billing', [], ['orders.created']],
          ['checkout', ['orders.created'], []],
          ['shipping', ['orders.shipped'], ['orders.created']],
        ],
      );
    } finally {
      await broker.stop();
    }
  });

  it('an invalid file stops serve with every error and exit 2, before the data directory is locked', async () => {
    const bad = join(harness.directory, 'bad.yaml');
    await writeFile(bad, 'topics:\n  - name: orders.created\nqueues:\n  - name: jobs\n    durable: maybe\nservices:\n  - { name: billing, consumes: [orders] }\n');
    const dataDir = join(harness.directory, 'never-used');
    const child = harness.startServe(['--data-dir', dataDir, '--http-port', String(await freePort()), '--mqtt-port', '0', '--amqp-port', '0', '--stomp-port', '0', '--kafka-port', '0', '--topology', bad]);
    const exit = await child.waitForExit();
    assert.equal(exit.code, 2, child.stderr);
    assert.equal(
      child.stderr,
      [
        `courier: ${bad} has 2 errors:`,
        `  ${bad}:5:14: queues[0] (jobs).durable must be true or false, got "maybe"`,
        `  ${bad}:7:33: service "billing" consumes topic "orders", which is not declared under topics`,
        '',
      ].join('\n'),
    );
    await assert.rejects(access(join(dataDir, 'courier.lock')), { code: 'ENOENT' });
  });

  it('restarting with the same file changes nothing; a conflicting file stops the start with exit 1', async () => {
    const first = await harness.startBroker({ topology: file });
    const dataDir = first.dataDir;
    await first.stop();

    const again = harness.startServe(['--data-dir', dataDir, '--http-port', String(await freePort()), '--mqtt-port', '0', '--amqp-port', '0', '--stomp-port', '0', '--kafka-port', '0', '--topology', file]);
    await again.waitUntil(() => again.lines.some((line) => line.includes('"msg":"courier started"')), 'the restart');
    const applied = logLines(again.lines).find((line) => line.msg === 'topology applied');
    assert.equal(applied?.applied, 0);
    assert.equal(applied?.unchanged, 9, 'the service records survived the restart too');
    again.kill('SIGTERM');
    assert.equal((await again.waitForExit()).code, 0);

    const conflicting = join(harness.directory, 'conflicting.yaml');
    await writeFile(conflicting, `${topology}queues:\n  - { name: billing.orders.created, arguments: { x-message-ttl: 1000 } }\n`);
    const refused = harness.startServe(['--data-dir', dataDir, '--http-port', String(await freePort()), '--mqtt-port', '0', '--amqp-port', '0', '--stomp-port', '0', '--kafka-port', '0', '--topology', conflicting]);
    const exit = await refused.waitForExit();
    assert.equal(exit.code, 1);
    assert.equal(
      refused.stderr,
      "courier: the topology conflicts with the broker, so nothing was changed:\n  queue 'billing.orders.created': arguments.x-message-ttl is unset on the broker, 1000 in the file\n",
    );
  });
});
