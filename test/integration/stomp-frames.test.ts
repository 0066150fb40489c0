/**
 * STOMP framing over TCP with literal request bytes: content-length bodies holding NUL, 1.2 header
 * escaping and custom headers round-tripping, and bad input (unknown command, missing header, oversize
 * frame, too many headers) answered with ERROR and a close that no other client notices.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StompTcpClient, bodyText, startStompServer, type StompTestServer } from '../support/stomp-tcp-client.js';

const CONNECT = 'CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0';

describe('STOMP frames on the wire', () => {
  let stomp: StompTestServer;
  before(async () => {
    stomp = await startStompServer({ limits: { maxFrameBytes: 64 * 1024, maxHeaders: 50, maxHeaderLineBytes: 1024 } });
  });
  after(async () => {
    await stomp.close();
  });

  it('carries a content-length body with NUL octets byte for byte', async () => {
    const client = await StompTcpClient.open(stomp.port);
    client.sendRaw(CONNECT);
    await client.expect('CONNECTED');
    client.sendRaw('SUBSCRIBE\nid:s\ndestination:/queue/binary\nreceipt:sub\n\n\0');
    await client.expect('RECEIPT');
    const body = Buffer.from([0, 1, 2, 0, 0, 255, 10, 0]);
    client.sendRaw(Buffer.concat([Buffer.from(`SEND\ndestination:/queue/binary\ncontent-type:application/octet-stream\ncontent-length:${body.length}\n\n`), body, Buffer.from('\0\n')]));
    const message = await client.expect('MESSAGE');
    assert.deepEqual(Buffer.from(message.body), body);
    assert.equal(message.headers.get('content-length'), String(body.length));
    assert.equal(message.headers.get('content-type'), 'application/octet-stream');
    await client.disconnect();
  });

  it('accepts CR LF line ends and heart-beat EOLs between frames', async () => {
    const client = await StompTcpClient.open(stomp.port);
    client.sendRaw(`\r\n\n${CONNECT.replaceAll('\n', '\r\n')}`);
    await client.expect('CONNECTED');
    client.sendRaw('\n\r\nSUBSCRIBE\r\nid:s\r\ndestination:/queue/crlf\r\n\r\n\0\n\nSEND\r\ndestination:/queue/crlf\r\n\r\nhi\0\r\n');
    assert.equal(bodyText(await client.expect('MESSAGE')), 'hi');
    await client.disconnect();
  });

  it('round-trips escaped header names and values and custom headers (first of repeated headers wins)', async () => {
    const client = await StompTcpClient.open(stomp.port);
    client.sendRaw(CONNECT);
    await client.expect('CONNECTED');
    client.sendRaw('SUBSCRIBE\nid:s\ndestination:/queue/escapes\n\n\0');
    // name "odd:name", value "a:b\nc\\d\re"; a repeated header whose second value must be ignored.
    client.sendRaw('SEND\ndestination:/queue/escapes\nodd\\cname:a\\cb\\nc\\\\d\\re\nx-trace:first\nx-trace:second\nplain:value with spaces \n\nbody\0');
    const message = await client.expect('MESSAGE');
    assert.equal(message.headers.get('odd:name'), 'a:b\nc\\d\re');
    assert.equal(message.headers.get('x-trace'), 'first');
    assert.equal(message.headers.get('plain'), 'value with spaces ');
    await client.disconnect();
  });

  it('maps persistent, priority, correlation-id, reply-to, expiration and content-type to the core and back', async () => {
    const client = await StompTcpClient.connected(stomp.port);
    await client.roundTrip('SUBSCRIBE', { id: 's', destination: '/queue/props' });
    await client.roundTrip(
      'SEND',
      {
        destination: '/queue/props',
        persistent: 'true',
        priority: '5',
        'correlation-id': 'corr',
        'reply-to': '/queue/answers',
        expiration: '60000',
        'content-type': 'text/plain; charset=utf-8',
        'amqp-message-id': 'id-1',
        custom: 'yes',
      },
      'props',
    );
    const message = await client.expect('MESSAGE');
    for (const [name, value] of [
      ['persistent', 'true'],
      ['priority', '5'],
      ['correlation-id', 'corr'],
      ['reply-to', '/queue/answers'],
      ['expiration', '60000'],
      ['content-type', 'text/plain; charset=utf-8'],
      ['amqp-message-id', 'id-1'],
      ['custom', 'yes'],
    ]) {
      assert.equal(message.headers.get(name!), value, name);
    }
    await client.disconnect();
  });

  it('delivers nothing after an absolute expires that has passed', async () => {
    const client = await StompTcpClient.connected(stomp.port);
    await client.roundTrip('SEND', { destination: '/queue/expiring', expires: String(Date.now() - 1000) }, 'stale');
    await client.roundTrip('SEND', { destination: '/queue/expiring', expires: String(Date.now() + 600_000) }, 'fresh');
    await client.roundTrip('SUBSCRIBE', { id: 's', destination: '/queue/expiring' });
    const message = await client.expect('MESSAGE');
    assert.equal(bodyText(message), 'fresh');
    const ttl = Number(message.headers.get('expiration'));
    assert.ok(ttl > 500_000 && ttl <= 600_000, `ttl ${ttl}`);
    await client.disconnect();
  });

  describe('bad input: ERROR, then close, other clients unaffected', () => {
    const cases: { name: string; frame: string | Buffer; message: string }[] = [
      { name: 'an unknown command', frame: 'FLY\ndestination:/queue/x\n\n\0', message: 'Bad command' },
      { name: 'a SEND without destination', frame: 'SEND\nreceipt:77\n\nhi\0', message: 'Missing header' },
      { name: 'a SUBSCRIBE without id', frame: 'SUBSCRIBE\ndestination:/queue/x\n\n\0', message: 'Missing header' },
      { name: 'an oversize frame', frame: Buffer.concat([Buffer.from('SEND\ndestination:/queue/x\n\n'), Buffer.alloc(100 * 1024, 0x61), Buffer.from('\0')]), message: 'Frame too large' },
      { name: 'an oversize content-length', frame: 'SEND\ndestination:/queue/x\ncontent-length:999999999\n\n', message: 'Frame too large' },
      { name: 'too many headers', frame: `SEND\ndestination:/queue/x\n${Array.from({ length: 60 }, (_, i) => `h${i}:v`).join('\n')}\n\n\0`, message: 'Too many headers' },
      { name: 'a header line too long', frame: `SEND\ndestination:/queue/x\nh:${'v'.repeat(2000)}\n\n\0`, message: 'Header too long' },
      { name: 'an undefined escape', frame: 'SEND\ndestination:/queue/x\nh:\\t\n\n\0', message: 'Malformed frame' },
      { name: 'a body longer than its content-length', frame: 'SEND\ndestination:/queue/x\ncontent-length:1\n\nabc\0', message: 'Malformed frame' },
    ];
    for (const testCase of cases) {
      it(testCase.name, async () => {
        const bystander = await StompTcpClient.connected(stomp.port);
        await bystander.roundTrip('SUBSCRIBE', { id: 's', destination: '/queue/bystander-frames' });
        const client = await StompTcpClient.connected(stomp.port);
        client.sendRaw(testCase.frame);
        const error = await client.expect('ERROR');
        assert.equal(error.headers.get('message'), testCase.message);
        assert.ok(bodyText(error).length > 0, 'the body explains');
        if (testCase.name === 'a SEND without destination') assert.equal(error.headers.get('receipt-id'), '77');
        await client.waitClosed();
        await bystander.roundTrip('SEND', { destination: '/queue/bystander-frames' }, 'fine');
        assert.equal(bodyText(await bystander.expect('MESSAGE')), 'fine');
        await bystander.disconnect();
      });
    }
  });
});
