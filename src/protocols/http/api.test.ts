import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Broker } from '../../core/broker.js';
import { ManualClock } from '../../core/clock.js';
import { BrokerError } from '../../core/errors.js';
import type { Authenticator, Principal } from '../../core/ports.js';
import { MemoryLogStore, MemoryMetadataStore } from '../../storage/index.js';
import { createHttpApi, type HttpApi } from './api.js';

const guest: Principal = { username: 'guest', tags: [] };
const AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
const authenticator: Authenticator = {
  authenticate: ({ username, password }) =>
    username === 'guest' && password === 'guest' ? Promise.resolve(guest) : Promise.reject(new BrokerError('AUTHENTICATION_FAILED', 'no')),
};
const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** Serves the API's routes with a minimal matcher (the server's router is not a dependency of protocols). */
function serve(api: HttpApi): Promise<Server> {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const actual = url.pathname.split('/').filter(Boolean);
    for (const route of api.routes) {
      const pattern = route.path.split('/').filter(Boolean);
      if (route.method !== request.method || pattern.length !== actual.length) continue;
      const params: Record<string, string> = {};
      if (!pattern.every((segment, index) => (segment.startsWith(':') ? ((params[segment.slice(1)] = decodeURIComponent(actual[index] ?? '')), true) : segment === actual[index]))) continue;
      void route.handle({ request, response, url, params });
      return;
    }
    response.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('HTTP API with a manual clock', () => {
  const clock = new ManualClock();
  let broker: Broker;
  let api: HttpApi;
  let server: Server;
  let base: string;

  before(async () => {
    broker = await Broker.open({
      logStore: new MemoryLogStore(),
      transientLogStore: new MemoryLogStore(),
      metadataStore: new MemoryMetadataStore(),
      clock,
      fsync: { mode: 'never' },
    });
    api = createHttpApi({ maxBodyBytes: 10, heartbeatMs: 1000 });
    server = await serve(api);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await api.close();
    await new Promise((resolve) => server.close(resolve));
    await broker.close();
  });

  it('answers 503 BROKER_CLOSED before it is attached', async () => {
    const response = await fetch(`${base}/api/queues/q/messages`, { headers: { authorization: AUTH } });
    assert.equal(response.status, 503);
    assert.equal(((await response.json()) as { code: string }).code, 'BROKER_CLOSED');
    api.attach({ broker, logger: silent, authenticator });
  });

  it('refuses a body over the configured limit with 413', async () => {
    const response = await fetch(`${base}/api/topics/t/messages`, { method: 'POST', body: '12345678901', headers: { authorization: AUTH } });
    assert.equal(response.status, 413);
    assert.equal(response.headers.get('connection'), 'close');
  });

  it('returns an unacked message to the queue when its visibility timeout passes', async () => {
    const core = broker.connect(guest, { protocol: 'test', remoteAddress: '127.0.0.1' });
    await core.declareQueue({ name: 'vis', durable: false });
    core.publish({ exchange: '', routingKey: 'vis', headers: {}, properties: {}, body: Buffer.from('v'), persistent: false });
    const pull = async (): Promise<{ redelivered: boolean }[]> =>
      ((await (await fetch(`${base}/api/queues/vis/messages?visibility=5`, { headers: { authorization: AUTH } })).json()) as { messages: { redelivered: boolean }[] }).messages;
    assert.equal((await pull()).length, 1);
    clock.advance(4999);
    assert.equal((await pull()).length, 0, 'still invisible just before the timeout');
    clock.advance(1);
    const again = await pull();
    assert.equal(again.length, 1);
    assert.equal(again[0]?.redelivered, true);
    await core.close();
  });

  it('sends heartbeat comments on event streams, and close() ends them', async () => {
    const response = await fetch(`${base}/api/topics/${encodeURIComponent('#')}/events`, { headers: { authorization: AUTH } });
    assert.equal(response.status, 200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (marker: string): Promise<boolean> => {
      while (!text.includes(marker)) {
        const chunk = (await reader.read()) as { done: boolean; value?: Uint8Array };
        if (chunk.done || !chunk.value) return false;
        text += decoder.decode(chunk.value, { stream: true });
      }
      return true;
    };
    assert.ok(await readUntil(': subscribed\n\n'));
    clock.advance(1000);
    assert.ok(await readUntil(': heartbeat\n\n'));
    await api.close();
    assert.equal(await readUntil('never sent'), false, 'the stream ended');
  });
});

describe('HTTP API authorization', () => {
  it('answers 403 ACCESS_REFUSED when the authorizer refuses the publish', async () => {
    const broker = await Broker.open({
      logStore: new MemoryLogStore(),
      transientLogStore: new MemoryLogStore(),
      metadataStore: new MemoryMetadataStore(),
      authorizer: { authorize: (_principal, permission) => permission !== 'write' },
      fsync: { mode: 'never' },
    });
    const api = createHttpApi();
    api.attach({ broker, logger: silent, authenticator });
    const server = await serve(api);
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/topics/t/messages`, {
        method: 'POST',
        body: 'x',
        headers: { authorization: AUTH },
      });
      assert.equal(response.status, 403);
      assert.equal(((await response.json()) as { code: string }).code, 'ACCESS_REFUSED');
    } finally {
      await api.close();
      await new Promise((resolve) => server.close(resolve));
      await broker.close();
    }
  });
});

describe('HTTP API close', () => {
  it('ends a waiting long poll with 503 and leaves no waiter on the queue', async () => {
    const broker = await Broker.open({
      logStore: new MemoryLogStore(),
      transientLogStore: new MemoryLogStore(),
      metadataStore: new MemoryMetadataStore(),
      fsync: { mode: 'never' },
    });
    const api = createHttpApi();
    api.attach({ broker, logger: silent, authenticator });
    const server = await serve(api);
    try {
      const core = broker.connect(guest, { protocol: 'test', remoteAddress: '127.0.0.1' });
      await core.declareQueue({ name: 'waited', durable: false });
      const queue = broker.getQueue('waited')!;
      const poll = fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/queues/waited/messages?wait=30`, { headers: { authorization: AUTH } });
      const deadline = Date.now() + 5000;
      while (queue.readyWaiterCount === 0) {
        assert.ok(Date.now() < deadline, 'the poll started waiting');
        await new Promise((resolve) => setImmediate(resolve));
      }
      await api.close();
      const response = await poll;
      assert.equal(response.status, 503);
      assert.equal(queue.readyWaiterCount, 0);
      await core.close();
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await broker.close();
    }
  });
});
