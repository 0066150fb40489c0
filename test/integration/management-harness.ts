/** A server started in-process with HTTP (and optionally every protocol listener) for management API tests. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connection } from '../../src/core/connection.js';
import type { Clock } from '../../src/core/ports.js';
import { startServer, type ServerHandle } from '../../src/server/server.js';
import { testServerConfig } from '../support/server-config.js';
import { GUEST_AUTH, guest } from './http-harness.js';

export { eventually, GUEST_AUTH } from './http-harness.js';

export interface ManagementFixture {
  readonly server: ServerHandle;
  readonly base: string;
  /** A core connection for setting up state the API should show. */
  readonly core: Connection;
  port(listener: 'amqp' | 'mqtt' | 'stomp'): number;
  api(path: string, init?: RequestInit): Promise<Response>;
  /** `api` with a JSON body and the method given. */
  send(method: string, path: string, body?: unknown): Promise<Response>;
  /** GET and parse JSON, asserting 200. */
  get<T = unknown>(path: string): Promise<T>;
  close(): Promise<void>;
}

export interface ManagementFixtureOptions {
  /** Start the AMQP, MQTT and STOMP listeners too (port 0). */
  readonly protocols?: boolean;
  readonly clock?: Clock;
}

export async function startManagementFixture(options: ManagementFixtureOptions = {}): Promise<ManagementFixture> {
  const dataDir = await mkdtemp(join(tmpdir(), 'courier-mgmt-'));
  const listeners = options.protocols ? { amqpPort: 0, mqttPort: 0, stompPort: 0 } : {};
  const config = testServerConfig(dataDir, { httpPort: 0, ...listeners });
  const server = await startServer(config, {
    version: '9.9.9-test',
    ...(options.protocols ? {} : { protocolAdapters: [] }),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const base = `http://127.0.0.1:${server.addresses.http?.port ?? 0}`;
  const core = server.broker.connect(guest, { protocol: 'test', remoteAddress: '127.0.0.1' });
  const api = (path: string, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', GUEST_AUTH);
    return fetch(`${base}${path}`, { ...init, headers });
  };
  return {
    server,
    base,
    core,
    port(listener) {
      const address = server.addresses[listener];
      assert.ok(address, `the ${listener} listener is up`);
      return address.port;
    },
    api,
    send(method, path, body) {
      return api(path, body === undefined ? { method } : { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    },
    async get<T>(path: string): Promise<T> {
      const response = await api(path);
      assert.equal(response.status, 200, `GET ${path}: ${response.status} ${await response.clone().text()}`);
      return (await response.json()) as T;
    },
    async close() {
      await core.close();
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Asserts a problem+json answer with this status (and code, when given); returns the problem. */
export async function expectProblem(response: Response, status: number, code?: string): Promise<Record<string, unknown>> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  assert.match(response.headers.get('content-type') ?? '', /application\/problem\+json/);
  const problem = JSON.parse(text) as Record<string, unknown>;
  if (code !== undefined) assert.equal(problem['code'], code, text);
  assert.equal(typeof problem['detail'], 'string');
  return problem;
}
