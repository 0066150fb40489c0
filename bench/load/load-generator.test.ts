import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { generate, parser as createParser } from 'mqtt-packet';
import { PUBLISHER_SCRIPT, createPublisher, type PublisherReport } from './mqtt-publisher.js';
import { SUBSCRIBER_SCRIPT, createSubscriber, type SubscriberReport } from './mqtt-subscriber.js';
import { WorkerProcess } from './worker-process.js';

interface FakeBroker {
  readonly port: number;
  /** Most QoS 1 publishes the broker held unacknowledged at once (it acknowledges on a later turn). */
  readonly maxUnacked: () => number;
  /** PUBACKs received from subscribers. */
  readonly subscriberAcks: () => number;
  close(): Promise<void>;
}

/** A minimal MQTT 3.1.1 broker on mqtt-packet (an independent codec): routes exact topics, acks late. */
async function startFakeBroker(): Promise<FakeBroker> {
  const subscribers: { socket: Socket; qos: number; nextId: number }[] = [];
  const sockets = new Set<Socket>();
  let unacked = 0;
  let maxUnacked = 0;
  let subscriberAcks = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const parser = createParser({ protocolVersion: 4 });
    parser.on('packet', (packet) => {
      if (packet.cmd === 'connect') socket.write(generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }));
      else if (packet.cmd === 'subscribe') {
        for (const subscription of packet.subscriptions) subscribers.push({ socket, qos: subscription.qos, nextId: 1 });
        socket.write(generate({ cmd: 'suback', messageId: packet.messageId!, granted: packet.subscriptions.map((s) => s.qos) }));
      } else if (packet.cmd === 'publish') {
        for (const subscriber of subscribers) {
          const qos = Math.min(packet.qos, subscriber.qos) as 0 | 1;
          const messageId = qos > 0 ? subscriber.nextId : undefined;
          if (qos > 0) subscriber.nextId = (subscriber.nextId % 65_535) + 1;
          subscriber.socket.write(generate({ cmd: 'publish', topic: packet.topic, payload: packet.payload, qos, retain: false, dup: false, ...(messageId ? { messageId } : {}) }));
        }
        if (packet.qos === 1) {
          unacked += 1;
          maxUnacked = Math.max(maxUnacked, unacked);
          const id = packet.messageId!;
          setImmediate(() => {
            unacked -= 1;
            socket.write(generate({ cmd: 'puback', messageId: id }));
          });
        }
      } else if (packet.cmd === 'puback') subscriberAcks += 1;
      else if (packet.cmd === 'disconnect') socket.end();
    });
    socket.on('data', (chunk: Buffer) => parser.parse(chunk));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    maxUnacked: () => maxUnacked,
    subscriberAcks: () => subscriberAcks,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test('QoS 1 throughput: every message reaches every subscriber once, within the publisher window', async () => {
  const broker = await startFakeBroker();
  try {
    const subscriber = await createSubscriber({
      host: '127.0.0.1', port: broker.port, clientIdPrefix: 's', connections: 2, topic: 'bench/t', qos: 1,
      bodyBytes: 100, expectedPerConnection: 3000, idleMs: 5000,
    });
    const publisher = await createPublisher({
      host: '127.0.0.1', port: broker.port, clientId: 'p', topic: 'bench/t', qos: 1, bodyBytes: 100, messages: 3000, window: 300,
    });
    subscriber.go();
    publisher.go();
    const published = await publisher.result;
    const received = await subscriber.result;
    assert.equal(published.sent, 3000);
    assert.equal(published.acked, 3000);
    assert.ok(published.endNs > published.startNs);
    assert.ok(broker.maxUnacked() <= 300, `broker held ${broker.maxUnacked()} unacknowledged`);
    assert.ok(broker.maxUnacked() > 1, 'the publisher pipelines');
    assert.equal(received.received, 6000);
    assert.equal(received.perConnectionMin, 3000);
    assert.equal(received.badBodies, 0);
    assert.equal(received.timedOut, false);
    await publisher.close();
    await subscriber.close();
    assert.equal(broker.subscriberAcks(), 6000);
  } finally {
    await broker.close();
  }
});

test('paced QoS 1: latency from the schedule covers every message after the warm-up', async () => {
  const broker = await startFakeBroker();
  try {
    const subscriber = await createSubscriber({
      host: '127.0.0.1', port: broker.port, clientIdPrefix: 's', connections: 1, topic: 'bench/l', qos: 1,
      bodyBytes: 16, expectedPerConnection: 400, idleMs: 5000, latency: { warmupMessages: 100 },
    });
    const publisher = await createPublisher({
      host: '127.0.0.1', port: broker.port, clientId: 'p', topic: 'bench/l', qos: 1, bodyBytes: 16, messages: 400, window: 100, ratePerSecond: 2000,
    });
    subscriber.go();
    publisher.go();
    const published = await publisher.result;
    const received = await subscriber.result;
    // 400 messages at 2,000/s take at least 0.2 s on the schedule, however fast the broker.
    assert.ok(published.endNs - published.startNs >= 0.19e9, `took ${(published.endNs - published.startNs) / 1e6} ms`);
    const due = received.latencyFromDue!;
    const written = received.latencyFromWrite!;
    assert.equal(due.count, 300);
    assert.equal(written.count, 300);
    assert.ok(due.p50 > 0 && due.p50 >= written.p50, 'a message is written at or after it is due');
    assert.ok(due.max >= due.p999 && due.p999 >= due.p99 && due.p99 >= due.p50);
    await publisher.close();
    await subscriber.close();
  } finally {
    await broker.close();
  }
});

test('QoS 0 through forked worker processes: ready, go, publishers-done, report, exit', async () => {
  const broker = await startFakeBroker();
  try {
    const subscriber = new WorkerProcess<SubscriberReport>(
      SUBSCRIBER_SCRIPT,
      { host: '127.0.0.1', port: broker.port, clientIdPrefix: 'ws', connections: 1, topic: 'bench/w', qos: 0, bodyBytes: 16, expectedPerConnection: 20_000, idleMs: 2000 },
      'subscriber',
    );
    await subscriber.ready;
    const publisher = new WorkerProcess<PublisherReport>(
      PUBLISHER_SCRIPT,
      { host: '127.0.0.1', port: broker.port, clientId: 'wp', topic: 'bench/w', qos: 0, bodyBytes: 16, messages: 20_000, window: 1 },
      'publisher',
    );
    await publisher.ready;
    subscriber.go();
    publisher.go();
    const published = await publisher.done;
    subscriber.publishersDone();
    const received = await subscriber.done;
    assert.equal(published.sent, 20_000);
    assert.equal(received.received, 20_000);
    assert.ok(received.cpuUserMicros + received.cpuSystemMicros > 0);
    await Promise.all([publisher.exited, subscriber.exited]);
  } finally {
    await broker.close();
  }
});
