/**
 * The JSON messaging protocol at ws://HOST:HTTP_PORT/ws, driven with the `ws` client: every op, every
 * error, authentication on the upgrade, the frame limit (the server's http-body-limit) and backpressure.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { Delivery } from '../../src/core/channel.js';
import { startServer, type ServerHandle } from '../../src/server/server.js';
import { testServerConfig } from '../support/server-config.js';
import { eventually, GUEST_AUTH, startHttpFixture, type HttpFixture } from './http-harness.js';

type Frame = Record<string, unknown>;

/** A `/ws` client that keeps every frame it received and waits (bounded) for the ones a test expects. */
class WsClient {
  readonly frames: Frame[] = [];
  private nextId = 1;
  private readonly waiters = new Set<() => void>();
  closeCode: number | undefined;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      this.frames.push(JSON.parse(data.toString('utf8')) as Frame);
      this.wakeAll();
    });
    socket.on('close', (code) => {
      this.closeCode = code;
      this.wakeAll();
    });
  }

  private wakeAll(): void {
    for (const waiter of this.waiters) waiter();
  }

  static async open(port: number, headers: Record<string, string> = { authorization: GUEST_AUTH }): Promise<WsClient> {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers });
    const client = new WsClient(socket);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    await client.next((frame) => frame['op'] === 'connected');
    return client;
  }

  /** Waits (up to `timeoutMs`) until `produce` returns a value; re-checked on every frame received. */
  private async until<T>(produce: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = produce();
      if (value !== undefined) return value;
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.closeCode !== undefined) {
        throw new Error(`${what} (closed: ${this.closeCode}); have ${JSON.stringify(this.frames).slice(0, 2000)}`);
      }
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, remaining);
        this.waiters.add(done);
      });
    }
  }

  /** Resolves with the first received frame matching `match` (removing it), waiting up to 5 s. */
  next(match: (frame: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    return this.until(
      () => {
        const index = this.frames.findIndex(match);
        return index >= 0 ? this.frames.splice(index, 1)[0] : undefined;
      },
      'no matching frame',
      timeoutMs,
    );
  }

  /** The next `count` messages of a subscription, in arrival order (removed from the inbox). */
  async messages(subscription: string, count: number, timeoutMs = 10_000): Promise<Frame[]> {
    const isMessage = (frame: Frame): boolean => frame['op'] === 'message' && frame['subscription'] === subscription;
    let seen = 0;
    let scanned = 0;
    await this.until(
      () => {
        for (; scanned < this.frames.length; scanned++) if (isMessage(this.frames[scanned]!)) seen += 1;
        return seen >= count ? true : undefined;
      },
      `expected ${count} messages of ${subscription}, got ${seen}`,
      timeoutMs,
    );
    const taken: Frame[] = [];
    const rest: Frame[] = [];
    for (const frame of this.frames) (taken.length < count && isMessage(frame) ? taken : rest).push(frame);
    this.frames.splice(0, this.frames.length, ...rest);
    return taken;
  }

  send(frame: Frame | string | Buffer): void {
    this.socket.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
  }

  /** Sends `frame` with a fresh id and resolves with the reply carrying it (receipt or error). */
  request(frame: Frame): Promise<Frame> {
    const id = `r${this.nextId++}`;
    this.send({ ...frame, id });
    return this.next((reply) => reply['id'] === id);
  }

  async ok(frame: Frame): Promise<Frame> {
    const reply = await this.request(frame);
    assert.equal(reply['op'], 'receipt', JSON.stringify(reply));
    return reply;
  }

  async close(): Promise<void> {
    if (this.closeCode !== undefined) return;
    const closed = new Promise((resolve) => this.socket.once('close', resolve));
    this.socket.close();
    await closed;
  }
}

async function expectError(client: WsClient, frame: Frame, code: string, message?: RegExp): Promise<Frame> {
  const reply = await client.request(frame);
  assert.equal(reply['op'], 'error', JSON.stringify(reply));
  assert.equal(reply['code'], code, JSON.stringify(reply));
  if (message) assert.match(String(reply['message']), message);
  return reply;
}

