/**
 * The HTTP messaging API over a real socket: authentication, problem details, body limits, publish with
 * durable replies, and pull / ack / nack / visibility timeout.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startHttpFixture, type HttpFixture } from './http-harness.js';

interface Received {
  body: string;
  contentType?: string;
  headers: Record<string, unknown>;
  properties: Record<string, unknown>;
  redelivered: boolean;
  deliveryCount: number;
  receiptHandle: string;
}

let fx: HttpFixture;

before(async () => {
  fx = await startHttpFixture();
});
after(async () => {
  await fx.close();
});

async function problemOf(response: Response): Promise<Record<string, unknown>> {
  assert.equal(response.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  const body = (await response.json()) as Record<string, unknown>;
  assert.equal(body['status'], response.status);
  assert.equal(typeof body['title'], 'string');
  assert.equal(typeof body['detail'], 'string');
  assert.equal(body['type'], 'about:blank');
  return body;
}

async function receive(queue: string, query: string): Promise<Received[]> {
  const response = await fx.api(`/api/queues/${queue}/messages?${query}`);
  assert.equal(response.status, 200);
  return ((await response.json()) as { messages: Received[] }).messages;
}

describe('authentication', () => {
  it('refuses a request without credentials with 401 and a Basic challenge', async () => {
    const response = await fetch(`${fx.base}/api/queues/none/messages`);
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), 'Basic realm="courier", charset="UTF-8"');
    assert.equal((await problemOf(response))['code'], 'AUTHENTICATION_FAILED');
  });

  it('refuses a wrong password with 401', async () => {
    const response = await fx.api('/api/queues/none/messages', { headers: { authorization: `Basic ${Buffer.from('guest:nope').toString('base64')}` } });
    assert.equal(response.status, 401);
    assert.equal((await problemOf(response))['code'], 'AUTHENTICATION_FAILED');
  });
});

describe('errors', () => {
  it('maps a missing queue to 404 QUEUE_NOT_FOUND', async () => {
    const response = await fx.api('/api/queues/missing/messages');
    assert.equal(response.status, 404);
    const problem = await problemOf(response);
    assert.equal(problem['code'], 'QUEUE_NOT_FOUND');
    assert.equal(problem['instance'], '/api/queues/missing/messages');
  });

  it('maps a missing exchange to 404 EXCHANGE_NOT_FOUND', async () => {
    const response = await fx.api('/api/exchanges/nowhere/messages?routingKey=x', { method: 'POST', body: 'x' });
    assert.equal(response.status, 404);
    assert.equal((await problemOf(response))['code'], 'EXCHANGE_NOT_FOUND');
  });

  it('refuses HEAD on API routes with 405, so that a HEAD never pulls a message', async () => {
    await fx.core.declareQueue({ name: 'http-head', durable: true });
    await fx.api('/api/queues/http-head/messages', { method: 'POST', body: 'kept' });
    const response = await fx.api('/api/queues/http-head/messages', { method: 'HEAD' });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'GET');
    const [kept] = await receive('http-head', '');
    assert.equal(kept?.redelivered, false, 'the HEAD pulled nothing');
  });

  it('maps a queue exclusive to another connection to 409 RESOURCE_LOCKED', async () => {
    await fx.core.declareQueue({ name: 'http-exclusive', durable: false, exclusive: true });
    const response = await fx.api('/api/queues/http-exclusive/messages');
    assert.equal(response.status, 409);
    assert.equal((await problemOf(response))['code'], 'RESOURCE_LOCKED');
  });

  it('answers a bad query parameter with 400 INVALID_ARGUMENT', async () => {
    await fx.core.declareQueue({ name: 'http-bad-args', durable: true });
    const response = await fx.api('/api/queues/http-bad-args/messages?max=lots');
    assert.equal(response.status, 400);
    assert.equal((await problemOf(response))['code'], 'INVALID_ARGUMENT');
  });

  it('refuses a body whose Content-Length is over the limit with 413 before reading it', async () => {
    const response = await fx.api('/api/topics/big/messages', { method: 'POST', body: Buffer.alloc(1024 * 1024 + 1) });
    assert.equal(response.status, 413);
    assert.equal((await problemOf(response))['code'], 'INVALID_ARGUMENT');
  });

  it('refuses a chunked body once it grows past the limit with 413', async () => {
    const port = fx.server.addresses.http?.port ?? 0;
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/api/topics/big/messages', headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'transfer-encoding': 'chunked' } });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(64 * 1024);
      // Keeps sending until the server answers: the limit, not the end of the upload, ends the request.
      const pump = (): void => {
        if (req.destroyed || req.writableEnded) return;
        while (req.write(chunk)) {
          /* fill the socket buffer */
        }
        req.once('drain', pump);
      };
      pump();
      req.on('response', () => req.destroy());
    });
    assert.equal(status, 413);
  });
});

