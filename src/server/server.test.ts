import assert from 'node:assert/strict';
import { once } from 'node:events';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BrokerError } from '../core/errors.js';
import { LOCK_FILE } from '../storage/index.js';
import type { ProtocolAdapter, ProtocolAdapterFactory } from './listeners.js';
import { startServer, type ServerHandle } from './server.js';
import type { ServerConfig } from './settings.js';
import { testServerConfig } from '../../test/support/server-config.js';

/** The shared test configuration (test/support), with the HTTP listener on: these tests probe it. */
function configFor(dataDir: string, overrides: Partial<ServerConfig> = {}): ServerConfig {
  return testServerConfig(dataDir, { httpPort: 0, ...overrides });
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** An adapter that records what the server does with it. */
function recordingAdapter(): { factory: ProtocolAdapterFactory; events: string[]; accepted: Promise<Socket> } {
  const events: string[] = [];
  let onAccept: (socket: Socket) => void = () => {};
  const accepted = new Promise<Socket>((resolve) => (onAccept = resolve));
  const adapter: ProtocolAdapter = {
    accept(socket) {
      events.push('accept');
      onAccept(socket);
    },
    close() {
      events.push('close');
      return Promise.resolve();
    },
  };
  return { factory: { protocol: 'mqtt', create: () => adapter }, events, accepted };
}

async function occupiedPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return { server, port: address.port };
}

describe('startServer', async () => {
  const root = await mkdtemp(join(tmpdir(), 'courier-server-'));
  after(() => rm(root, { recursive: true, force: true }));
  let counter = 0;
  const freshDir = (): string => join(root, `data-${++counter}`);

  it('serves health checks, holds the lock while running and releases it on close', async () => {
    const dataDir = freshDir();
    const server = await startServer(configFor(dataDir));
    let closed = false;
    try {
      assert.equal(server.state, 'ready');
      const http = server.addresses.http;
      assert.ok(http && http.port > 0);
      assert.ok(await exists(join(dataDir, LOCK_FILE)));
      assert.ok(await exists(join(dataDir, 'logs')));
      const health = await fetch(`http://127.0.0.1:${http.port}/healthz`);
      assert.deepEqual(await health.json(), { status: 'ok' });
      const ready = await fetch(`http://127.0.0.1:${http.port}/readyz`);
      assert.equal(ready.status, 200);
      await server.close();
      closed = true;
      assert.equal(server.state, 'stopping');
      assert.equal(await exists(join(dataDir, LOCK_FILE)), false);
      await assert.rejects(connectTo(http.port), { code: 'ECONNREFUSED' });
      await server.close();
    } finally {
      if (!closed) await server.close();
    }
  });

  it('starts only listeners that are enabled and built', async () => {
    const server = await startServer(configFor(freshDir(), { httpPort: null, mqttPort: 0, amqpPort: 0 }), {
      protocolAdapters: [],
    });
    try {
      assert.deepEqual(server.addresses, {});
    } finally {
      await server.close();
    }
  });

  it('hands connections to the adapter and closes the adapter before the listener', async () => {
    const recording = recordingAdapter();
    const server = await startServer(configFor(freshDir(), { mqttPort: 0 }), { protocolAdapters: [recording.factory] });
    let closed = false;
    try {
      const mqtt = server.addresses.mqtt;
      assert.ok(mqtt && mqtt.port > 0);
      const client = await connectTo(mqtt.port);
      await recording.accepted;
      const clientClosed = once(client, 'close');
      await server.close();
      closed = true;
      await clientClosed;
      assert.deepEqual(recording.events, ['accept', 'close']);
      await assert.rejects(connectTo(mqtt.port), { code: 'ECONNREFUSED' });
    } finally {
      if (!closed) await server.close();
    }
  });

  it('a port in use fails the start, undoes what was started, and names the flag', async () => {
    const dataDir = freshDir();
    const blocker = await occupiedPort();
    try {
      const recording = recordingAdapter();
      await assert.rejects(
        startServer(configFor(dataDir, { mqttPort: blocker.port }), { protocolAdapters: [recording.factory] }),
        (error: unknown) => {
          assert.ok(error instanceof BrokerError);
          assert.equal(error.code, 'PORT_IN_USE');
          assert.equal(error.message, `port ${blocker.port} on 127.0.0.1 is already in use (--mqtt-port)`);
          return true;
        },
      );
      assert.deepEqual(recording.events, ['close']);
      assert.equal(await exists(join(dataDir, LOCK_FILE)), false);
      const again = await startServer(configFor(dataDir));
      await again.close();
    } finally {
      blocker.server.close();
    }
  });

  it('refuses a data directory that is a file', async () => {
    const file = join(root, 'not-a-dir');
    await writeFile(file, 'x');
    await assert.rejects(startServer(configFor(file)), { code: 'DATA_DIR_UNUSABLE' });
  });

  it('refuses damaged metadata rather than starting empty, and releases the lock', async () => {
    const dataDir = freshDir();
    const first: ServerHandle = await startServer(configFor(dataDir));
    await first.close();
    await writeFile(join(dataDir, 'metadata.json'), '{ this is not json');
    await assert.rejects(startServer(configFor(dataDir)), { code: 'METADATA_CORRUPT' });
    assert.equal(await exists(join(dataDir, LOCK_FILE)), false);
  });
});
