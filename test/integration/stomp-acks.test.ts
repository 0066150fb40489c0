/**
 * STOMP acknowledgement modes over TCP: cumulative `client` acks, single `client-individual` acks,
 * NACK with and without requeue, redelivery to the next subscriber after a disconnect, prefetch-count.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StompFrame } from '../../src/protocols/stomp/codec/frame.js';
import { StompTcpClient, bodyText, startStompServer, type StompTestServer } from '../support/stomp-tcp-client.js';

async function messages(client: StompTcpClient, count: number): Promise<StompFrame[]> {
  const frames: StompFrame[] = [];
  for (let i = 0; i < count; i++) frames.push(await client.expect('MESSAGE'));
  return frames;
}

async function fill(port: number, queue: string, bodies: readonly string[]): Promise<void> {
  const producer = await StompTcpClient.connected(port);
  for (const body of bodies) await producer.roundTrip('SEND', { destination: `/queue/${queue}`, persistent: 'true' }, body);
  await producer.disconnect();
}

describe('STOMP acknowledgements', () => {
  let stomp: StompTestServer;
  before(async () => {
    stomp = await startStompServer();
  });
  after(async () => {
    await stomp.close();
  });

  const queue = (name: string) => stomp.server.broker.getQueue(name)!;

  it('client mode: an ACK settles that message and every earlier one of the subscription', async () => {
    await fill(stomp.port, 'cumulative', ['a', 'b', 'c']);
    const client = await StompTcpClient.connected(stomp.port);
    await client.roundTrip('SUBSCRIBE', { id: 's', destination: '/queue/cumulative', ack: 'client' });
    const [, second] = await messages(client, 3);
    assert.ok(second!.headers.get('ack'), '1.2 MESSAGE frames of client subscriptions carry ack');
    assert.equal(queue('cumulative').unackedCount, 3);
    await client.roundTrip('ACK', { id: second!.headers.get('ack')! });
    assert.equal(queue('cumulative').unackedCount, 1);
    await client.disconnect();
  });

  it('client mode is cumulative within one subscription only', async () => {
    await fill(stomp.port, 'left', ['l1']);
    await fill(stomp.port, 'right', ['r1']);
    const client = await StompTcpClient.connected(stomp.port);
    await client.roundTrip('SUBSCRIBE', { id: 'l', destination: '/queue/left', ack: 'client' });
    const left = await client.expect('MESSAGE');
    await client.roundTrip('SUBSCRIBE', { id: 'r', destination: '/queue/right', ack: 'client' });
    const right = await client.expect('MESSAGE');
    await client.roundTrip('ACK', { id: right.headers.get('ack')! });
    assert.equal(queue('left').unackedCount, 1, 'acking the later subscription left the other alone');
    await client.roundTrip('ACK', { id: left.headers.get('ack')! });
    assert.equal(queue('left').unackedCount, 0);
    await client.disconnect();
  });

  it('client-individual mode: an ACK settles exactly one message', async () => {
    await fill(stomp.port, 'single', ['a', 'b', 'c']);
    const client = await StompTcpClient.connected(stomp.port);
    await client.roundTrip('SUBSCRIBE', { id: 's', destination: '/queue/single', ack: 'client-individual' });
    const frames = await messages(client, 3);
    await client.roundTrip('ACK', { id: frames[1]!.headers.get('ack')! });
    assert.equal(queue('single').unackedCount, 2);
    await client.disconnect();
  });

  it('unacked messages go to the next subscriber after a disconnect, flagged redelivered', async () => {
    await fill(stomp.port, 'handover', ['one', 'two']);
    const first = await StompTcpClient.connected(stomp.port);
    await first.roundTrip('SUBSCRIBE', { id: 's', destination: '/queue/handover', ack: 'client' });
    const received = await messages(first, 2);
    await first.roundTrip('ACK', { id: received[0]!.headers.get('ack')! });
    first.destroy(); // gone without a word: 'two' is still unacked
    await first.closed;

    const second = await StompTcpClient.connected(stomp.port);
    second.send('SUBSCRIBE', { id: 's2', destination: '/queue/handover', ack: 'client-individual' });
    const again = await second.expect('MESSAGE');
    assert.equal(bodyText(again), 'two');
    assert.equal(again.headers.get('redelivered'), 'true');
    await second.roundTrip('ACK', { id: again.headers.get('ack')! });
    assert.equal(queue('handover').messageCount, 0);
    await second.disconnect();
  });

  it('NACK requeues by default (redelivered) and drops with requeue:false', async () => {
    await fill(stomp.port, 'nacked', ['x']);
    const client = await StompTcpClient.connected(stomp.port);
    await client.roundTrip('SUBSCRIBE', { id: 's', destination: '/queue/nacked', ack: 'client-individual' });
    const first = await client.expect('MESSAGE');
    client.send('NACK', { id: first.headers.get('ack')! });
    const again = await client.expect('MESSAGE');
    assert.equal(bodyText(again), 'x');
    assert.equal(again.headers.get('redelivered'), 'true');
    await client.roundTrip('NACK', { id: again.headers.get('ack')!, requeue: 'false' });
    assert.equal(queue('nacked').messageCount, 0);
    await client.disconnect();
  });

  it('prefetch-count bounds the unacknowledged messages a subscription holds', async () => {
    await fill(stomp.port, 'windowed', ['m1', 'm2', 'm3', 'm4', 'm5']);
    const client = await StompTcpClient.connected(stomp.port);
    client.send('SUBSCRIBE', { id: 's', destination: '/queue/windowed', ack: 'client-individual', 'prefetch-count': '2' });
    const firstTwo = await messages(client, 2);
    // A round trip after them: anything delivered beyond the window would have come before its RECEIPT.
    await client.roundTrip('BEGIN', { transaction: 'barrier' });
    assert.equal(client.pending.length, 0);
    assert.equal(queue('windowed').unackedCount, 2);
    await client.roundTrip('ACK', { id: firstTwo[0]!.headers.get('ack')! });
    const third = await client.expect('MESSAGE');
    assert.equal(bodyText(third), 'm3');
    await client.roundTrip('ABORT', { transaction: 'barrier' });
    assert.equal(client.pending.length, 0);
    await client.disconnect();
  });

  it('refuses an ack id it never gave out, and acking an auto-ack message', async () => {
    const client = await StompTcpClient.connected(stomp.port);
    client.send('ACK', { id: 'made-up-1-1' });
    assert.equal((await client.expect('ERROR')).headers.get('message'), 'Invalid ack');
    await client.waitClosed();

    await fill(stomp.port, 'auto', ['x']);
    const auto = await StompTcpClient.connected(stomp.port);
    auto.send('SUBSCRIBE', { id: 's', destination: '/queue/auto' });
    const message = await auto.expect('MESSAGE');
    auto.send('ACK', { id: message.headers.get('message-id')! });
    const error = await auto.expect('ERROR');
    assert.equal(error.headers.get('courier-error-code'), 'UNKNOWN_DELIVERY_TAG');
    await auto.waitClosed();
  });

  it('STOMP 1.1 clients ack by message-id', async () => {
    await fill(stomp.port, 'eleven', ['x']);
    const client = await StompTcpClient.connected(stomp.port, { 'accept-version': '1.1' });
    await client.roundTrip('SUBSCRIBE', { id: 's', destination: '/queue/eleven', ack: 'client' });
    const message = await client.expect('MESSAGE');
    assert.equal(message.headers.has('ack'), false);
    await client.roundTrip('ACK', { 'message-id': message.headers.get('message-id')!, subscription: 's' });
    assert.equal(queue('eleven').messageCount, 0);
    await client.disconnect();
  });
});
