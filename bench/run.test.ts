import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

// Compiled to dist/bench/run.test.js; the dispatcher itself is plain JS in bench/.
const dispatcher = fileURLToPath(new URL('../../bench/run.mjs', import.meta.url));

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [dispatcher, ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('an unknown scenario lists the scenarios and exits 2', () => {
  const result = run('no-such-scenario');
  assert.equal(result.status, 2);
  assert.match(result.stderr, /unknown scenario 'no-such-scenario'/);
  assert.match(result.stderr, /^ {2}storage /m);
  assert.match(result.stderr, /^ {2}routing /m);
});

test('no scenario at all is a usage error too', () => {
  assert.equal(run().status, 2);
});

test('an unknown peer is refused before anything runs', () => {
  const result = run('storage', '--against=no-such-broker');
  assert.equal(result.status, 2);
  assert.match(result.stderr, /unknown peer 'no-such-broker'/);
});

test('--list prints the scenarios and succeeds', () => {
  const result = run('--list');
  assert.equal(result.status, 0);
  assert.match(result.stdout, /storage/);
});

test('the MQTT scenarios are listed with the peers they can be run against', () => {
  const result = run('--list');
  assert.equal(result.status, 0);
  for (const name of ['mqtt-qos0', 'mqtt-qos1', 'mqtt-latency', 'mqtt-fanin', 'mqtt-durable', 'mqtt-connections']) assert.match(result.stdout, new RegExp(`^ {2}${name} `, 'm'));
  assert.match(result.stdout, /peers for --against: mosquitto, aedes, rabbitmq, nats/);
});

test('the AMQP scenarios are listed and run against RabbitMQ only', () => {
  const listed = run('--list');
  for (const name of ['amqp-transient', 'amqp-persistent', 'amqp-backlog']) assert.match(listed.stdout, new RegExp(`^ {2}${name} `, 'm'));
  const refused = run('amqp-transient', '--against=mosquitto');
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /scenario 'amqp-transient' cannot be run against 'mosquitto'/);
});

test('a known peer is refused for a scenario that cannot drive it', () => {
  const result = run('storage', '--against=mosquitto');
  assert.equal(result.status, 2);
  assert.match(result.stderr, /scenario 'storage' cannot be run against 'mosquitto'/);
});
