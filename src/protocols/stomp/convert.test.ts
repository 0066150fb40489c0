import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMessage } from '../../core/message/message.js';
import { FrameParser } from './codec/parser.js';
import { FrameWriter } from './codec/serializer.js';
import { messageFromSend, writeMessageHeaders } from './convert.js';
import { StompProtocolError } from './errors.js';

const target = { exchange: 'amq.topic', routingKey: 'a.b' };
const headers = (pairs: [string, string][]): Map<string, string> => new Map(pairs);

describe('STOMP SEND -> core message', () => {
  it('maps properties, keeps custom headers and drops protocol ones', () => {
    const message = messageFromSend(
      headers([
        ['destination', '/topic/a.b'],
        ['receipt', 'r1'],
        ['content-length', '2'],
        ['content-type', 'application/json'],
        ['persistent', 'true'],
        ['priority', '7'],
        ['correlation-id', 'c-1'],
        ['reply-to', '/queue/replies'],
        ['amqp-message-id', 'm-1'],
        ['expiration', '60000'],
        ['x-custom', 'v'],
        ['colour', 'blue'],
      ]),
      Buffer.from('{}'),
      target,
      1000,
      undefined,
    );
    assert.equal(message.exchange, 'amq.topic');
    assert.equal(message.routingKey, 'a.b');
    assert.equal(message.persistent, true);
    assert.deepEqual(message.properties, {
      contentType: 'application/json',
      correlationId: 'c-1',
      replyTo: '/queue/replies',
      messageId: 'm-1',
      priority: 7,
      expiration: 60000,
    });
    assert.deepEqual(message.headers, { 'x-custom': 'v', colour: 'blue' });
  });

  it('turns an absolute expires into a time to live, the sooner of both winning', () => {
    assert.equal(messageFromSend(headers([['expires', '5000']]), new Uint8Array(), target, 1000, undefined).properties.expiration, 4000);
    assert.equal(messageFromSend(headers([['expires', '500']]), new Uint8Array(), target, 1000, undefined).properties.expiration, 0);
    assert.equal(messageFromSend(headers([['expires', '0']]), new Uint8Array(), target, 1000, undefined).properties.expiration, undefined);
    assert.equal(
      messageFromSend(headers([['expires', '5000'], ['expiration', '100']]), new Uint8Array(), target, 1000, undefined).properties.expiration,
      100,
    );
  });

  it('uses the rewritten reply-to and refuses malformed numbers', () => {
    const message = messageFromSend(headers([['reply-to', '/temp-queue/x']]), new Uint8Array(), target, 0, '/reply-queue/amq.gen-1');
    assert.equal(message.properties.replyTo, '/reply-queue/amq.gen-1');
    for (const [name, value] of [['priority', '256'], ['priority', 'high'], ['expiration', '-1'], ['timestamp', '1.5']] as const) {
      assert.throws(() => messageFromSend(headers([[name, value]]), new Uint8Array(), target, 0, undefined), StompProtocolError);
    }
  });
});

describe('core message -> STOMP MESSAGE headers', () => {
  it('writes properties and string forms of headers, skipping what has no STOMP form', () => {
    const message = createMessage({
      body: Buffer.from('hi'),
      persistent: true,
      properties: { contentType: 'text/plain', correlationId: 'c', replyTo: 'r', priority: 3, messageId: 'm', expiration: 10 },
      headers: { n: 42, b: true, big: 5n, bytes: Buffer.from('é'), nested: { a: 1 }, list: [1], none: null, destination: '/evil' },
    });
    const writer = new FrameWriter('1.2').start('MESSAGE').header('destination', '/queue/q');
    writeMessageHeaders(writer, message);
    const parser = new FrameParser();
    parser.push(writer.end(message.body));
    const frame = parser.next()!;
    assert.deepEqual(
      [...frame.headers],
      [
        ['destination', '/queue/q'],
        ['content-length', '2'],
        ['content-type', 'text/plain'],
        ['persistent', 'true'],
        ['priority', '3'],
        ['correlation-id', 'c'],
        ['reply-to', 'r'],
        ['expiration', '10'],
        ['amqp-message-id', 'm'],
        ['n', '42'],
        ['b', 'true'],
        ['big', '5'],
        ['bytes', 'é'],
      ],
    );
  });
});
