/**
 * Publisher confirms hold across a crash: `courier serve` is killed with SIGKILL while an amqplib
 * confirm channel keeps publishing persistent messages to a durable queue. After a restart on the same
 * data directory, every message the broker confirmed is there, each once.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import { ChildProcesses, type LineChild } from '../support/child-process.js';
import { freePort, serveCourier } from '../support/courier-child.js';
import { within } from './amqp-harness.js';

// Compiled to dist/test/integration/: the repository root is three levels up.
const WAIT_MS = 20_000;
const QUEUE = 'crash-confirmed';
/** Confirmed messages before the kill; publishing goes on until the socket dies. */
const BEFORE_KILL = 300;


describe('AMQP: publisher confirms survive kill -9', () => {
  const children = new ChildProcesses();
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'courier-amqp-crash-'));
  });
  after(async () => {
    await children.killAll();
    await rm(root, { recursive: true, force: true });
  });

  const serve = (dataDir: string, port: number): Promise<LineChild> => serveCourier(children, dataDir, '--amqp-port', port, WAIT_MS);


  it('consumes every confirmed message after the restart', async () => {
    const dataDir = join(root, 'data');
    const port = await freePort();
    const url = `amqp://guest:guest@127.0.0.1:${port}`;
    const first = await serve(dataDir, port);

    const connection = await amqp.connect(url);
    connection.on('error', () => undefined);
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => undefined);
    await channel.assertQueue(QUEUE, { durable: true });
    const confirmed = new Set<number>();
    let dead = false;
    connection.on('close', () => {
      dead = true;
    });
    const enoughConfirmed = within(WAIT_MS, `${BEFORE_KILL} confirms`, (resolve: (value: undefined) => void) => {
      let sent = 0;
      const publishMore = (): void => {
        // Small batches, so that publishing is still going on when the broker dies.
        for (let i = 0; i < 20 && !dead; i++) {
          const index = sent++;
          channel.sendToQueue(QUEUE, Buffer.from(String(index)), { persistent: true }, (error: unknown) => {
            if (error !== null && error !== undefined) return;
            confirmed.add(index);
            if (confirmed.size === BEFORE_KILL) resolve(undefined);
          });
        }
        if (!dead) setImmediate(publishMore);
      };
      publishMore();
    });
    await enoughConfirmed;
    const exit = await first.killHard();
    assert.deepEqual(exit, { code: null, signal: 'SIGKILL' });
    await within(WAIT_MS, 'the client to see the connection drop', (resolve) => {
      if (dead) resolve(undefined);
      else connection.once('close', () => resolve(undefined));
    });
    const confirmedAtKill = new Set(confirmed);

    await serve(dataDir, port);
    const again = await amqp.connect(url);
    const reader = await again.createChannel();
    const { messageCount } = await reader.checkQueue(QUEUE);
    assert.ok(messageCount >= confirmedAtKill.size, `at least the ${confirmedAtKill.size} confirmed messages are there (found ${messageCount})`);
    const received: number[] = [];
    await reader.prefetch(500);
    await within(WAIT_MS, `${messageCount} messages`, (resolve: (value: undefined) => void) => {
      void reader.consume(QUEUE, (message) => {
        if (message === null) return;
        received.push(Number(message.content.toString()));
        reader.ack(message);
        if (received.length === messageCount) resolve(undefined);
      });
    });
    const unique = new Set(received);
    assert.equal(unique.size, received.length, 'no message twice');
    for (const index of confirmedAtKill) assert.ok(unique.has(index), `confirmed message ${index} survived`);
    await again.close();
  });
});
