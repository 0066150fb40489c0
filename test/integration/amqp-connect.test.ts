/** AMQP 0-9-1 connection handshake with amqplib, and bad input on a raw socket. */
import assert from 'node:assert/strict';
import { connect as tcpConnect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import { startAmqpServer, within, type AmqpTestServer } from './amqp-harness.js';

function rawExchange(port: number, bytes: Uint8Array): Promise<Buffer> {
  return within(5000, 'the server to answer and close', (resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Buffer.concat(received)));
    socket.write(bytes);
  });
}

describe('AMQP connection', () => {
  let broker: AmqpTestServer;
  before(async () => {
    broker = await startAmqpServer();
  });
  after(async () => {
    await broker.close();
  });

  it('connects with PLAIN, advertises Courier and its capabilities, and closes cleanly', async () => {
    const connection = await broker.connect();
    const properties = connection.connection.serverProperties as unknown as Record<string, unknown>;
    assert.equal(properties['product'], 'Courier');
    assert.equal(typeof properties['version'], 'string');
    const capabilities = properties['capabilities'] as Record<string, unknown>;
    for (const name of ['publisher_confirms', 'exchange_exchange_bindings', 'basic.nack', 'consumer_cancel_notify', 'per_consumer_qos', 'direct_reply_to']) {
      assert.equal(capabilities[name], true, name);
    }
    assert.equal(broker.server.broker.listConnections().length, 1);
    await connection.close();
    await within(5000, 'the core connection to go', (resolve) => {
      const poll = (): void => {
        if (broker.server.broker.listConnections().length === 0) resolve(undefined);
        else setImmediate(poll);
      };
      poll();
    });
  });

  it('negotiates frame-max and heartbeat from the client within limits', async () => {
    const connection = await amqp.connect({ hostname: '127.0.0.1', port: broker.port, username: 'guest', password: 'guest', frameMax: 8192, heartbeat: 5 });
    const internals = connection.connection as unknown as { frameMax: number; heartbeat: number };
    assert.equal(internals.frameMax, 8192);
    assert.equal(internals.heartbeat, 5);
    // A message larger than frame-max crosses in several body frames both ways.
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    const big = Buffer.alloc(50_000, 7);
    channel.sendToQueue(queue, big);
    const got = await within<amqp.GetMessage | false>(5000, 'the message', (resolve) => {
      const poll = (): void => {
        void channel.get(queue).then((message) => (message ? resolve(message) : setImmediate(poll)));
      };
      poll();
    });
    assert.ok(got);
    assert.deepEqual(got.content, big);
    await connection.close();
  });

  it('authenticates with AMQPLAIN too', async () => {
    const connection = await amqp.connect(broker.url(), { credentials: amqp.credentials.amqplain('guest', 'guest') });
    const channel = await connection.createChannel();
    await channel.close();
    await connection.close();
    await assert.rejects(amqp.connect(broker.url(), { credentials: amqp.credentials.amqplain('guest', 'nope') }), /403/);
  });

  it('refuses wrong credentials with 403 ACCESS_REFUSED', async () => {
    await assert.rejects(broker.connect('guest:wrong'), (error: Error) => {
      assert.match(error.message, /403/);
      assert.match(error.message, /ACCESS_REFUSED/);
      return true;
    });
  });

  it('refuses a virtual host other than / with 530 NOT_ALLOWED', async () => {
    await assert.rejects(amqp.connect(`${broker.url()}/other`), (error: Error) => {
      // amqplib reports a close during the handshake without its reply text.
      assert.match(error.message, /ConnectionClose/);
      return true;
    });
  });

  it('answers a wrong protocol header with its own and closes; other clients are unaffected', async () => {
    const other = await broker.connect();
    const otherChannel = await other.createChannel();
    const reply = await rawExchange(broker.port, Buffer.from('AMQP\x00\x00\x08\x00'));
    assert.deepEqual([...reply], [0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);
    const http = await rawExchange(broker.port, Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    assert.deepEqual([...http], [0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);
    const { queue } = await otherChannel.assertQueue('', { exclusive: true });
    assert.match(queue, /^amq\.gen-/);
    await other.close();
  });

  it('closes the connection with 501 FRAME_ERROR on a malformed frame after the handshake', async () => {
    const connection = await broker.connect();
    const closed = within<Error>(5000, 'the connection error', (resolve) => connection.on('error', resolve));
    // A method frame on channel 0 that does not end with 0xCE.
    const socket = (connection.connection as unknown as { stream: { write(bytes: Uint8Array): void } }).stream;
    socket.write(Buffer.from([1, 0, 0, 0, 0, 0, 4, 0, 10, 0, 50, 0x00]));
    const error = await closed;
    assert.match(error.message, /501/);
    const again = await broker.connect();
    await again.close();
  });

  it('closes the connection with 505 UNEXPECTED_FRAME on content without a header', async () => {
    const connection = await broker.connect();
    await connection.createChannel();
    const closed = within<Error>(5000, 'the connection error', (resolve) => connection.on('error', resolve));
    const socket = (connection.connection as unknown as { stream: { write(bytes: Uint8Array): void } }).stream;
    // A body frame on channel 1 with no basic.publish and content header before it.
    socket.write(Buffer.from([3, 0, 1, 0, 0, 0, 2, 0x68, 0x69, 0xce]));
    const error = await closed;
    assert.match(error.message, /505/);
    assert.match(error.message, /UNEXPECTED_FRAME/);
  });

  it('closes the connection with 504 CHANNEL_ERROR on a channel over channel-max', async () => {
    const connection = await amqp.connect({ hostname: '127.0.0.1', port: broker.port, username: 'guest', password: 'guest', channelMax: 3 });
    const closed = within<Error>(5000, 'the connection error', (resolve) => connection.on('error', resolve));
    const socket = (connection.connection as unknown as { stream: { write(bytes: Uint8Array): void } }).stream;
    // channel.open on channel 9.
    socket.write(Buffer.from([1, 0, 9, 0, 0, 0, 5, 0, 20, 0, 10, 0, 0xce]));
    assert.match((await closed).message, /504/);
  });

  it('closes the connection with 530 NOT_ALLOWED when a consumer tag is reused on a channel', async () => {
    const connection = await broker.connect();
    const closed = within<Error>(5000, 'the connection error', (resolve) => connection.on('error', resolve));
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.consume(queue, () => undefined, { consumerTag: 'mine' });
    await assert.rejects(channel.consume(queue, () => undefined, { consumerTag: 'mine' }));
    const error = await closed;
    assert.match(error.message, /530/);
    assert.match(error.message, /NOT_ALLOWED - attempt to reuse consumer tag 'mine'/);
  });
});
