/**
 * `courier serve` is killed with SIGKILL while QoS 1 messages are in flight to a persistent-session MQTT
 * subscriber that has not acknowledged them. After a restart on the same data directory the subscriber
 * reconnects with the same client identifier: every message whose PUBLISH got a PUBACK arrives, those that
 * were in flight with DUP set, none lost.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectAsync } from 'mqtt';
import { generate, parser, type IPublishPacket, type Packet } from 'mqtt-packet';
import { ChildProcesses, type LineChild } from '../support/child-process.js';
import { freePort, serveCourier } from '../support/courier-child.js';

// Compiled to dist/test/crash/: the repository root is three levels up.
const WAIT_MS = 20_000;
const MESSAGES = 300;
const CLIENT_ID = 'crash-subscriber';
const TOPIC = 'crash/kill';


/** A raw 3.1.1 subscriber: the real client acknowledges every message, this one only when told to. */
class RawSubscriber {
  readonly packets: Packet[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly decoder = parser({ protocolVersion: 4 });

  private constructor(
    private readonly socket: Socket,
    private readonly ack: boolean,
  ) {
    this.decoder.on('packet', (packet: Packet) => {
      this.packets.push(packet);
      if (this.ack && packet.cmd === 'publish' && packet.qos === 1) this.send({ cmd: 'puback', messageId: packet.messageId! });
      for (const waiter of this.waiters) waiter();
    });
    socket.on('data', (chunk: Buffer) => this.decoder.parse(chunk));
    socket.on('error', () => undefined);
  }

  /** Connects with clean session 0 and the fixed client identifier. */
  static async connect(port: number, ack: boolean): Promise<RawSubscriber> {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    const subscriber = new RawSubscriber(socket, ack);
    subscriber.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: false, clientId: CLIENT_ID, keepalive: 0 });
    return subscriber;
  }

  send(packet: Packet): void {
    this.socket.write(generate(packet, { protocolVersion: 4 }));
  }

  get publishes(): IPublishPacket[] {
    return this.packets.filter((packet): packet is IPublishPacket => packet.cmd === 'publish');
  }

  waitUntil(condition: () => boolean, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}`));
      }, WAIT_MS);
      this.waiters.add(check);
      check();
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

const indexOf = (packet: IPublishPacket): number => Number(Buffer.from(packet.payload).toString('utf8'));

describe('crash: SIGKILL with MQTT QoS 1 messages in flight', () => {
  const children = new ChildProcesses();
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'courier-mqtt-crash-'));
  });
  after(async () => {
    await children.killAll();
    await rm(root, { recursive: true, force: true });
  });

  const serve = (dataDir: string, port: number): Promise<LineChild> => serveCourier(children, dataDir, '--mqtt-port', port, WAIT_MS);


  it('redelivers every PUBACKed message to the persistent session after a restart', async () => {
    const dataDir = join(root, 'data');
    const port = await freePort();
    const first = await serve(dataDir, port);

    const subscriber = await RawSubscriber.connect(port, false);
    await subscriber.waitUntil(() => subscriber.packets.some((packet) => packet.cmd === 'connack'), 'the CONNACK');
    subscriber.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: TOPIC, qos: 1 }] });
    await subscriber.waitUntil(() => subscriber.packets.some((packet) => packet.cmd === 'suback'), 'the SUBACK');

    const publisher = await connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: WAIT_MS, clientId: 'crash-publisher' });
    // publishAsync resolves on the PUBACK: each of these is acknowledged by the broker.
    await Promise.all(Array.from({ length: MESSAGES }, (_, i) => publisher.publishAsync(TOPIC, String(i), { qos: 1 })));
    // The broker's in-flight window (100) holds messages the subscriber never acknowledges.
    await subscriber.waitUntil(() => subscriber.publishes.length >= 50, 'deliveries in flight');
    const inFlight = new Set(subscriber.publishes.map(indexOf));
    assert.ok(subscriber.publishes.every((packet) => packet.qos === 1 && !packet.dup));

    const exit = await first.killHard();
    assert.deepEqual(exit, { code: null, signal: 'SIGKILL' });
    subscriber.destroy();
    await publisher.endAsync(true);

    await serve(dataDir, port);
    const resumed = await RawSubscriber.connect(port, true);
    await resumed.waitUntil(() => resumed.packets.some((packet) => packet.cmd === 'connack'), 'the CONNACK after the restart');
    const connack = resumed.packets.find((packet) => packet.cmd === 'connack');
    assert.ok(connack?.cmd === 'connack' && connack.returnCode === 0 && connack.sessionPresent, 'the session survived the crash');

    const received = (): Set<number> => new Set(resumed.publishes.map(indexOf));
    await resumed.waitUntil(() => received().size >= MESSAGES, `all ${MESSAGES} messages (got ${received().size})`);
    for (let i = 0; i < MESSAGES; i++) assert.ok(received().has(i), `message ${i} arrived`);
    for (const packet of resumed.publishes) {
      if (inFlight.has(indexOf(packet))) assert.equal(packet.dup, true, `message ${indexOf(packet)} was in flight: DUP is set`);
    }
    resumed.destroy();
  });
});
