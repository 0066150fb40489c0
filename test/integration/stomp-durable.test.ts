/**
 * STOMP durability over TCP: durable topic subscriptions that collect messages while their subscriber
 * is away (also across a broker restart), and receipts that vouch for persistent messages surviving one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { durableSubscriptionQueueName } from '../../src/protocols/stomp/session-destinations.js';
import { StompTcpClient, bodyText, startStompServer, type StompTestServer } from '../support/stomp-tcp-client.js';

describe('STOMP durable subscriptions and receipts', () => {
  let stomp: StompTestServer;
  before(async () => {
    stomp = await startStompServer();
  });
  after(async () => {
    await stomp.close();
  });

  const durableSubscription = { id: 'weather-watcher', destination: '/topic/weather.#', durable: 'true', 'auto-delete': 'false', ack: 'client-individual' };

  it('keeps what a durable subscription missed while offline, also across a broker restart', async () => {
    const subscriber = await StompTcpClient.connected(stomp.port);
    await subscriber.roundTrip('SUBSCRIBE', durableSubscription);
    const queueName = durableSubscriptionQueueName('/topic/weather.#', 'weather-watcher');
    const queue = stomp.server.broker.getQueue(queueName);
    assert.ok(queue, `RabbitMQ-style named queue ${queueName}`);
    assert.equal(queue.durable, true);
    assert.equal(queue.record.exclusive, false);
    await subscriber.disconnect();
    assert.ok(stomp.server.broker.getQueue(queueName), 'the queue outlives the session');

    const producer = await StompTcpClient.connected(stomp.port);
    await producer.roundTrip('SEND', { destination: '/topic/weather.paris', persistent: 'true' }, 'rain');
    await producer.disconnect();

    const back = await StompTcpClient.connected(stomp.port);
    back.send('SUBSCRIBE', durableSubscription);
    const missed = await back.expect('MESSAGE');
    assert.equal(bodyText(missed), 'rain');
    assert.equal(missed.headers.get('subscription'), 'weather-watcher');
    await back.roundTrip('ACK', { id: missed.headers.get('ack')! });
    await back.disconnect();

    const producerAgain = await StompTcpClient.connected(stomp.port);
    await producerAgain.roundTrip('SEND', { destination: '/topic/weather.oslo', persistent: 'true' }, 'snow');
    await producerAgain.disconnect();
    await stomp.restart();

    const afterRestart = await StompTcpClient.connected(stomp.port);
    afterRestart.send('SUBSCRIBE', durableSubscription);
    const kept = await afterRestart.expect('MESSAGE');
    assert.equal(bodyText(kept), 'snow');
    assert.equal(kept.headers.get('destination'), '/topic/weather.oslo');
    await afterRestart.roundTrip('ACK', { id: kept.headers.get('ack')! });
    // UNSUBSCRIBE with durable:true ends the durable subscription and deletes its queue.
    await afterRestart.roundTrip('UNSUBSCRIBE', { id: 'weather-watcher', durable: 'true' });
    assert.equal(stomp.server.broker.getQueue(queueName), undefined);
    await afterRestart.disconnect();
  });

  it('refuses a durable subscription without id', async () => {
    const client = await StompTcpClient.connected(stomp.port, { 'accept-version': '1.0' });
    client.send('SUBSCRIBE', { destination: '/topic/x', durable: 'true' });
    const error = await client.expect('ERROR');
    assert.equal(error.headers.get('message'), 'Missing header');
    await client.waitClosed();
  });

  it('a RECEIPT for a persistent SEND means the message survives a restart', async () => {
    const producer = await StompTcpClient.connected(stomp.port);
    for (let i = 0; i < 20; i++) producer.send('SEND', { destination: '/queue/confirmed', persistent: 'true', receipt: `m${i}` }, `message ${i}`);
    const receipts: string[] = [];
    for (let i = 0; i < 20; i++) receipts.push((await producer.expect('RECEIPT')).headers.get('receipt-id')!);
    assert.deepEqual(receipts, Array.from({ length: 20 }, (_, i) => `m${i}`), 'receipts come in frame order');
    // No DISCONNECT: the server is closed under the open session.
    await stomp.restart();
    await producer.closed;

    const consumer = await StompTcpClient.connected(stomp.port);
    consumer.send('SUBSCRIBE', { id: 's', destination: '/queue/confirmed' });
    for (let i = 0; i < 20; i++) assert.equal(bodyText(await consumer.expect('MESSAGE')), `message ${i}`);
    await consumer.disconnect();
  });

  it('a DISCONNECT receipt waits for earlier SENDs without receipts to be durable', async () => {
    const producer = await StompTcpClient.connected(stomp.port);
    for (let i = 0; i < 10; i++) producer.send('SEND', { destination: '/queue/quiet', persistent: 'true' }, `q${i}`);
    await producer.disconnect();
    await stomp.restart();
    const consumer = await StompTcpClient.connected(stomp.port);
    consumer.send('SUBSCRIBE', { id: 's', destination: '/queue/quiet' });
    for (let i = 0; i < 10; i++) assert.equal(bodyText(await consumer.expect('MESSAGE')), `q${i}`);
    await consumer.disconnect();
  });
});
