/** Heartbeats on a raw AMQP connection: the server sends them, and drops a peer that goes silent. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawClient, startAmqpServer, within, type AmqpTestServer } from './amqp-harness.js';

describe('AMQP heartbeats', () => {
  let broker: AmqpTestServer;
  before(async () => {
    broker = await startAmqpServer();
  });
  after(async () => {
    await broker.close();
  });

  it('sends heartbeats at the negotiated interval and closes a silent peer after two missed intervals', async () => {
    const client = await RawClient.open(broker.port);
    const tune = await client.handshake(1);
    assert.deepEqual(tune, { name: 'connection.tune', channelMax: 2047, frameMax: 131072, heartbeat: 60 });
    const started = Date.now();
    await client.next(5000, 'a heartbeat', (frame) => frame.type === 8);
    // The client sends nothing more: the server must give up on it.
    await within(8000, 'the server to close the silent connection', (resolve) => void client.closed.then(resolve));
    assert.ok(Date.now() - started >= 1000, 'not before the first missed interval');
  });
});
