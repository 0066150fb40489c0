/**
 * amqp-connection-manager (the reconnecting wrapper NestJS and many apps use over amqplib) against Courier:
 * setup functions, confirmed publishes, consumers, and reconnection across a broker restart on the same port.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { connect, type AmqpConnectionManager, type ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConsumeMessage } from 'amqplib';
import { createAmqpAdapterFactory } from '../../src/protocols/amqp/index.js';
import { startServer, type ServerHandle } from '../../src/server/server.js';
import { testServerConfig } from '../support/server-config.js';

const WAIT_MS = 10_000;

function startCourier(dataDir: string, amqpPort: number): Promise<ServerHandle> {
  return startServer(testServerConfig(dataDir, { amqpPort }), { protocolAdapters: [createAmqpAdapterFactory({ closeTimeoutMs: 500 })], version: 'test' });
}

/** Bodies received on a queue, with a bounded wait for a given body to show up. */
function inbox(): { bodies: string[]; push(body: string): void; waitFor(body: string): Promise<void> } {
  const bodies: string[] = [];
  const waiters: (() => void)[] = [];
  return {
    bodies,
    push(body) {
      bodies.push(body);
      for (const waiter of waiters.splice(0)) waiter();
    },
    waitFor(body) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${body} (got ${bodies.join(', ')})`)), WAIT_MS);
        const check = (): void => {
          if (bodies.includes(body)) {
            clearTimeout(timer);
            resolve();
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

/** Resolves on the manager's `count`-th `connect` event (counting from when the counter was made). */
function connectCounter(manager: AmqpConnectionManager): (count: number) => Promise<void> {
  let connects = 0;
  const waiters: (() => void)[] = [];
  manager.on('connect', () => {
    connects += 1;
    for (const waiter of waiters.splice(0)) waiter();
  });
  return (count) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for connect #${count} (saw ${connects})`)), WAIT_MS);
      const check = (): void => {
        if (connects >= count) {
          clearTimeout(timer);
          resolve();
        } else waiters.push(check);
      };
      check();
    });
}

test('amqp-connection-manager publishes, consumes and reconnects by itself across a Courier restart', { timeout: 30_000 }, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'courier-acm-'));
  let server = await startCourier(dataDir, 0);
  const port = server.addresses.amqp!.port;
  const manager = connect([`amqp://guest:guest@127.0.0.1:${port}`], { reconnectTimeInSeconds: 0.05, heartbeatIntervalInSeconds: 5 });
  const connected = connectCounter(manager);
  let wrapper: ChannelWrapper | undefined;
  try {
    wrapper = manager.createChannel({
      confirm: true,
      setup: async (channel: Channel) => {
        await channel.assertQueue('acm-live', { durable: true });
        await channel.assertQueue('acm-parked', { durable: true });
      },
    });
    await wrapper.waitForConnect();
    await connected(1);

    const live = inbox();
    const channel = wrapper;
    await wrapper.consume('acm-live', (message: ConsumeMessage) => {
      live.push(message.content.toString());
      channel.ack(message);
    });
    // Resolves only once Courier has confirmed the publish.
    await wrapper.sendToQueue('acm-live', Buffer.from('before-restart'), { persistent: true });
    await live.waitFor('before-restart');
    // The ack went out on this channel before check-queue; its reply means Courier has processed the ack, so the
    // restart cannot redeliver this message.
    assert.equal((await wrapper.checkQueue('acm-live')).messageCount, 0);

    // Nobody consumes this queue until after the restart: the message must survive it on disk.
    await wrapper.sendToQueue('acm-parked', Buffer.from('parked'), { persistent: true });

    await server.close();
    server = await startCourier(dataDir, port);
    await connected(2);

    await wrapper.sendToQueue('acm-live', Buffer.from('after-restart'), { persistent: true });
    await live.waitFor('after-restart');
    assert.deepEqual(live.bodies, ['before-restart', 'after-restart']);

    const parked = inbox();
    await wrapper.consume('acm-parked', (message: ConsumeMessage) => {
      parked.push(message.content.toString());
      channel.ack(message);
    });
    await parked.waitFor('parked');
    assert.deepEqual(parked.bodies, ['parked']);
  } finally {
    await wrapper?.close();
    await manager.close();
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
