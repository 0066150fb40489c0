import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ManagementClient } from './management-client.js';

describe('management client', () => {
  let server: Server;
  let url = '';
  const seen: { method: string; url: string; authorization: string; body: string }[] = [];

  before(async () => {
    server = createServer((request: IncomingMessage, response: ServerResponse) => {
      let body = '';
      request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        seen.push({ method: request.method ?? '', url: request.url ?? '', authorization: request.headers.authorization ?? '', body });
        if (request.url === '/api/queues/missing') {
          response.writeHead(404, { 'content-type': 'application/problem+json' });
          response.end(JSON.stringify({ status: 404, detail: "no queue 'missing' in vhost '/'", code: 'QUEUE_NOT_FOUND' }));
        } else if (request.url === '/api/nothing') {
          response.writeHead(404).end();
        } else {
          response.writeHead(201, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ ok: true }));
        }
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    assert.ok(address && typeof address === 'object');
    url = `http://127.0.0.1:${address.port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends JSON with Basic credentials and parses the answer', async () => {
    const client = new ManagementClient({ url, user: 'ann', password: 's3cret' });
    const response = await client.request('PUT', '/api/queues/jobs', { body: { durable: true } });
    assert.deepEqual(response, { status: 201, body: { ok: true } });
    const last = seen.at(-1);
    assert.equal(last?.authorization, `Basic ${Buffer.from('ann:s3cret').toString('base64')}`);
    assert.equal(last?.body, '{"durable":true}');
  });

  it('a problem+json answer keeps its Courier code and detail', async () => {
    const client = new ManagementClient({ url, user: 'guest', password: 'guest' });
    await assert.rejects(client.get('/api/queues/missing'), {
      code: 'QUEUE_NOT_FOUND',
      message: "no queue 'missing' in vhost '/' (HTTP 404 Not Found, QUEUE_NOT_FOUND)",
    });
    await assert.rejects(client.get('/api/nothing'), { message: 'GET /api/nothing: 404 Not Found; does this broker serve the management API?' });
  });

  it('an unreachable broker and a bad URL are clear errors', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const address = closed.address();
    assert.ok(address && typeof address === 'object');
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const client = new ManagementClient({ url: `http://127.0.0.1:${address.port}`, user: 'guest', password: 'guest' });
    await assert.rejects(client.get('/api/queues'), {
      code: 'BROKER_CLOSED',
      message: `cannot reach Courier at http://127.0.0.1:${address.port} (connection refused); is it running? (set --url or COURIER_URL)`,
    });
    assert.throws(() => new ManagementClient({ url: 'localhost:8080', user: 'g', password: 'g' }), { code: 'CONFIG_INVALID' });
    assert.throws(() => new ManagementClient({ url: 'not a url', user: 'g', password: 'g' }), { code: 'CONFIG_INVALID' });
  });
});
