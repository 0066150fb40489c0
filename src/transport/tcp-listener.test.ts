import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { BrokerError } from '../core/errors.js';
import { TcpListener } from './tcp-listener.js';

function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('TcpListener', () => {
  it('hands accepted connections over and reports the real port when 0 was asked', async () => {
    const accepted: Socket[] = [];
    let onAccepted: () => void = () => {};
    const listener = await TcpListener.open({
      host: '127.0.0.1',
      port: 0,
      onConnection: (socket) => {
        accepted.push(socket);
        socket.on('data', (data) => socket.write(data));
        onAccepted();
      },
    });
    try {
      assert.ok(listener.address.port > 0);
      assert.equal(listener.address.host, '127.0.0.1');
      const acceptedOnce = new Promise<void>((resolve) => (onAccepted = resolve));
      const client = await connectTo(listener.address.port);
      await acceptedOnce;
      client.write('ping');
      const [echo] = (await once(client, 'data')) as [Buffer];
      assert.equal(echo.toString(), 'ping');
      assert.equal(listener.connectionCount, 1);
      client.destroy();
    } finally {
      await listener.close();
    }
  });

  it('close() ends open connections instead of waiting for the clients', async () => {
    let onAccepted: () => void = () => {};
    const acceptedOnce = new Promise<void>((resolve) => (onAccepted = resolve));
    const listener = await TcpListener.open({ host: '127.0.0.1', port: 0, onConnection: () => onAccepted() });
    const client = await connectTo(listener.address.port);
    await acceptedOnce;
    const clientClosed = once(client, 'close');
    await listener.close();
    await clientClosed;
    await assert.rejects(connectTo(listener.address.port), { code: 'ECONNREFUSED' });
  });

  it('stopAccepting() refuses new clients but keeps the connected ones', async () => {
    let onAccepted: () => void = () => {};
    const acceptedOnce = new Promise<void>((resolve) => (onAccepted = resolve));
    const listener = await TcpListener.open({
      host: '127.0.0.1',
      port: 0,
      onConnection: (socket) => {
        socket.on('data', (data) => socket.write(data));
        onAccepted();
      },
    });
    try {
      const client = await connectTo(listener.address.port);
      await acceptedOnce;
      listener.stopAccepting();
      await assert.rejects(connectTo(listener.address.port), { code: 'ECONNREFUSED' });
      client.write('still here');
      const [echo] = (await once(client, 'data')) as [Buffer];
      assert.equal(echo.toString(), 'still here');
      client.destroy();
    } finally {
      await listener.close();
    }
  });

  it('a port in use is one sentence naming the port, the host and the setting', async () => {
    const first = await TcpListener.open({ host: '127.0.0.1', port: 0, onConnection: (socket) => socket.destroy() });
    try {
      const port = first.address.port;
      await assert.rejects(
        TcpListener.open({ host: '127.0.0.1', port, portSetting: '--mqtt-port', onConnection: () => {} }),
        (error: unknown) => {
          assert.ok(error instanceof BrokerError);
          assert.equal(error.code, 'PORT_IN_USE');
          assert.equal(error.message, `port ${port} on 127.0.0.1 is already in use (--mqtt-port)`);
          return true;
        },
      );
    } finally {
      await first.close();
    }
  });
});
