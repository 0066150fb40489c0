/**
 * STOMP CONNECT over TCP: version negotiation, CONNECTED headers, authentication, frames before CONNECT
 * and heart-beating in both directions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StompTcpClient, bodyText, startStompServer, type StompTestServer } from '../support/stomp-tcp-client.js';

describe('STOMP CONNECT', () => {
  let stomp: StompTestServer;
  before(async () => {
    stomp = await startStompServer();
  });
  after(async () => {
    await stomp.close();
  });

  it('negotiates the highest common version and answers CONNECTED with server, session and heart-beat', async () => {
    const client = await StompTcpClient.open(stomp.port);
    const connected = await client.handshake({ 'accept-version': '1.0,1.1,1.2' });
    assert.equal(connected.command, 'CONNECTED');
    assert.equal(connected.headers.get('version'), '1.2');
    assert.match(connected.headers.get('server') ?? '', /^Courier\/\d+\.\d+\.\d+/);
    assert.match(connected.headers.get('session') ?? '', /^session-[A-Za-z0-9_-]+$/);
    assert.equal(connected.headers.get('heart-beat'), '0,0');
    await client.disconnect();
  });

  it('picks 1.1 when that is the best the client offers, and 1.0 when it offers none', async () => {
    const eleven = await StompTcpClient.open(stomp.port);
    assert.equal((await eleven.handshake({ 'accept-version': '1.1,1.0' })).headers.get('version'), '1.1');
    await eleven.disconnect();
    const legacy = await StompTcpClient.open(stomp.port);
    legacy.sendRaw('CONNECT\nlogin:guest\npasscode:guest\n\n\0');
    const connected = await legacy.expect('CONNECTED');
    assert.equal(connected.headers.get('version'), '1.0');
    await legacy.disconnect();
  });

  it('accepts the STOMP command, any host, and no credentials (the default user)', async () => {
    const client = await StompTcpClient.open(stomp.port);
    client.sendRaw('STOMP\naccept-version:1.2\nhost:some.other.vhost\n\n\0');
    await client.expect('CONNECTED');
    await client.disconnect();
  });

  it('refuses a version it does not speak with an ERROR listing its versions, then closes', async () => {
    const client = await StompTcpClient.open(stomp.port);
    const error = await client.handshake({ 'accept-version': '2.0,3.1' });
    assert.equal(error.command, 'ERROR');
    assert.equal(error.headers.get('message'), 'Version mismatch');
    assert.equal(error.headers.get('version'), '1.0,1.1,1.2');
    assert.match(bodyText(error), /1\.0,1\.1,1\.2/);
    await client.waitClosed();
  });

  it('refuses wrong credentials with ERROR "Bad CONNECT", then closes', async () => {
    const client = await StompTcpClient.open(stomp.port);
    const error = await client.handshake({ login: 'guest', passcode: 'wrong', receipt: 'c1' });
    assert.equal(error.command, 'ERROR');
    assert.equal(error.headers.get('message'), 'Bad CONNECT');
    assert.match(bodyText(error), /Access refused for user 'guest'/);
    await client.waitClosed();
  });

  it('answers any frame before CONNECT with an ERROR and closes', async () => {
    const client = await StompTcpClient.open(stomp.port);
    client.sendRaw('SEND\ndestination:/queue/x\n\nhi\0');
    const error = await client.expect('ERROR');
    assert.equal(error.headers.get('message'), 'Illegal command');
    await client.waitClosed();
  });

  it('refuses a second CONNECT and a malformed heart-beat header', async () => {
    const twice = await StompTcpClient.connected(stomp.port);
    twice.send('CONNECT', { 'accept-version': '1.2' });
    assert.equal((await twice.expect('ERROR')).headers.get('message'), 'Already connected');
    await twice.waitClosed();
    const badBeat = await StompTcpClient.open(stomp.port);
    const error = await badBeat.handshake({ 'heart-beat': 'often' });
    assert.equal(error.command, 'ERROR');
    assert.equal(error.headers.get('message'), 'Invalid header');
    await badBeat.waitClosed();
  });
});

describe('STOMP heart-beating', () => {
  let stomp: StompTestServer;
  before(async () => {
    stomp = await startStompServer({ heartBeatMinimumMs: 10 });
  });
  after(async () => {
    await stomp.close();
  });

  it('closes a client that promised heart-beats and went silent, after twice its interval', async () => {
    const client = await StompTcpClient.open(stomp.port);
    // Taken before CONNECT is sent, so it precedes the server's last read of this client.
    const startedAt = Date.now();
    const connected = await client.handshake({ 'heart-beat': '100,0' });
    assert.equal(connected.headers.get('heart-beat'), '0,100');
    await client.waitClosed();
    assert.ok(Date.now() - startedAt >= 195, 'not closed before twice the interval');
  });

  it('keeps a client that sends heart-beats, and sends its own at the agreed interval', async () => {
    const client = await StompTcpClient.open(stomp.port);
    // The client promises a beat every 300 ms and sends one every 20: a busy machine cannot make it late.
    const connected = await client.handshake({ 'heart-beat': '300,50' });
    assert.equal(connected.headers.get('heart-beat'), '50,300');
    const beat = setInterval(() => client.sendRaw('\n'), 20);
    try {
      const start = client.bytesReceived;
      // Server heart-beats are single EOLs: five of them and no frame means the server is beating.
      await client.until(() => client.bytesReceived - start >= 5, 5000, 'server heart-beats');
      assert.equal(client.pending.length, 0);
      // Still open well past twice the interval, and still answering.
      await client.roundTrip('BEGIN', { transaction: 't' });
    } finally {
      clearInterval(beat);
    }
    await client.disconnect();
  });
});
