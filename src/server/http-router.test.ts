import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { describe, it } from 'node:test';
import { BrokerError } from '../core/errors.js';
import { silentLogger } from '../core/null-ports.js';
import { HttpListener } from '../transport/http-listener.js';
import { healthRoutes, type ServerState } from './health-routes.js';
import { HttpRouter, type HttpRoute } from './http-router.js';
import { sendJson } from '../transport/http/problem.js';

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

function send(port: number, method: string, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function withRouter(routes: HttpRoute[], run: (port: number) => Promise<void>): Promise<void> {
  const router = new HttpRouter(routes, silentLogger);
  const listener = await HttpListener.open({ host: '127.0.0.1', port: 0, handler: router.handle });
  try {
    await run(listener.address.port);
  } finally {
    await listener.close();
  }
}

describe('HttpRouter', () => {
  it('answers /healthz always and /readyz by the server state', async () => {
    let state: ServerState = 'starting';
    await withRouter(healthRoutes(() => state), async (port) => {
      const health = await send(port, 'GET', '/healthz');
      assert.equal(health.status, 200);
      assert.deepEqual(JSON.parse(health.body), { status: 'ok' });
      assert.match(String(health.headers['content-type']), /^application\/json/);

      assert.equal((await send(port, 'GET', '/readyz')).status, 503);
      state = 'ready';
      const ready = await send(port, 'GET', '/readyz');
      assert.equal(ready.status, 200);
      assert.deepEqual(JSON.parse(ready.body), { status: 'ready' });
      state = 'stopping';
      const stopping = await send(port, 'GET', '/readyz');
      assert.equal(stopping.status, 503);
      assert.deepEqual(JSON.parse(stopping.body), { status: 'stopping' });
    });
  });

  it('unknown paths get a 404 problem, wrong methods a 405 with Allow, HEAD follows GET', async () => {
    await withRouter(healthRoutes(() => 'ready'), async (port) => {
      const missing = await send(port, 'GET', '/nope?x=1');
      assert.equal(missing.status, 404);
      assert.match(String(missing.headers['content-type']), /^application\/problem\+json/);
      assert.deepEqual(JSON.parse(missing.body), {
        type: 'about:blank',
        title: 'Not Found',
        status: 404,
        detail: 'no resource at /nope',
        instance: '/nope',
      });

      const wrongMethod = await send(port, 'POST', '/healthz');
      assert.equal(wrongMethod.status, 405);
      assert.equal(wrongMethod.headers.allow, 'GET, HEAD');

      const head = await send(port, 'HEAD', '/healthz');
      assert.equal(head.status, 200);
      assert.equal(head.body, '');
    });
  });

  it('captures :params, decoded', async () => {
    const routes: HttpRoute[] = [
      { method: 'GET', path: '/api/queues/:name', handle: ({ response, params }) => sendJson(response, 200, params) },
    ];
    await withRouter(routes, async (port) => {
      const reply = await send(port, 'GET', '/api/queues/orders%2Fpaid');
      assert.deepEqual(JSON.parse(reply.body), { name: 'orders/paid' });
      assert.equal((await send(port, 'GET', '/api/queues/a/b')).status, 404);
    });
  });

  it('a failing handler becomes a 500 problem carrying the error code', async () => {
    const routes: HttpRoute[] = [
      {
        method: 'GET',
        path: '/boom',
        handle: () => Promise.reject(new BrokerError('STORAGE_IO', 'disk gone')),
      },
      {
        method: 'GET',
        path: '/throw',
        handle: () => {
          throw new BrokerError('INTERNAL', 'bug');
        },
      },
    ];
    await withRouter(routes, async (port) => {
      for (const path of ['/boom', '/throw']) {
        const reply = await send(port, 'GET', path);
        assert.equal(reply.status, 500);
        const body = JSON.parse(reply.body) as { code: string; detail: string };
        assert.equal(body.code, path === '/boom' ? 'STORAGE_IO' : 'INTERNAL');
        assert.doesNotMatch(body.detail, /disk gone|bug/);
      }
    });
  });

  it('closing the listener ends keep-alive connections instead of waiting for them', async () => {
    const router = new HttpRouter(healthRoutes(() => 'ready'), silentLogger);
    const listener = await HttpListener.open({ host: '127.0.0.1', port: 0, handler: router.handle });
    const response = await fetch(`http://127.0.0.1:${listener.address.port}/healthz`, { keepalive: true });
    assert.equal(response.status, 200);
    await response.text();
    await listener.close();
    await assert.rejects(send(listener.address.port, 'GET', '/healthz'), { code: 'ECONNREFUSED' });
  });
});