/** The HTTP status line of a refused upgrade. */
function refusedUpgrade(port: number, headers: Record<string, string>): Promise<{ status: number; challenge: string | undefined }> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers });
  socket.on('error', () => {}); // the refused handshake
  return new Promise((resolve) =>
    socket.once('unexpected-response', (_request, response) => {
      resolve({ status: response.statusCode ?? 0, challenge: response.headers['www-authenticate'] });
      socket.terminate();
    }),
  );
}

describe('/ws JSON protocol', () => {
  let fx: HttpFixture;
  let port = 0;
  before(async () => {
    fx = await startHttpFixture();
    port = fx.server.addresses.http!.port;
  });
  after(() => fx.close());

  describe('authentication', () => {
    it('accepts HTTP Basic on the upgrade and says who the client is and the frame limit', async () => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { authorization: GUEST_AUTH } });
      const first = await new Promise<Frame>((resolve, reject) => {
        socket.once('message', (data: Buffer) => resolve(JSON.parse(data.toString('utf8')) as Frame));
        socket.once('error', reject);
      });
      assert.deepEqual(first, { op: 'connected', user: 'guest', maxFrameBytes: 1024 * 1024 });
      socket.close();
    });

    it('lets a client without credentials in as guest from loopback (a browser cannot send the header)', async () => {
      const client = await WsClient.open(port, {});
      await client.ok({ op: 'publish', topic: 'anonymous.hello', body: 'x' });
      await client.close();
    });

    it('refuses a wrong password with 401, a Basic challenge, and no session', async () => {
      const wrong = `Basic ${Buffer.from('guest:nope').toString('base64')}`;
      const { status, challenge } = await refusedUpgrade(port, { authorization: wrong });
      assert.equal(status, 401);
      assert.match(challenge ?? '', /^Basic realm="courier"/);
      assert.equal((await refusedUpgrade(port, { authorization: 'Bearer x' })).status, 401);
    });
  });

  describe('publish', () => {
    it('publishes to a topic, an exchange with routing key and a queue; the receipt comes once durable', async () => {
      await fx.core.declareQueue({ name: 'ws-sink', durable: true });
      await fx.core.bind({ source: 'amq.topic', destination: 'ws-sink', destinationKind: 'queue', routingKey: 'ws.pub.*' });
      await fx.core.bind({ source: 'amq.direct', destination: 'ws-sink', destinationKind: 'queue', routingKey: 'direct-key' });
      const client = await WsClient.open(port);
      const receipt = await client.ok({
        op: 'publish',
        topic: 'ws.pub.text',
        body: 'héllo',
        contentType: 'text/plain',
        headers: { tenant: 'acme', n: 3, flag: true },
        correlationId: 'c-1',
      });
      assert.equal(receipt['routed'], 1);
      await client.ok({ op: 'publish', exchange: 'amq.direct', routingKey: 'direct-key', body: Buffer.from([0, 1, 255]).toString('base64'), encoding: 'base64', persistent: false });
      await client.ok({ op: 'publish', queue: 'ws-sink', body: 'to the queue' });

      const channel = fx.core.openChannel();
      const got: Delivery[] = [];
      for (let i = 0; i < 3; i++) {
        const delivery = await fx.core.get(channel, 'ws-sink', true);
        assert.ok(delivery, `message ${i}`);
        got.push(delivery);
      }
      const [text, binary, queued] = got.map((delivery) => delivery.message);
      assert.equal(Buffer.from(text!.body).toString('utf8'), 'héllo');
      assert.equal(text!.properties.contentType, 'text/plain');
      assert.equal(text!.properties.correlationId, 'c-1');
      assert.deepEqual(text!.headers, { tenant: 'acme', n: 3, flag: true });
      assert.equal(text!.persistent, true);
      assert.deepEqual([...binary!.body], [0, 1, 255]);
      assert.equal(binary!.persistent, false);
      assert.equal(Buffer.from(queued!.body).toString('utf8'), 'to the queue');
      fx.core.closeChannel(channel);
      await client.close();
    });

    it('answers routed 0 for an unroutable message, and errors with the core code otherwise', async () => {
      const client = await WsClient.open(port);
      assert.equal((await client.ok({ op: 'publish', topic: 'nobody.listens', body: 'x' }))['routed'], 0);
      const missingQueue = await expectError(client, { op: 'publish', queue: 'no-such-queue' }, 'QUEUE_NOT_FOUND', /no-such-queue/);
      assert.equal(missingQueue['status'], 404);
      await expectError(client, { op: 'publish', exchange: 'no-such-exchange', body: 'x' }, 'EXCHANGE_NOT_FOUND');
      await fx.core.declareQueue({ name: 'ws-full', durable: false, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
      await client.ok({ op: 'publish', queue: 'ws-full', body: '1' });
      const full = await expectError(client, { op: 'publish', queue: 'ws-full', body: '2' }, 'QUEUE_FULL');
      assert.equal(full['status'], 429);
      await client.close();
    });
  });

  describe('subscribe', () => {
    it('subscribes to a topic pattern through a private queue, text and binary bodies, and unsubscribes', async () => {
      const client = await WsClient.open(port);
      const receipt = await client.ok({ op: 'subscribe', subscription: 'temps', topic: 'sensors.*.temp' });
      assert.equal(receipt['subscription'], 'temps');
      const queue = String(receipt['queue']);
      assert.match(queue, /^amq\.gen-/);
      assert.equal(fx.server.broker.getQueue(queue)?.consumerCount, 1);

      await client.ok({ op: 'publish', topic: 'sensors.kitchen.temp', body: '21.5', contentType: 'text/plain', headers: { unit: 'C' } });
      await client.ok({ op: 'publish', topic: 'sensors.kitchen.humidity', body: 'not matched' });
      await client.ok({ op: 'publish', topic: 'sensors.garage.temp', body: Buffer.from([0xff, 0x00]).toString('base64'), encoding: 'base64' });
      const [first, second] = await client.messages('temps', 2);
      assert.equal(first!['routingKey'], 'sensors.kitchen.temp');
      assert.equal(first!['body'], '21.5');
      assert.equal(first!['encoding'], 'utf8');
      assert.equal(first!['contentType'], 'text/plain');
      assert.deepEqual(first!['headers'], { unit: 'C' });
      assert.equal(first!['deliveryId'], undefined, 'auto-ack deliveries carry no deliveryId');
      assert.equal(second!['encoding'], 'base64');
      assert.deepEqual([...Buffer.from(String(second!['body']), 'base64')], [0xff, 0x00]);

      await client.ok({ op: 'unsubscribe', subscription: 'temps' });
      await eventually(() => (fx.server.broker.getQueue(queue) ? undefined : true));
      await expectError(client, { op: 'unsubscribe', subscription: 'temps' }, 'UNKNOWN_CONSUMER');
      await client.close();
    });

    it('applies requests in order: a publish sent right after a subscribe reaches it', async () => {
      const client = await WsClient.open(port);
      client.send({ op: 'subscribe', subscription: 'ordered', topic: 'ordered.#' });
      client.send({ op: 'publish', topic: 'ordered.one', body: 'first' });
      const [message] = await client.messages('ordered', 1);
      assert.equal(message!['body'], 'first');
      await client.close();
    });

    it('consumes a queue with client acks and prefetch; nack requeues (redelivered) or drops', async () => {
      await fx.core.declareQueue({ name: 'ws-work', durable: true });
      const client = await WsClient.open(port);
      for (let i = 1; i <= 3; i++) await client.ok({ op: 'publish', queue: 'ws-work', body: `job ${i}` });
      await client.ok({ op: 'subscribe', subscription: 'work', queue: 'ws-work', ack: 'client', prefetch: 2 });
      const [one, two] = await client.messages('work', 2);
      assert.deepEqual([one!['body'], two!['body']], ['job 1', 'job 2']);
      assert.equal(typeof one!['deliveryId'], 'number');
      const queue = fx.server.broker.getQueue('ws-work')!;
      assert.equal(queue.unackedCount, 2, 'the prefetch window holds the third message back');
      assert.equal(queue.messageCount, 1);

      await client.ok({ op: 'ack', deliveryId: one!['deliveryId'] });
      const [three] = await client.messages('work', 1);
      assert.equal(three!['body'], 'job 3');

      await client.ok({ op: 'nack', deliveryId: two!['deliveryId'] });
      const [again] = await client.messages('work', 1);
      assert.equal(again!['body'], 'job 2');
      assert.equal(again!['redelivered'], true);
      assert.equal(again!['deliveryCount'], 2);

      await client.ok({ op: 'nack', deliveryId: again!['deliveryId'], requeue: false });
      await client.ok({ op: 'ack', deliveryId: three!['deliveryId'] });
      await expectError(client, { op: 'ack', deliveryId: three!['deliveryId'] }, 'UNKNOWN_DELIVERY_TAG');
      assert.equal(queue.messageCount + queue.unackedCount, 0, 'acked and dropped');
      await client.close();
    });

    it('returns unacked deliveries to the queue and deletes private queues when the socket closes', async () => {
      await fx.core.declareQueue({ name: 'ws-return', durable: true });
      const client = await WsClient.open(port);
      await client.ok({ op: 'publish', queue: 'ws-return', body: 'unacked' });
      await client.ok({ op: 'subscribe', subscription: 'held', queue: 'ws-return', ack: 'client' });
      const topic = await client.ok({ op: 'subscribe', subscription: 'live', topic: 'gone.#' });
      await client.messages('held', 1);
      const queue = fx.server.broker.getQueue('ws-return')!;
      assert.equal(queue.unackedCount, 1);
      await client.close();
      await eventually(() => (queue.messageCount === 1 && queue.unackedCount === 0 ? true : undefined));
      await eventually(() => (fx.server.broker.getQueue(String(topic['queue'])) ? undefined : true));
    });

    it('refuses a second subscription with the same name and a missing queue', async () => {
      const client = await WsClient.open(port);
      await client.ok({ op: 'subscribe', subscription: 'twice', topic: 'twice' });
      await expectError(client, { op: 'subscribe', subscription: 'twice', topic: 'other' }, 'CONSUMER_TAG_IN_USE');
      await expectError(client, { op: 'subscribe', subscription: 'q', queue: 'no-such-queue' }, 'QUEUE_NOT_FOUND');
      await client.close();
    });

    it('tells the client when its queue is deleted under the subscription', async () => {
      await fx.core.declareQueue({ name: 'ws-deleted', durable: false });
      const client = await WsClient.open(port);
      await client.ok({ op: 'subscribe', subscription: 'doomed', queue: 'ws-deleted' });
      await fx.core.deleteQueue('ws-deleted');
      const notice = await client.next((frame) => frame['op'] === 'error' && frame['subscription'] === 'doomed');
      assert.equal(notice['code'], 'QUEUE_NOT_FOUND');
      await expectError(client, { op: 'unsubscribe', subscription: 'doomed' }, 'UNKNOWN_CONSUMER');
      await client.close();
    });
  });

  describe('operator close', () => {
    it('tells the client CHANNEL_CLOSED and closes with 1008 when management closes the connection', async () => {
      const client = await WsClient.open(port);
      const connection = fx.server.broker.listConnections().filter((candidate) => candidate.info.protocol === 'ws' && !candidate.isClosed).at(-1);
      assert.ok(connection, 'the socket has a core connection');
      await connection.requestClose('maintenance');
      const notice = await client.next((frame) => frame['op'] === 'error');
      assert.equal(notice['code'], 'CHANNEL_CLOSED');
      assert.match(String(notice['message']), /maintenance/);
      await eventually(() => client.closeCode);
      assert.equal(client.closeCode, 1008);
      assert.equal(connection.isClosed, true);
    });
  });

  describe('bad input', () => {
    it('answers each bad request with an error frame and keeps the socket open', async () => {
      const client = await WsClient.open(port);
      client.send('{not json');
      assert.match(String((await client.next((frame) => frame['op'] === 'error'))['message']), /not valid JSON/);
      client.send('[1,2]');
      assert.match(String((await client.next((frame) => frame['op'] === 'error'))['message']), /JSON object/);
      client.send(Buffer.from([0xc3, 0x28, 0xff]));
      assert.match(String((await client.next((frame) => frame['op'] === 'error'))['message']), /UTF-8 JSON/);
      const unknown = await expectError(client, { op: 'shout' }, 'INVALID_ARGUMENT', /unknown op "shout"/);
      assert.equal(unknown['status'], 400);
      await expectError(client, { op: 'publish' }, 'INVALID_ARGUMENT', /exactly one of topic, exchange, queue/);
      await expectError(client, { op: 'publish', topic: 't', colour: 'red' }, 'INVALID_ARGUMENT', /unknown field colour/);
      await expectError(client, { op: 'subscribe', topic: 't' }, 'INVALID_ARGUMENT', /missing field subscription/);
      await expectError(client, { op: 'ack' }, 'INVALID_ARGUMENT', /missing field deliveryId/);
      await expectError(client, { op: 'ack', deliveryId: 999 }, 'UNKNOWN_DELIVERY_TAG');
      await expectError(client, { op: 'nack', deliveryId: 999 }, 'UNKNOWN_DELIVERY_TAG');
      await expectError(client, { op: 'publish', topic: 't', body: '%%%', encoding: 'base64' }, 'INVALID_ARGUMENT', /base64/);
      client.send({ op: 'publish', id: { bad: true }, topic: 't' });
      const badId = await client.next((frame) => frame['op'] === 'error');
      assert.equal(badId['id'], undefined);
      assert.match(String(badId['message']), /id must be/);
      // Still usable after all that.
      await client.ok({ op: 'publish', topic: 'still.alive', body: 'ok' });
      assert.equal(client.closeCode, undefined);
      await client.close();
    });
  });
});

