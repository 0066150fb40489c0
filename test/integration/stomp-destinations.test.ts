/**
 * Every STOMP destination type over TCP, as RabbitMQ's STOMP plugin maps them onto exchanges and queues,
 * and temp-queue request/reply between two clients.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Principal } from '../../src/core/ports.js';
import { StompTcpClient, bodyText, startStompServer, type StompTestServer } from '../support/stomp-tcp-client.js';

const admin: Principal = { username: 'guest', tags: ['administrator'] };

describe('STOMP destinations', () => {
  let stomp: StompTestServer;
  before(async () => {
    stomp = await startStompServer();
  });
  after(async () => {
    await stomp.close();
  });

  const core = () => stomp.server.broker.connect(admin, { protocol: 'test', remoteAddress: '127.0.0.1' });

  it('/queue/q declares a durable queue on first use; SEND goes through the default exchange', async () => {
    const producer = await StompTcpClient.connected(stomp.port);
    await producer.roundTrip('SEND', { destination: '/queue/orders', 'content-type': 'text/plain' }, 'first');
    const queue = stomp.server.broker.getQueue('orders');
    assert.ok(queue, 'the queue was declared by the SEND');
    assert.equal(queue.durable, true);
    assert.equal(queue.record.exclusive, false);
    assert.equal(queue.record.autoDelete, false);
    assert.equal(queue.messageCount, 1);

    const consumer = await StompTcpClient.connected(stomp.port);
    consumer.send('SUBSCRIBE', { id: 's1', destination: '/queue/orders' });
    const message = await consumer.expect('MESSAGE');
    assert.equal(bodyText(message), 'first');
    assert.equal(message.headers.get('subscription'), 's1');
    assert.equal(message.headers.get('destination'), '/queue/orders');
    assert.equal(message.headers.get('redelivered'), 'false');
    assert.equal(message.headers.get('content-type'), 'text/plain');
    assert.ok(message.headers.get('message-id'));
    assert.equal(message.headers.has('ack'), false, 'auto-ack messages carry no ack header');
    await producer.disconnect();
    await consumer.disconnect();
  });

  it('/amq/queue/q consumes an existing queue and never declares one', async () => {
    const connection = core();
    await connection.declareQueue({ name: 'made-elsewhere', durable: true });
    const client = await StompTcpClient.connected(stomp.port);
    client.send('SUBSCRIBE', { id: 'a', destination: '/amq/queue/made-elsewhere' });
    await client.roundTrip('SEND', { destination: '/amq/queue/made-elsewhere' }, 'hello');
    assert.equal(bodyText(await client.expect('MESSAGE')), 'hello');
    // SEND to a missing /amq/queue/ is unroutable: dropped, and nothing is declared.
    await client.roundTrip('SEND', { destination: '/amq/queue/not-there' }, 'lost');
    assert.equal(stomp.server.broker.getQueue('not-there'), undefined);
    await client.disconnect();
    await connection.close();
  });

  it('SUBSCRIBE to a missing /amq/queue/ is an ERROR (not_found) that leaves other clients alone', async () => {
    const bystander = await StompTcpClient.connected(stomp.port);
    bystander.send('SUBSCRIBE', { id: 'b', destination: '/queue/bystander' });
    const client = await StompTcpClient.connected(stomp.port);
    client.send('SUBSCRIBE', { id: 'x', destination: '/amq/queue/missing', receipt: 'sub-1' });
    const error = await client.expect('ERROR');
    assert.equal(error.headers.get('message'), 'not_found');
    assert.equal(error.headers.get('receipt-id'), 'sub-1');
    assert.equal(error.headers.get('courier-error-code'), 'QUEUE_NOT_FOUND');
    assert.match(bodyText(error), /QUEUE_NOT_FOUND - no queue 'missing'/);
    await client.waitClosed();
    await bystander.roundTrip('SEND', { destination: '/queue/bystander' }, 'still here');
    assert.equal(bodyText(await bystander.expect('MESSAGE')), 'still here');
    await bystander.disconnect();
  });

  it('/topic/k: SEND to amq.topic; each subscriber gets a private queue bound with its pattern', async () => {
    const a = await StompTcpClient.connected(stomp.port);
    const b = await StompTcpClient.connected(stomp.port);
    await a.roundTrip('SUBSCRIBE', { id: 'a', destination: '/topic/prices.*' });
    await b.roundTrip('SUBSCRIBE', { id: 'b', destination: '/topic/prices.eur' });
    const bindings = stomp.server.broker.listBindings().filter((binding) => binding.source === 'amq.topic');
    assert.deepEqual(bindings.map((binding) => binding.routingKey).sort(), ['prices.*', 'prices.eur']);
    const queueOfA = bindings.find((binding) => binding.routingKey === 'prices.*')!.destination;
    const queue = stomp.server.broker.getQueue(queueOfA)!;
    assert.equal(queue.durable, false);
    assert.equal(queue.record.exclusive, true);
    assert.equal(queue.record.autoDelete, true);

    const producer = await StompTcpClient.connected(stomp.port);
    await producer.roundTrip('SEND', { destination: '/topic/prices.eur' }, '1.08');
    await producer.roundTrip('SEND', { destination: '/topic/prices.usd' }, '1.00');
    const toA = [await a.expect('MESSAGE'), await a.expect('MESSAGE')];
    assert.deepEqual(toA.map(bodyText), ['1.08', '1.00']);
    assert.equal(toA[0]!.headers.get('destination'), '/topic/prices.eur');
    assert.equal(bodyText(await b.expect('MESSAGE')), '1.08');
    await b.roundTrip('UNSUBSCRIBE', { id: 'b' });
    assert.equal(
      stomp.server.broker.listBindings().some((binding) => binding.routingKey === 'prices.eur'),
      false,
      'the private queue went with its subscription',
    );
    for (const client of [a, b, producer]) await client.disconnect();
    assert.equal(stomp.server.broker.getQueue(queueOfA), undefined, 'exclusive queues go with the session');
  });

  it('/exchange/e/k: SEND to e with key k; SUBSCRIBE binds a fresh queue to e with pattern k', async () => {
    const connection = core();
    await connection.declareExchange({ name: 'logs', type: 'topic', durable: true });
    const client = await StompTcpClient.connected(stomp.port);
    await client.roundTrip('SUBSCRIBE', { id: 'errors', destination: '/exchange/logs/error.#' });
    await client.roundTrip('SEND', { destination: '/exchange/logs/info.disk' }, 'ignored');
    await client.roundTrip('SEND', { destination: '/exchange/logs/error.disk.full' }, 'disk full');
    const message = await client.expect('MESSAGE');
    assert.equal(bodyText(message), 'disk full');
    assert.equal(message.headers.get('destination'), '/exchange/logs/error.disk.full');
    assert.equal(client.pending.length, 0);
    await client.disconnect();

    const missing = await StompTcpClient.connected(stomp.port);
    missing.send('SUBSCRIBE', { id: 'm', destination: '/exchange/nope/k' });
    const error = await missing.expect('ERROR');
    assert.equal(error.headers.get('courier-error-code'), 'EXCHANGE_NOT_FOUND');
    await missing.waitClosed();
    const sender = await StompTcpClient.connected(stomp.port);
    sender.send('SEND', { destination: '/exchange/nope/k' }, 'x');
    assert.equal((await sender.expect('ERROR')).headers.get('message'), 'not_found');
    await sender.waitClosed();
    await connection.close();
  });

  it('/temp-queue/ in reply-to: the replier SENDs to the rewritten /reply-queue/ and the requester gets it', async () => {
    const server = await StompTcpClient.connected(stomp.port);
    await server.roundTrip('SUBSCRIBE', { id: 'requests', destination: '/queue/rpc-requests', ack: 'client-individual' });
    const requester = await StompTcpClient.connected(stomp.port);
    await requester.roundTrip('SEND', { destination: '/queue/rpc-requests', 'reply-to': '/temp-queue/answers', 'correlation-id': 'c-42' }, 'what time is it?');

    const request = await server.expect('MESSAGE');
    const replyTo = request.headers.get('reply-to') ?? '';
    assert.match(replyTo, /^\/reply-queue\/amq\.gen-/);
    assert.equal(request.headers.get('correlation-id'), 'c-42');
    await server.roundTrip('SEND', { destination: replyTo, 'correlation-id': 'c-42' }, 'noon');
    await server.roundTrip('ACK', { id: request.headers.get('ack')! });

    const reply = await requester.expect('MESSAGE');
    assert.equal(bodyText(reply), 'noon');
    assert.equal(reply.headers.get('subscription'), '/temp-queue/answers');
    assert.equal(reply.headers.get('destination'), '/temp-queue/answers');
    assert.equal(reply.headers.get('correlation-id'), 'c-42');

    // The same temp name in a second request reuses the queue.
    await requester.roundTrip('SEND', { destination: '/queue/rpc-requests', 'reply-to': '/temp-queue/answers' }, 'again?');
    assert.equal((await server.expect('MESSAGE')).headers.get('reply-to'), replyTo);
    const tempQueue = replyTo.slice('/reply-queue/'.length);
    assert.equal(stomp.server.broker.getQueue(tempQueue)?.record.exclusive, true);
    await requester.disconnect();
    assert.equal(stomp.server.broker.getQueue(tempQueue), undefined, 'the temp queue goes with its session');
    await server.disconnect();
  });

  it('refuses an unknown destination type with an ERROR', async () => {
    const client = await StompTcpClient.connected(stomp.port);
    client.send('SEND', { destination: '/nowhere/x', receipt: 'r9' }, 'x');
    const error = await client.expect('ERROR');
    assert.equal(error.headers.get('message'), 'Unknown destination');
    assert.equal(error.headers.get('receipt-id'), 'r9');
    await client.waitClosed();
  });
});
