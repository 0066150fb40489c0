/**
 * GET /metrics of a server started in-process: queue depth and counters after real publishes, the storage
 * damage counter after a restart over a damaged segment, and which registry the server serves.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Broker } from '../../src/core/broker.js';
import { noopMetrics } from '../../src/core/null-ports.js';
import type { Principal } from '../../src/core/ports.js';
import { MetricsRegistry } from '../../src/observability/metrics-registry.js';
import { logsDirectoryName, startServer, type ServerHandle, type StartServerOptions } from '../../src/server/server.js';
import type { ServerConfig } from '../../src/server/settings.js';
import { Recorder, textMessage } from '../support/broker-harness.js';
import { encodeLogName } from '../../src/storage/file/log-name.js';
import { flipBit, framesOf, logDirectories, segmentFiles } from '../crash/segment-files.js';
import { testServerConfig } from '../support/server-config.js';

const guest: Principal = { username: 'guest', tags: [] };
const connectionInfo = { protocol: 'test', remoteAddress: '127.0.0.1' };

function configFor(dataDir: string, overrides: Partial<ServerConfig> = {}): ServerConfig {
  return testServerConfig(dataDir, { httpPort: 0, ...overrides });
}

async function withServer<T>(config: ServerConfig, body: (server: ServerHandle) => Promise<T>, options: StartServerOptions = {}): Promise<T> {
  const server = await startServer(config, options);
  try {
    return await body(server);
  } finally {
    await server.close();
  }
}

async function scrape(server: ServerHandle): Promise<Response> {
  const http = server.addresses.http;
  assert.ok(http, 'the http listener is up');
  return fetch(`http://127.0.0.1:${http.port}/metrics`);
}

async function scrapeText(server: ServerHandle): Promise<string> {
  const response = await scrape(server);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  return response.text();
}

/** The value of the sample with exactly this name and label text, or undefined when absent. */
function sampleValue(text: string, sample: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

async function publishPersistent(broker: Broker, queue: string, bodies: readonly string[]): Promise<void> {
  const connection = broker.connect(guest, connectionInfo);
  await connection.declareQueue({ name: queue, durable: true });
  let last: Promise<void> = Promise.resolve();
  for (const body of bodies) last = connection.publish(textMessage(body, { routingKey: queue, persistent: true })).durable;
  await last;
  await connection.close();
}

describe('GET /metrics', () => {
  let root = '';
  let cases = 0;
  const freshDir = (): string => join(root, `data-${++cases}`);
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'courier-metrics-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('shows queue depth, unacked messages, consumers, connections and the publish counter', async () => {
    await withServer(configFor(freshDir()), async (server) => {
      const broker = server.broker;
      const before = await scrapeText(server);
      assert.equal(sampleValue(before, 'courier_messages_published_total'), undefined, 'nothing published yet');
      assert.ok(sampleValue(before, 'process_resident_memory_bytes')! > 0);

      const connection = broker.connect(guest, connectionInfo);
      await connection.declareQueue({ name: 'orders', durable: true });
      for (let i = 0; i < 4; i++) await connection.publish(textMessage(`order ${i}`, { routingKey: 'orders', persistent: true })).durable;
      await connection.publish(textMessage('lost', { routingKey: 'no-such-queue' })).durable;

      let text = await scrapeText(server);
      assert.equal(sampleValue(text, 'courier_messages_published_total'), 5);
      assert.equal(sampleValue(text, 'courier_messages_unroutable_total'), 1);
      assert.equal(sampleValue(text, 'courier_queue_messages_ready{queue="orders"}'), 4);
      assert.equal(sampleValue(text, 'courier_queue_messages_unacked{queue="orders"}'), 0);
      assert.equal(sampleValue(text, 'courier_queue_consumers{queue="orders"}'), 0);
      assert.ok(sampleValue(text, 'courier_queue_stored_bytes{queue="orders"}')! > 0);
      assert.equal(sampleValue(text, 'courier_connections{protocol="test"}'), 1);
      assert.equal(sampleValue(text, 'courier_connections_opened_total{protocol="test"}'), 1);

      const channel = connection.openChannel();
      const recorder = new Recorder();
      connection.consume(channel, 'orders', { prefetch: 1 }, recorder.callbacks);
      await recorder.waitFor(1);
      text = await scrapeText(server);
      assert.equal(sampleValue(text, 'courier_queue_messages_ready{queue="orders"}'), 3);
      assert.equal(sampleValue(text, 'courier_queue_messages_unacked{queue="orders"}'), 1);
      assert.equal(sampleValue(text, 'courier_queue_consumers{queue="orders"}'), 1);
      assert.equal(sampleValue(text, 'courier_messages_delivered_total{queue="orders"}'), 1);

      await connection.close();
      text = await scrapeText(server);
      assert.equal(sampleValue(text, 'courier_connections{protocol="test"}'), undefined, 'the connection is gone');
      assert.equal(sampleValue(text, 'courier_queue_messages_ready{queue="orders"}'), 4, 'the unacked message is back');
    });
  });

  it('counts storage damage that recovery found at start', async () => {
    const dataDir = join(root, 'damaged');
    // Small segments: 40 records of ~330 bytes span several, so one in the middle can be damaged.
    const config = configFor(dataDir, { segmentBytes: 4096 });
    const bodies = Array.from({ length: 40 }, (_, i) => `m${i}:${'x'.repeat(300)}`);
    await withServer(config, async (server) => {
      await publishPersistent(server.broker, 'orders', bodies);
      const text = await scrapeText(server);
      assert.doesNotMatch(text, /courier_storage_corruptions_total/, 'an intact log reports no damage');
    });

    // The queue's own log, found by its name (the broker keeps logs of its own beside it).
    const logDirectory = join(dataDir, logsDirectoryName, encodeLogName('orders').directory);
    assert.ok((await logDirectories(join(dataDir, logsDirectoryName))).includes(logDirectory), 'the queue has a log');
    const segments = await segmentFiles(logDirectory);
    assert.ok(segments.length >= 3, `the log spans ${segments.length} segments`);
    const victim = segments[1]!;
    const frames = await framesOf(victim);
    const frame = frames[Math.floor(frames.length / 2)]!;
    await flipBit(victim, frame.payloadStart + 10);

    await withServer(config, async (server) => {
      const text = await scrapeText(server);
      assert.equal(sampleValue(text, 'courier_storage_corruptions_total{action="quarantined"}'), 1);
      assert.equal(sampleValue(text, 'courier_queue_messages_ready{queue="orders"}'), bodies.length - 1);
    });
  });

  it('serves a registry passed in options and leaves it open; serves nothing for another Metrics', async () => {
    const registry = new MetricsRegistry({ processMetrics: false });
    try {
      await withServer(
        configFor(freshDir()),
        async (server) => {
          await publishPersistent(server.broker, 'jobs', ['one', 'two']);
          const text = await scrapeText(server);
          assert.equal(sampleValue(text, 'courier_queue_messages_ready{queue="jobs"}'), 2);
          assert.equal(sampleValue(text, 'process_resident_memory_bytes'), undefined, "the caller's registry, not a new one");
        },
        { metrics: registry },
      );
      assert.equal(sampleValue(registry.render(), 'courier_messages_published_total'), 2, 'still readable after the server stopped');
      assert.equal(sampleValue(registry.render(), 'courier_queue_messages_ready{queue="jobs"}'), undefined, 'the broker is detached');
    } finally {
      registry.close();
    }

    await withServer(
      configFor(freshDir()),
      async (server) => {
        assert.equal((await scrape(server)).status, 404);
      },
      { metrics: noopMetrics },
    );
  });
});
