/**
 * Long polls (`GET /api/queues/{q}/messages?wait=S`) wait on the queue's ready event, not on a timer:
 * a message published during the wait comes back at once, and a poll that ends any way (message,
 * timeout, client gone, queue deleted) leaves no waiter on the queue.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Queue } from '../../src/core/queue/queue.js';
import { eventually, startHttpFixture, type HttpFixture } from './http-harness.js';

interface Pulled {
  messages: { body: string; receiptHandle: string; redelivered: boolean }[];
}

const text = (base64: string): string => Buffer.from(base64, 'base64').toString('utf8');

describe('HTTP long poll', () => {
  let fx: HttpFixture;
  before(async () => {
    fx = await startHttpFixture();
  });
  after(() => fx.close());

  async function queueNamed(name: string): Promise<Queue> {
    await fx.core.declareQueue({ name, durable: true });
    return fx.server.broker.getQueue(name)!;
  }

  function publish(queue: string, body: string): void {
    fx.core.publish({ exchange: '', routingKey: queue, headers: {}, properties: {}, body: Buffer.from(body), persistent: false });
  }

  it('returns a message published during a 20 s wait long before the wait is over', async () => {
    const queue = await queueNamed('lp-prompt');
    const started = Date.now();
    const poll = fx.api('/api/queues/lp-prompt/messages?wait=20');
    await eventually(() => (queue.readyWaiterCount === 1 ? true : undefined));
    publish('lp-prompt', 'arrived');
    const response = await poll;
    const elapsed = Date.now() - started;
    assert.equal(response.status, 200);
    const { messages } = (await response.json()) as Pulled;
    assert.deepEqual(messages.map((message) => text(message.body)), ['arrived']);
    assert.ok(elapsed < 5000, `answered after ${elapsed} ms of a 20 s wait`);
    assert.equal(queue.readyWaiterCount, 0);
  });

  it('leaves no waiter behind when the wait times out', async () => {
    const queue = await queueNamed('lp-timeout');
    const response = await fx.api('/api/queues/lp-timeout/messages?wait=1');
    assert.deepEqual(((await response.json()) as Pulled).messages, []);
    assert.equal(queue.readyWaiterCount, 0);
  });

  it('leaves no waiter behind when the client aborts, and pulls nothing for it', async () => {
    const queue = await queueNamed('lp-abort');
    const aborter = new AbortController();
    const poll = fx.api('/api/queues/lp-abort/messages?wait=30', { signal: aborter.signal });
    await eventually(() => (queue.readyWaiterCount === 1 ? true : undefined));
    aborter.abort();
    await assert.rejects(poll, { name: 'AbortError' });
    await eventually(() => (queue.readyWaiterCount === 0 ? true : undefined));
    publish('lp-abort', 'for the next one');
    const { messages } = (await (await fx.api('/api/queues/lp-abort/messages')).json()) as Pulled;
    assert.deepEqual(messages.map((message) => text(message.body)), ['for the next one']);
    assert.equal(messages[0]?.redelivered, false, 'the aborted poll never took it');
  });

  it('hands one message to one of two waiting polls; the other keeps waiting for the next', async () => {
    const queue = await queueNamed('lp-two');
    const first = fx.api('/api/queues/lp-two/messages?wait=20');
    const second = fx.api('/api/queues/lp-two/messages?wait=20');
    await eventually(() => (queue.readyWaiterCount === 2 ? true : undefined));
    publish('lp-two', 'one');
    const winner = await Promise.race([first.then((response) => ({ response, other: second })), second.then((response) => ({ response, other: first }))]);
    const loser = winner.other;
    assert.deepEqual(((await winner.response.json()) as Pulled).messages.map((message) => text(message.body)), ['one']);
    await eventually(() => (queue.readyWaiterCount === 1 ? true : undefined));
    publish('lp-two', 'two');
    assert.deepEqual(((await (await loser).json()) as Pulled).messages.map((message) => text(message.body)), ['two']);
    assert.equal(queue.readyWaiterCount, 0);
  });

  it('wakes a poll when a nacked message becomes visible again', async () => {
    const queue = await queueNamed('lp-nack');
    publish('lp-nack', 'again');
    const [pulled] = ((await (await fx.api('/api/queues/lp-nack/messages')).json()) as Pulled).messages;
    assert.ok(pulled);
    const poll = fx.api('/api/queues/lp-nack/messages?wait=20');
    await eventually(() => (queue.readyWaiterCount === 1 ? true : undefined));
    const nack = await fx.api('/api/queues/lp-nack/messages/nack', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ receiptHandles: [pulled.receiptHandle] }),
    });
    assert.equal(nack.status, 200);
    const [again] = ((await (await poll).json()) as Pulled).messages;
    assert.equal(text(again!.body), 'again');
    assert.equal(again!.redelivered, true);
  });

  it('ends a poll with 404 when its queue is deleted during the wait', async () => {
    const queue = await queueNamed('lp-deleted');
    const poll = fx.api('/api/queues/lp-deleted/messages?wait=20');
    await eventually(() => (queue.readyWaiterCount === 1 ? true : undefined));
    await fx.core.deleteQueue('lp-deleted');
    const response = await poll;
    assert.equal(response.status, 404);
    assert.equal(((await response.json()) as { code: string }).code, 'QUEUE_NOT_FOUND');
    assert.equal(queue.readyWaiterCount, 0);
  });
});
