/** A server started in-process with only the HTTP listener, and fetch helpers for its /api. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connection } from '../../src/core/connection.js';
import type { Principal } from '../../src/core/ports.js';
import { startServer, type ServerHandle } from '../../src/server/server.js';
import { testServerConfig } from '../support/server-config.js';

export const guest: Principal = { username: 'guest', tags: ['administrator'] };
export const GUEST_AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

export interface HttpFixture {
  readonly server: ServerHandle;
  readonly base: string;
  /** A core connection for setting up queues and consuming what HTTP published. */
  readonly core: Connection;
  api(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function startHttpFixture(): Promise<HttpFixture> {
  const dataDir = await mkdtemp(join(tmpdir(), 'courier-http-'));
  const config = testServerConfig(dataDir, { httpPort: 0 });
  const server = await startServer(config, { protocolAdapters: [] });
  const port = server.addresses.http?.port ?? 0;
  const base = `http://127.0.0.1:${port}`;
  const core = server.broker.connect(guest, { protocol: 'test', remoteAddress: '127.0.0.1' });
  return {
    server,
    base,
    core,
    api(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has('authorization')) headers.set('authorization', GUEST_AUTH);
      return fetch(`${base}${path}`, { ...init, headers });
    },
    async close() {
      await core.close();
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Resolves with `produce()` once it is defined, polling until `timeoutMs` (then rejects). */
export async function eventually<T>(produce: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = produce();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setImmediate(resolve));
  }
}
