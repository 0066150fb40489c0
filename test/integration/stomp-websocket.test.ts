/**
 * STOMP over WebSocket at ws://HOST:HTTP_PORT/stomp with @stomp/stompjs (the browser client), talking to
 * STOMP clients over TCP through the same broker.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, type IMessage, type StompHeaders } from '@stomp/stompjs';
import WebSocket from 'ws';
import { createStompAdapterFactory } from '../../src/protocols/stomp/index.js';
import { startServer, type ServerHandle } from '../../src/server/server.js';
import { StompTcpClient, stompServerConfig } from '../support/stomp-tcp-client.js';

/** Messages a subscription received, with a bounded wait for the next ones. */
class Inbox {
  readonly messages: IMessage[] = [];
  private waiters: (() => void)[] = [];

  readonly receive = (message: IMessage): void => {
    this.messages.push(message);
    for (const waiter of this.waiters.splice(0)) waiter();
  };

  async waitFor(count: number, timeoutMs = 5000): Promise<IMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < count) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`expected ${count} messages, got ${this.messages.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.messages;
  }
}

async function webClient(port: number, connectHeaders: StompHeaders = { login: 'guest', passcode: 'guest' }): Promise<Client> {
  const client = new Client({
    webSocketFactory: () => new WebSocket(`ws://127.0.0.1:${port}/stomp`, ['v12.stomp', 'v11.stomp', 'v10.stomp']),
    connectHeaders,
    reconnectDelay: 0,
    heartbeatIncoming: 0,
    heartbeatOutgoing: 0,
  });
  await new Promise<void>((resolve, reject) => {
    client.onConnect = () => resolve();
    client.onStompError = (frame) => reject(new Error(`STOMP ERROR ${frame.headers.message}`));
    client.onWebSocketError = () => reject(new Error('WebSocket error'));
    client.activate();
  });
  return client;
}

describe('STOMP over WebSocket', () => {
  let dataDir = '';
  let server: ServerHandle;
  let httpPort = 0;
  let stompPort = 0;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'courier-stomp-ws-'));
    server = await startServer(
      { ...stompServerConfig(dataDir), httpPort: 0 },
      { protocolAdapters: [createStompAdapterFactory({ lingerMs: 500 })] },
    );
    httpPort = server.addresses.http!.port;
    stompPort = server.addresses.stomp!.port;
  });
  after(async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('connects with stompjs, negotiates 1.2 and the v12.stomp subprotocol', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${httpPort}/stomp`, ['v10.stomp', 'v12.stomp']);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    assert.equal(socket.protocol, 'v12.stomp');
    socket.send('CONNECT\naccept-version:1.2\nhost:/\n\n\0');
    const reply = await new Promise<string>((resolve) => socket.once('message', (data: Buffer) => resolve(data.toString('utf8'))));
    assert.match(reply, /^CONNECTED\n/);
    assert.match(reply, /\nversion:1\.2\n/);
    socket.close();
  });

  it('delivers between WebSocket and TCP clients both ways, with client acks and headers', async () => {
    const web = await webClient(httpPort);
    const inbox = new Inbox();
    const subscribed = new Promise<void>((resolve) => web.watchForReceipt('sub-1', () => resolve()));
    web.subscribe('/queue/ws-in', inbox.receive, { ack: 'client-individual', receipt: 'sub-1' });
    await subscribed;

    const tcp = await StompTcpClient.connected(stompPort);
    await tcp.roundTrip('SEND', { destination: '/queue/ws-in', 'x-origin': 'tcp', 'content-type': 'text/plain' }, 'from tcp');
    const [message] = await inbox.waitFor(1);
    assert.equal(message!.body, 'from tcp');
    assert.equal(message!.headers['x-origin'], 'tcp');
    message!.ack();

    await tcp.roundTrip('SUBSCRIBE', { id: 'back', destination: '/topic/ws.out' });
    const binary = Uint8Array.of(1, 0, 2, 0, 255);
    web.publish({ destination: '/topic/ws.out', binaryBody: binary, headers: { 'x-origin': 'web', 'content-type': 'application/octet-stream' } });
    const fromWeb = await tcp.expect('MESSAGE');
    assert.deepEqual([...fromWeb.body], [...binary]);
    assert.equal(fromWeb.headers.get('x-origin'), 'web');
    await tcp.disconnect();
    await web.deactivate();
    assert.equal(server.broker.getQueue('ws-in')!.unackedCount, 0);
  });

  it('answers a refused login over WebSocket with ERROR', async () => {
    await assert.rejects(webClient(httpPort, { login: 'guest', passcode: 'nope' }), /Bad CONNECT/);
  });

  it('refuses an upgrade on another path', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${httpPort}/nothing-here`);
    socket.on('error', () => {}); // the refused handshake
    const status = await new Promise<number>((resolve) => socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0)));
    assert.equal(status, 404);
    socket.terminate();
  });

  it('carries frames split across WebSocket messages and several frames in one', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${httpPort}/stomp`, ['v12.stomp']);
    await new Promise((resolve) => socket.once('open', resolve));
    const received: string[] = [];
    let wake: () => void = () => {};
    socket.on('message', (data: Buffer) => {
      received.push(data.toString('utf8'));
      wake();
    });
    const until = async (condition: () => boolean): Promise<void> => {
      const deadline = Date.now() + 5000;
      while (!condition()) {
        assert.ok(Date.now() < deadline, `timed out; received ${JSON.stringify(received)}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100);
        });
      }
    };
    socket.send('CONNECT\naccept-version:1.2\nho');
    socket.send('st:/\n\n\0');
    await until(() => received.some((text) => text.startsWith('CONNECTED')));
    socket.send('SUBSCRIBE\nid:s\ndestination:/queue/ws-split\n\n\0SEND\ndestination:/queue/ws-split\n\nsplit ok\0');
    await until(() => received.some((text) => text.startsWith('MESSAGE')));
    assert.match(received.find((text) => text.startsWith('MESSAGE'))!, /\n\nsplit ok\0$/);
    socket.close();
  });
});