describe('publish', () => {
  it('publishes to a topic with body bytes, content type and headers preserved, 201 once durable', async () => {
    await fx.core.declareQueue({ name: 'http-topic-sink', durable: true });
    await fx.core.bind({ source: 'amq.topic', destination: 'http-topic-sink', destinationKind: 'queue', routingKey: 'orders.*' });
    const bytes = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    const response = await fx.api('/api/topics/orders.created/messages', {
      method: 'POST',
      body: bytes,
      headers: {
        'content-type': 'application/x-custom',
        'x-courier-header-tenant': 'acme',
        'x-courier-correlation-id': 'c-1',
        'x-courier-reply-to': 'answers',
        'x-courier-expiration': '60000',
      },
    });
    assert.equal(response.status, 201);
    assert.deepEqual(await response.json(), { routed: 1, durable: true });
    const channel = fx.core.openChannel();
    const delivery = await fx.core.get(channel, 'http-topic-sink', true);
    assert.ok(delivery);
    assert.deepEqual(Buffer.from(delivery.message.body), bytes);
    assert.equal(delivery.message.exchange, 'amq.topic');
    assert.equal(delivery.message.routingKey, 'orders.created');
    assert.equal(delivery.message.properties.contentType, 'application/x-custom');
    assert.equal(delivery.message.properties.correlationId, 'c-1');
    assert.equal(delivery.message.properties.replyTo, 'answers');
    assert.equal(delivery.message.properties.expiration, 60000);
    assert.equal(delivery.message.headers['tenant'], 'acme');
    assert.equal(delivery.message.persistent, true);
    fx.core.closeChannel(channel);
  });

  it('publishes to an exchange with a routing key and to a queue through the default exchange', async () => {
    await fx.core.declareExchange({ name: 'http-direct', type: 'direct', durable: true });
    await fx.core.declareQueue({ name: 'http-direct-q', durable: true });
    await fx.core.bind({ source: 'http-direct', destination: 'http-direct-q', destinationKind: 'queue', routingKey: 'k' });
    const viaExchange = await fx.api('/api/exchanges/http-direct/messages?routingKey=k', { method: 'POST', body: 'one', headers: { 'x-courier-persistent': 'false' } });
    assert.equal(viaExchange.status, 201);
    const viaQueue = await fx.api('/api/queues/http-direct-q/messages', { method: 'POST', body: 'two' });
    assert.equal(viaQueue.status, 201);
    const channel = fx.core.openChannel();
    const first = await fx.core.get(channel, 'http-direct-q', true);
    const second = await fx.core.get(channel, 'http-direct-q', true);
    assert.equal(Buffer.from(first?.message.body ?? []).toString(), 'one');
    assert.equal(first?.message.persistent, false);
    assert.equal(Buffer.from(second?.message.body ?? []).toString(), 'two');
    fx.core.closeChannel(channel);
  });

  it('answers 200 with routed 0 for an unroutable message and 404 for a missing queue', async () => {
    const unroutable = await fx.api('/api/topics/nobody.listens/messages', { method: 'POST', body: 'x' });
    assert.equal(unroutable.status, 200);
    assert.deepEqual(await unroutable.json(), { routed: 0, durable: true });
    const missing = await fx.api('/api/queues/no-such-queue/messages', { method: 'POST', body: 'x' });
    assert.equal(missing.status, 404);
    assert.equal((await problemOf(missing))['code'], 'QUEUE_NOT_FOUND');
  });

  it('answers 429 QUEUE_FULL when a queue at its max length rejects the message', async () => {
    await fx.core.declareQueue({ name: 'http-full', durable: true, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
    assert.equal((await fx.api('/api/queues/http-full/messages', { method: 'POST', body: 'a' })).status, 201);
    const refused = await fx.api('/api/queues/http-full/messages', { method: 'POST', body: 'b' });
    assert.equal(refused.status, 429);
    assert.equal((await problemOf(refused))['code'], 'QUEUE_FULL');
  });

  it('refuses a malformed X-Courier-Persistent with 400', async () => {
    const response = await fx.api('/api/topics/t/messages', { method: 'POST', body: 'x', headers: { 'x-courier-persistent': 'maybe' } });
    assert.equal(response.status, 400);
  });
});

describe('consume', () => {
  it('long-polls an empty queue and returns an empty list after the wait', async () => {
    await fx.core.declareQueue({ name: 'http-empty', durable: true });
    const started = Date.now();
    const messages = await receive('http-empty', 'wait=1');
    assert.deepEqual(messages, []);
    assert.ok(Date.now() - started >= 900, 'the poll waited');
  });

  it('returns as soon as a message arrives during a long poll', async () => {
    await fx.core.declareQueue({ name: 'http-arrive', durable: true });
    const polling = receive('http-arrive', 'wait=30');
    const published = await fx.api('/api/queues/http-arrive/messages', { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } });
    assert.equal(published.status, 201);
    const messages = await polling;
    assert.equal(messages.length, 1);
    assert.equal(Buffer.from(messages[0]?.body ?? '', 'base64').toString(), 'hello');
    assert.equal(messages[0]?.contentType, 'text/plain');
    assert.equal(messages[0]?.redelivered, false);
    assert.equal(messages[0]?.deliveryCount, 1);
  });

  it('acks by receipt handle: the message is gone, and a handle works only once', async () => {
    await fx.core.declareQueue({ name: 'http-ack', durable: true });
    for (const body of ['a', 'b']) await fx.api('/api/queues/http-ack/messages', { method: 'POST', body });
    const messages = await receive('http-ack', 'max=10');
    assert.equal(messages.length, 2);
    const handles = messages.map((message) => message.receiptHandle);
    assert.equal(new Set(handles).size, 2);
    assert.ok(handles.every((handle) => handle.length >= 22), 'handles carry 128 random bits');
    const acked = await fx.api('/api/queues/http-ack/messages/ack', { method: 'POST', body: JSON.stringify({ receiptHandles: handles }), headers: { 'content-type': 'application/json' } });
    assert.deepEqual(await acked.json(), { settled: 2, unknown: [] });
    const again = await fx.api('/api/queues/http-ack/messages/ack', { method: 'POST', body: JSON.stringify({ receiptHandles: [handles[0]] }) });
    assert.deepEqual(await again.json(), { settled: 0, unknown: [handles[0]] });
    assert.equal(fx.server.broker.getQueue('http-ack')?.messageCount, 0);
  });

  it('nack with requeue makes the message visible again, redelivered', async () => {
    await fx.core.declareQueue({ name: 'http-nack', durable: true });
    await fx.api('/api/queues/http-nack/messages', { method: 'POST', body: 'again' });
    const [first] = await receive('http-nack', '');
    assert.ok(first);
    assert.deepEqual(await receive('http-nack', ''), [], 'invisible while unsettled');
    const nacked = await fx.api('/api/queues/http-nack/messages/nack', { method: 'POST', body: JSON.stringify({ receiptHandles: [first.receiptHandle], requeue: true }) });
    assert.deepEqual(await nacked.json(), { settled: 1, unknown: [] });
    const [second] = await receive('http-nack', '');
    assert.equal(second?.redelivered, true);
    assert.equal(second?.deliveryCount, 2);
  });

  it('an unacked message becomes visible again after its visibility timeout', async () => {
    await fx.core.declareQueue({ name: 'http-visibility', durable: true });
    await fx.api('/api/queues/http-visibility/messages', { method: 'POST', body: 'timeout' });
    const [first] = await receive('http-visibility', 'visibility=1');
    assert.ok(first);
    const [again] = await receive('http-visibility', 'wait=10');
    assert.ok(again, 'redelivered within the wait');
    assert.equal(Buffer.from(again.body, 'base64').toString(), 'timeout');
    assert.equal(again.redelivered, true);
    const late = await fx.api('/api/queues/http-visibility/messages/ack', { method: 'POST', body: JSON.stringify({ receiptHandles: [first.receiptHandle] }) });
    assert.deepEqual(await late.json(), { settled: 0, unknown: [first.receiptHandle] }, 'the expired handle no longer acks');
  });

  it('refuses an ack body that is not JSON with 400', async () => {
    await fx.core.declareQueue({ name: 'http-ack-bad', durable: true });
    const response = await fx.api('/api/queues/http-ack-bad/messages/ack', { method: 'POST', body: 'not json' });
    assert.equal(response.status, 400);
  });
});

