/**
 * Transient queues keep a backlog on disk (docs/architecture.md): past 4 MiB in memory a transient
 * queue's log moves to data/transient, and the broker's memory no longer holds the messages.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import { startServer, transientDirectoryName, type ServerHandle } from '../../src/server/server.js';
import { testServerConfig } from '../support/server-config.js';
import { until } from '../support/until.js';

const MESSAGES = 400;
const BODY_BYTES = 32 * 1024;

describe('transient queue backlog moves to disk', () => {
  let server: ServerHandle;
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'courier-spill-'));
    server = await startServer(testServerConfig(dataDir, { amqpPort: 0 }), { version: 'test' });
  });
  after(async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps 12.5 MiB of a transient queue on disk, delivers it in order, and deletes the files with the queue', async () => {
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${server.addresses.amqp!.port}`);
    try {
      const channel = await connection.createConfirmChannel();
      await channel.assertQueue('backlog', { durable: false });
      for (let i = 0; i < MESSAGES; i++) {
        const body = Buffer.alloc(BODY_BYTES, i % 251);
        body.writeUInt32BE(i, 0);
        channel.sendToQueue('backlog', body);
      }
      await channel.waitForConfirms();
      const queue = server.broker.getQueue('backlog')!;
      assert.equal(queue.messageCount, MESSAGES);
      // The move and the file writes finish shortly after the confirms (nothing waits for them).
      await until(() => queue.memoryBytes < 1024 * 1024, 'the queue to hold less than 1 MiB in memory');
      assert.ok(queue.storedBytes > MESSAGES * BODY_BYTES, 'the backlog is in the log');
      assert.deepEqual((await readdir(join(dataDir, transientDirectoryName))).length, 1, 'one spilled log');

      const received: number[] = [];
      await channel.prefetch(50);
      await new Promise<void>((resolve, reject) => {
        void channel.consume('backlog', (message) => {
          if (!message) return;
          const index = message.content.readUInt32BE(0);
          if (message.content.length !== BODY_BYTES || message.content[BODY_BYTES - 1] !== index % 251) reject(new Error(`message ${index} damaged`));
          received.push(index);
          channel.ack(message);
          if (received.length === MESSAGES) resolve();
        });
      });
      assert.deepEqual(received, Array.from({ length: MESSAGES }, (_, i) => i));
      await channel.deleteQueue('backlog');
      assert.deepEqual(await readdir(join(dataDir, transientDirectoryName)), []);
    } finally {
      await connection.close();
    }
  });
});
