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
import { eventually } from './http-harness.js';

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

/** Sends a frame carrying `receipt: id` and resolves once its RECEIPT arrives (at most 5 s). */
async function withReceipt(client: Client, id: string, send: (receipt: string) => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const received = new Promise<void>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no RECEIPT ${id}`)), 5000);
    client.watchForReceipt(id, () => resolve());
  });
  send(id);
  try {
    await received;
  } finally {
    clearTimeout(timer);
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

  it('sends the RECEIPT of a SEND once the message is stored in its durable queue', async () => {
    const web = await webClient(httpPort);
    await withReceipt(web, 'declare', (receipt) => web.subscribe('/queue/ws-receipt', () => {}, { id: 'tmp', receipt }));
    await withReceipt(web, 'gone', (receipt) => web.unsubscribe('tmp', { receipt }));
    const queue = server.broker.getQueue('ws-receipt')!;
    assert.equal(queue.durable, true);
    await withReceipt(web, 'stored', (receipt) => web.publish({ destination: '/queue/ws-receipt', body: 'kept', headers: { receipt } }));
    assert.equal(queue.messageCount, 1, 'in the queue when the receipt arrives');
    await web.deactivate();
  });

  it('client-individual: NACK brings a message back redelivered, each ACK settles one message', async () => {
    const web = await webClient(httpPort);
    const inbox = new Inbox();
    await withReceipt(web, 'sub-nack', (receipt) => web.subscribe('/queue/ws-nack', inbox.receive, { ack: 'client-individual', receipt }));
    await withReceipt(web, 'send-1', (receipt) => web.publish({ destination: '/queue/ws-nack', body: 'one', headers: { receipt } }));
    await withReceipt(web, 'send-2', (receipt) => web.publish({ destination: '/queue/ws-nack', body: 'two', headers: { receipt } }));
    const [one, two] = await inbox.waitFor(2);
    assert.deepEqual([one!.body, two!.body], ['one', 'two']);
    assert.notEqual(one!.headers['redelivered'], 'true');
    one!.nack();
    const again = (await inbox.waitFor(3))[2]!;
    assert.equal(again.body, 'one');
    assert.equal(again.headers['redelivered'], 'true');
    const queue = server.broker.getQueue('ws-nack')!;
    await withReceipt(web, 'ack-two', (receipt) => two!.ack({ receipt }));
    assert.equal(queue.unackedCount, 1, 'acking one message left the other unacked');
    await withReceipt(web, 'ack-again', (receipt) => again.ack({ receipt }));
    assert.equal(queue.unackedCount + queue.messageCount, 0);
    await web.deactivate();
  });

  it('keeps a durable topic subscription while its subscriber is away, until it is ended', async () => {
    const first = await webClient(httpPort);
    await withReceipt(first, 'durable-sub', (receipt) =>
      first.subscribe('/topic/ws.durable', () => {}, { id: 'keeper', durable: 'true', receipt }),
    );
    await first.deactivate();

    const tcp = await StompTcpClient.connected(stompPort);
    await tcp.roundTrip('SEND', { destination: '/topic/ws.durable' }, 'while away');
    await tcp.disconnect();

    const second = await webClient(httpPort);
    const inbox = new Inbox();
    second.subscribe('/topic/ws.durable', inbox.receive, { id: 'keeper', durable: 'true' });
    const [message] = await inbox.waitFor(1);
    assert.equal(message!.body, 'while away');
    const durableQueues = (): string[] => server.broker.listQueues().filter((queue) => queue.name.startsWith('stomp-subscription-')).map((queue) => queue.name);
    assert.equal(durableQueues().length, 1);
    await withReceipt(second, 'durable-end', (receipt) => second.unsubscribe('keeper', { durable: 'true', receipt }));
    await eventually(() => (durableQueues().length === 0 ? true : undefined));
    await second.deactivate();
  });

  it('applies the SENDs and ACKs of a transaction only at COMMIT, and none of an aborted one', async () => {
    const web = await webClient(httpPort);
    await withReceipt(web, 'tx-seed', (receipt) => web.publish({ destination: '/queue/ws-tx-in', body: 'to ack', headers: { receipt } }));
    const inbox = new Inbox();
    web.subscribe('/queue/ws-tx-in', inbox.receive, { ack: 'client-individual' });
    const [toAck] = await inbox.waitFor(1);
    const stored = (name: string): number => server.broker.getQueue(name)?.messageCount ?? 0;
    const incoming = server.broker.getQueue('ws-tx-in')!;

    const tx = web.begin();
    web.publish({ destination: '/queue/ws-tx-out', body: 'committed', headers: { transaction: tx.id } });
    toAck!.ack({ transaction: tx.id });
    // Frames are handled in order: once this RECEIPT is back, the SEND and ACK above were taken.
    await withReceipt(web, 'tx-probe-1', (receipt) => web.publish({ destination: '/queue/ws-tx-probe', body: 'p', headers: { receipt } }));
    assert.equal(stored('ws-tx-out'), 0, 'the SEND waits for the COMMIT');
    assert.equal(incoming.unackedCount, 1, 'the ACK waits for the COMMIT');
    tx.commit();
    await withReceipt(web, 'tx-probe-2', (receipt) => web.publish({ destination: '/queue/ws-tx-probe', body: 'p', headers: { receipt } }));
    await eventually(() => (stored('ws-tx-out') === 1 && incoming.unackedCount === 0 ? true : undefined));

    const aborted = web.begin();
    web.publish({ destination: '/queue/ws-tx-out', body: 'aborted', headers: { transaction: aborted.id } });
    aborted.abort();
    await withReceipt(web, 'tx-probe-3', (receipt) => web.publish({ destination: '/queue/ws-tx-probe', body: 'p', headers: { receipt } }));
    assert.equal(stored('ws-tx-out'), 1, 'nothing of the aborted transaction');
    await web.deactivate();
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
