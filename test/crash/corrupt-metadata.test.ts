/**
 * A damaged metadata file must stop the broker with a clear error naming the file: starting with empty
 * metadata would silently lose every queue, exchange and binding (and orphan their logs).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Broker } from '../../src/core/broker.js';
import { isBrokerError } from '../../src/core/errors.js';
import { encodeLogName } from '../../src/storage/file/log-name.js';
import { FileLogStore, FileMetadataStore, LOCK_FILE, MemoryLogStore } from '../../src/storage/index.js';
import { guest, textMessage } from '../support/broker-harness.js';
import { ChildProcesses } from '../support/child-process.js';
import { LOGS_DIRECTORY, METADATA_FILE } from './crash-protocol.js';
import { withBroker } from './data-dir-broker.js';

// Compiled to dist/test/crash/: the repository root is three levels up.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const courierBin = join(repoRoot, 'bin', 'courier.js');
const allListenersOff = ['--mqtt-port', '0', '--amqp-port', '0', '--stomp-port', '0', '--kafka-port', '0', '--http-port', '0'];

type Damage = 'garbage' | 'truncated';

function assertMetadataCorrupt(error: unknown, path: string): true {
  assert.ok(isBrokerError(error, 'METADATA_CORRUPT'), `expected METADATA_CORRUPT, got ${String(error)}`);
  assert.ok(error.message.includes(path), `the message names the file: ${error.message}`);
  assert.equal(error.details?.path, path);
  return true;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('COURIER_')) env[name] = value;
  return env;
}

describe('crash: corrupt metadata file', () => {
  const children = new ChildProcesses();
  let root = '';
  let cases = 0;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'courier-metadata-'));
  });
  after(async () => {
    await children.killAll();
    await rm(root, { recursive: true, force: true });
  });

  /** A data dir whose metadata file held a durable queue with a message, then was damaged. Returns its path and bytes. */
  async function damagedDataDir(damage: Damage): Promise<{ dataDir: string; path: string; bytes: Buffer }> {
    const dataDir = join(root, `case-${cases++}`);
    await mkdir(dataDir, { recursive: true });
    const path = join(dataDir, METADATA_FILE);
    await withBroker(dataDir, async (broker) => {
      const connection = broker.connect(guest, { protocol: 'crash-test', remoteAddress: '127.0.0.1' });
      await connection.declareQueue({ name: 'kept', durable: true });
      await connection.declareExchange({ name: 'events', type: 'topic', durable: true });
      await connection.publish(textMessage('kept', { routingKey: 'kept', persistent: true })).durable;
    });
    if (damage === 'garbage') {
      // Not UTF-8, not JSON: what a disk error or a stray write leaves.
      await writeFile(path, randomBytes(512));
    } else {
      const whole = await readFile(path);
      await truncate(path, Math.floor(whole.length / 2));
    }
    return { dataDir, path, bytes: await readFile(path) };
  }

  for (const damage of ['garbage', 'truncated'] as const) {
    it(`a ${damage} metadata file makes load and Broker.open fail with METADATA_CORRUPT naming the file`, async () => {
      const { dataDir, path, bytes } = await damagedDataDir(damage);
      await assert.rejects(new FileMetadataStore({ path }).load(), (error) => assertMetadataCorrupt(error, path));
      await assert.rejects(
        Broker.open({
          logStore: new FileLogStore({ directory: join(dataDir, LOGS_DIRECTORY) }),
          transientLogStore: new MemoryLogStore(),
          metadataStore: new FileMetadataStore({ path }),
        }),
        (error) => assertMetadataCorrupt(error, path),
      );
      assert.deepEqual(await readFile(path), bytes, 'the damaged file is left as it was, for the operator');
      assert.ok(await exists(join(dataDir, LOGS_DIRECTORY, encodeLogName('kept').directory)), 'the queue log is not removed as an orphan');
    });

    it(`courier serve on a data dir with a ${damage} metadata file exits 1 with one clear line`, async () => {
      const { dataDir, path, bytes } = await damagedDataDir(damage);
      const run = children.node(courierBin, ['serve', '--data-dir', dataDir, ...allListenersOff], { cwd: repoRoot, env: cleanEnv() });
      const exit = await run.waitForExit();
      assert.deepEqual(exit, { code: 1, signal: null }, run.stderr);
      const lines = run.stderr.split('\n');
      assert.equal(lines.length, 2, `exactly one line on stderr: ${JSON.stringify(run.stderr)}`);
      assert.equal(lines[1], '');
      assert.match(lines[0]!, new RegExp(`^courier: metadata file ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is damaged \\(.+\\); refusing to start`));
      assert.deepEqual(await readFile(path), bytes, 'the damaged file is left as it was');
      assert.equal(await exists(join(dataDir, LOCK_FILE)), false, 'the lock is released after the failed start');
    });
  }
});
