/**
 * STOMP and the core's neutral message, both ways: what a STOMP client sends is what MQTT and AMQP
 * adapters read from the core (body bytes, headers and properties), and core messages reach STOMP
 * subscribers with their properties as STOMP headers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Delivery } from '../../src/core/channel.js';
import { createMessage } from '../../src/core/message/message.js';
import type { Principal } from '../../src/core/ports.js';
import { StompTcpClient, bodyText, startStompServer, type StompTestServer } from '../support/stomp-tcp-client.js';

const admin: Principal = { username: 'guest', tags: ['administrator'] };

describe('STOMP <-> core messages', () => {
  let stomp: StompTestServer;
  before(async () => {
    stomp = await startStompServer();
  });
  after(async () => {
    await stomp.close();
  });

  it('a SEND to /topic/a.b reaches a core queue bound to amq.topic with a.*, body and headers intact', async () => {
    const connection = stomp.server.broker.connect(admin, { protocol: 'test', remoteAddress: '127.0.0.1' });
    await connection.declareQueue({ name: 'core-side', durable: true });
    await connection.bind({ source: 'amq.topic', destination: 'core-side', destinationKind: 'queue', routingKey: 'a.*' });
    const channel = connection.openChannel();
    const deliveries: Delivery[] = [];
    let arrived: () => void = () => {};
    const first = new Promise<void>((resolve) => (arrived = resolve));
    connection.consume(channel, 'core-side', { noAck: true }, {
      deliver: (delivery) => {
        deliveries.push(delivery);
        arrived();
      },
    });

    const body = Buffer.from([0x7b, 0x00, 0x7d, 0xff]);
    const client = await StompTcpClient.connected(stomp.port);
    await client.roundTrip(
      'SEND',
      {
        destination: '/topic/a.b',
        'content-type': 'application/x-thing',
        'content-length': String(body.length),
        'correlation-id': 'corr-1',
        'reply-to': '/topic/replies',
        persistent: 'true',
        priority: '3',
        'x-tenant': 'acme',
        'odd:name': 'line\nbreak',
      },
      body,
    );
    await first;
    const message = deliveries[0]!.message;
    assert.equal(message.exchange, 'amq.topic');
    assert.equal(message.routingKey, 'a.b');
    assert.deepEqual(Buffer.from(message.body), body);
    assert.equal(message.persistent, true);
    assert.deepEqual(message.properties, { contentType: 'application/x-thing', correlationId: 'corr-1', replyTo: '/topic/replies', priority: 3 });
    assert.deepEqual(message.headers, { 'x-tenant': 'acme', 'odd:name': 'line\nbreak' });
    await client.disconnect();
    await connection.close();
  });

  it('a core message reaches a STOMP subscriber with its properties and headers as STOMP headers', async () => {
    const client = await StompTcpClient.connected(stomp.port);
    await client.roundTrip('SUBSCRIBE', { id: 'any', destination: '/topic/sensors.#' });
    const connection = stomp.server.broker.connect(admin, { protocol: 'test', remoteAddress: '127.0.0.1' });
    connection.publish(
      createMessage({
        exchange: 'amq.topic',
        routingKey: 'sensors.kitchen',
        body: Buffer.from('21.5'),
        headers: { unit: 'celsius', reading: 7, calibrated: true },
        properties: { contentType: 'text/plain', correlationId: 'k1', messageId: 'amqp-1', timestamp: 1_700_000_000_000, appId: 'thermo' },
      }),
    );
    const message = await client.expect('MESSAGE');
    assert.equal(bodyText(message), '21.5');
    assert.equal(message.headers.get('destination'), '/topic/sensors.kitchen');
    for (const [name, value] of [
      ['content-type', 'text/plain'],
      ['correlation-id', 'k1'],
      ['amqp-message-id', 'amqp-1'],
      ['timestamp', '1700000000000'],
      ['app-id', 'thermo'],
      ['unit', 'celsius'],
      ['reading', '7'],
      ['calibrated', 'true'],
    ]) {
      assert.equal(message.headers.get(name!), value, name);
    }
    await client.disconnect();
    await connection.close();
  });
});
