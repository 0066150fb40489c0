/** STOMP transactions over TCP: SENDs and ACKs take effect at COMMIT, ABORT drops them. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StompTcpClient, bodyText, startStompServer, type StompTestServer } from '../support/stomp-tcp-client.js';

describe('STOMP transactions', () => {
  let stomp: StompTestServer;
  before(async () => {
    stomp = await startStompServer();
  });
  after(async () => {
    await stomp.close();
  });

  it('holds SENDs until COMMIT and drops them on ABORT', async () => {
    const client = await StompTcpClient.connected(stomp.port);
    await client.roundTrip('SUBSCRIBE', { id: 's', destination: '/queue/tx-sends' });
    await client.roundTrip('BEGIN', { transaction: 't1' });
    await client.roundTrip('SEND', { destination: '/queue/tx-sends', transaction: 't1' }, 'one');
    await client.roundTrip('SEND', { destination: '/queue/tx-sends', transaction: 't1' }, 'two');
    assert.equal(client.pending.length, 0, 'nothing delivered before COMMIT');
    await client.roundTrip('COMMIT', { transaction: 't1' });
    assert.deepEqual([bodyText(await client.expect('MESSAGE')), bodyText(await client.expect('MESSAGE'))], ['one', 'two']);

    await client.roundTrip('BEGIN', { transaction: 't2' });
    await client.roundTrip('SEND', { destination: '/queue/tx-sends', transaction: 't2' }, 'never');
    await client.roundTrip('ABORT', { transaction: 't2' });
    await client.roundTrip('SEND', { destination: '/queue/tx-sends' }, 'after abort');
    assert.equal(bodyText(await client.expect('MESSAGE')), 'after abort');
    await client.disconnect();
  });

  it('holds ACKs until COMMIT', async () => {
    const client = await StompTcpClient.connected(stomp.port);
    await client.roundTrip('SEND', { destination: '/queue/tx-acks' }, 'a');
    await client.roundTrip('SUBSCRIBE', { id: 's', destination: '/queue/tx-acks', ack: 'client-individual' });
    const message = await client.expect('MESSAGE');
    await client.roundTrip('BEGIN', { transaction: 't' });
    await client.roundTrip('ACK', { id: message.headers.get('ack')!, transaction: 't' });
    const queue = stomp.server.broker.getQueue('tx-acks')!;
    assert.equal(queue.unackedCount, 1, 'the ACK waits for COMMIT');
    await client.roundTrip('COMMIT', { transaction: 't' });
    assert.equal(queue.unackedCount, 0);
    assert.equal(queue.messageCount, 0);
    await client.disconnect();
  });

  it('refuses an unknown transaction and a BEGIN of an active one', async () => {
    const unknown = await StompTcpClient.connected(stomp.port);
    unknown.send('SEND', { destination: '/queue/tx-x', transaction: 'nope' }, 'x');
    const error = await unknown.expect('ERROR');
    assert.equal(error.headers.get('message'), 'Bad transaction');
    await unknown.waitClosed();
    assert.equal(stomp.server.broker.getQueue('tx-x')?.messageCount ?? 0, 0);

    for (const command of ['COMMIT', 'ABORT']) {
      const client = await StompTcpClient.connected(stomp.port);
      client.send(command, { transaction: 'ghost' });
      assert.equal((await client.expect('ERROR')).headers.get('message'), 'Bad transaction');
      await client.waitClosed();
    }
    const twice = await StompTcpClient.connected(stomp.port);
    await twice.roundTrip('BEGIN', { transaction: 't' });
    twice.send('BEGIN', { transaction: 't' });
    assert.equal((await twice.expect('ERROR')).headers.get('message'), 'Bad transaction');
    await twice.waitClosed();
  });

  it('drops an open transaction when the client disconnects', async () => {
    const client = await StompTcpClient.connected(stomp.port);
    await client.roundTrip('BEGIN', { transaction: 't' });
    await client.roundTrip('SEND', { destination: '/queue/tx-dropped', transaction: 't' }, 'lost');
    await client.disconnect();
    assert.equal(stomp.server.broker.getQueue('tx-dropped')!.messageCount, 0);
  });
});
