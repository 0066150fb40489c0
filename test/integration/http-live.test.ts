/**
 * The HTTP API's longer-lived exchanges over a real socket: server-sent events, request/reply (and its
 * timeout), stream replay, and the OpenAPI document covering every route.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHttpApi, openApiDocument } from '../../src/protocols/http/index.js';
import { eventually, startHttpFixture, type HttpFixture } from './http-harness.js';

let fx: HttpFixture;

before(async () => {
  fx = await startHttpFixture();
});
after(async () => {
  await fx.close();
});

interface SseEvent {
  event: string;
  data: string;
}

/** Reads an SSE response, EventSource style: comments are reported as events named ':'. */
function sseReader(response: Response): { next(): Promise<SseEvent> } {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    async next() {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.startsWith(':')) return { event: ':', data: block.slice(1).trim() };
          const event: SseEvent = { event: 'message', data: '' };
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event.event = line.slice(7);
            if (line.startsWith('data: ')) event.data += line.slice(6);
          }
          return event;
        }
        const chunk = (await reader.read()) as { done: boolean; value?: Uint8Array };
        if (chunk.done || !chunk.value) throw new Error('the event stream ended');
        buffer += decoder.decode(chunk.value, { stream: true });
      }
    },
  };
}

describe('server-sent events', () => {
  it('streams messages matching the pattern and deletes its queue when the client goes away', async () => {
    const queuesBefore = fx.server.broker.listQueues().length;
    const abort = new AbortController();
    const response = await fx.api(`/api/topics/${encodeURIComponent('sensors.*')}/events`, { signal: abort.signal });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const events = sseReader(response);
    assert.deepEqual(await events.next(), { event: ':', data: 'subscribed' });
    assert.equal(fx.server.broker.listQueues().length, queuesBefore + 1);

    await fx.api('/api/topics/other.temp/messages', { method: 'POST', body: 'ignored' });
    const published = await fx.api('/api/topics/sensors.temp/messages', { method: 'POST', body: '21.5', headers: { 'content-type': 'text/plain', 'x-courier-header-unit': 'C' } });
    assert.equal(published.status, 201);
    const event = await events.next();
    assert.equal(event.event, 'message');
    const message = JSON.parse(event.data) as { routingKey: string; body: string; contentType: string; headers: Record<string, unknown> };
    assert.equal(message.routingKey, 'sensors.temp');
    assert.equal(Buffer.from(message.body, 'base64').toString(), '21.5');
    assert.equal(message.contentType, 'text/plain');
    assert.equal(message.headers['unit'], 'C');

    abort.abort();
    await eventually(() => (fx.server.broker.listQueues().length === queuesBefore ? true : undefined));
  });

  it('answers 401 without credentials', async () => {
    const response = await fetch(`${fx.base}/api/topics/a/events`);
    assert.equal(response.status, 401);
  });
});