describe('/ws with a small body limit', () => {
  const LIMIT = 4096;
  let dataDir = '';
  let server: ServerHandle;
  let port = 0;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'courier-http-ws-'));
    server = await startServer(testServerConfig(dataDir, { httpPort: 0, httpBodyLimit: LIMIT }), { protocolAdapters: [] });
    port = server.addresses.http!.port;
  });
  after(async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('uses the limit for HTTP request bodies too (413)', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/api/topics/big/messages`, {
      method: 'POST',
      body: Buffer.alloc(LIMIT + 1),
      headers: { authorization: GUEST_AUTH },
    });
    assert.equal(response.status, 413);
  });

  it('closes the socket with 1009 for a message over the limit, and accepts one at the limit', async () => {
    const client = await WsClient.open(port);
    const envelope = JSON.stringify({ op: 'publish', id: 'fits', topic: 'big', body: '' });
    client.send(envelope.replace('"body":""', `"body":"${'x'.repeat(LIMIT - envelope.length)}"`));
    assert.equal((await client.next((frame) => frame['id'] === 'fits'))['op'], 'receipt');
    client.send(Buffer.alloc(LIMIT + 1, 0x20));
    await eventually(() => client.closeCode);
    assert.equal(client.closeCode, 1009);
  });

  it('pauses deliveries while the client does not read, and delivers everything once it does', async () => {
    const core = server.broker.connect({ username: 'guest', tags: [] }, { protocol: 'test', remoteAddress: '127.0.0.1' });
    await core.declareQueue({ name: 'ws-slow', durable: false });
    const client = await WsClient.open(port);
    await client.ok({ op: 'subscribe', subscription: 'slow', queue: 'ws-slow' });
    client.socket.pause();
    const body = Buffer.alloc(3000, 0x61);
    const total = 8000; // 24 MB: more than the 1 MiB high-water mark plus what the kernel buffers on loopback
    for (let i = 0; i < total; i++) core.publish({ exchange: '', routingKey: 'ws-slow', headers: { i }, properties: {}, body, persistent: false });
    const queue = server.broker.getQueue('ws-slow')!;
    assert.ok(queue.messageCount > 0, 'deliveries stopped at the high-water mark instead of filling the socket buffer');
    client.socket.resume();
    const received = await client.messages('slow', total);
    assert.deepEqual(
      received.map((frame) => (frame['headers'] as { i: number }).i),
      Array.from({ length: total }, (_, i) => i),
    );
    assert.equal(queue.messageCount, 0);
    await client.close();
    await core.close();
  });

  it('ends sessions at shutdown with an error frame BROKER_CLOSED and close code 1001', async () => {
    const client = await WsClient.open(port);
    const closing = server.close();
    const notice = await client.next((frame) => frame['op'] === 'error');
    assert.equal(notice['code'], 'BROKER_CLOSED');
    await eventually(() => client.closeCode);
    assert.equal(client.closeCode, 1001);
    await closing;
  });
});