describe('request/reply', () => {
  it('returns the correlated reply with its body and content type', async () => {
    await fx.core.declareQueue({ name: 'rpc-echo', durable: false });
    await fx.core.bind({ source: 'amq.topic', destination: 'rpc-echo', destinationKind: 'queue', routingKey: 'rpc.echo' });
    const channel = fx.core.openChannel();
    fx.core.consume(channel, 'rpc-echo', { noAck: true }, {
      deliver: ({ message }) => {
        fx.core.publish({
          exchange: '',
          routingKey: message.properties.replyTo ?? '',
          headers: {},
          properties: { correlationId: message.properties.correlationId ?? '', contentType: 'application/json' },
          body: Buffer.from(JSON.stringify({ echoed: Buffer.from(message.body).toString() })),
          persistent: false,
        });
      },
    });
    const response = await fx.api('/api/topics/rpc.echo/requests?timeout=10', { method: 'POST', body: 'ping' });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.deepEqual(await response.json(), { echoed: 'ping' });
    fx.core.closeChannel(channel);
  });

  it('answers 504 when no reply comes in time', async () => {
    await fx.core.declareQueue({ name: 'rpc-silent', durable: false });
    await fx.core.bind({ source: 'amq.topic', destination: 'rpc-silent', destinationKind: 'queue', routingKey: 'rpc.silent' });
    const response = await fx.api('/api/topics/rpc.silent/requests?timeout=1', { method: 'POST', body: 'anyone?' });
    assert.equal(response.status, 504);
    assert.equal(((await response.clone().json()) as { code?: string }).code, 'TIMEOUT');
    assert.equal(response.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  });

  it('answers 404 when nothing is bound to the topic', async () => {
    const response = await fx.api('/api/topics/rpc.nobody/requests?timeout=1', { method: 'POST', body: 'x' });
    assert.equal(response.status, 404);
  });
});

describe('stream replay', () => {
  interface StreamMessage {
    offset: number;
    body: string;
  }

  async function replay(query: string): Promise<StreamMessage[]> {
    const response = await fx.api(`/api/streams/http-stream/messages?${query}`);
    assert.equal(response.status, 200);
    return ((await response.json()) as { messages: StreamMessage[] }).messages;
  }

  const text = (messages: StreamMessage[]): string[] => messages.map((message) => Buffer.from(message.body, 'base64').toString());

  before(async () => {
    await fx.core.declareQueue({ name: 'http-stream', durable: true, arguments: { 'x-queue-type': 'stream' } });
    for (const body of ['m0', 'm1', 'm2', 'm3', 'm4']) {
      assert.equal((await fx.api('/api/queues/http-stream/messages', { method: 'POST', body })).status, 201);
    }
  });

  it('replays from first, up to max, with offsets', async () => {
    const messages = await replay('from=first&max=3');
    assert.deepEqual(text(messages), ['m0', 'm1', 'm2']);
    assert.ok(messages[0]!.offset < messages[1]!.offset);
    const all = await replay('from=first');
    assert.deepEqual(text(all), ['m0', 'm1', 'm2', 'm3', 'm4'], 'stops at the end without waiting for max');
  });

  it('replays from an offset, from last, and from a timestamp', async () => {
    const all = await replay('from=first');
    assert.deepEqual(text(await replay(`from=${all[3]!.offset}`)), ['m3', 'm4']);
    assert.deepEqual(text(await replay('from=last')), ['m4']);
    assert.deepEqual(text(await replay('from=2000-01-01T00:00:00Z')), ['m0', 'm1', 'm2', 'm3', 'm4']);
    assert.deepEqual(await replay(`from=${new Date(Date.now() + 3_600_000).toISOString()}&wait=1`), []);
  });

  it('answers 404 for a missing stream and 400 for a bad position', async () => {
    assert.equal((await fx.api('/api/streams/no-stream/messages')).status, 404);
    assert.equal((await fx.api('/api/streams/http-stream/messages?from=yesterday')).status, 400);
  });
});

describe('OpenAPI document', () => {
  it('is served and describes every route', async () => {
    const response = await fetch(`${fx.base}/api/openapi.json`);
    assert.equal(response.status, 200);
    const document = (await response.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    assert.equal(document.openapi, '3.1.0');
    // Management adds its paths to the same document: every messaging path is served as described.
    const messaging = JSON.parse(JSON.stringify(openApiDocument)) as { paths: Record<string, Record<string, unknown>> };
    for (const [path, operations] of Object.entries(messaging.paths)) {
      for (const [method, operation] of Object.entries(operations)) assert.deepEqual(document.paths[path]?.[method], operation, `${method} ${path}`);
    }
    for (const route of createHttpApi().routes) {
      const path = route.path.replace(/:([a-zA-Z]+)/g, '{$1}');
      assert.ok(document.paths[path]?.[route.method.toLowerCase()], `${route.method} ${path} is described`);
    }
  });
});
