import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isBrokerError } from '../../core/errors.js';
import { LOCK_FILE, acquireDataDirLock } from './data-dir-lock.js';
import { makeTempDir, removeDir } from './test-support.js';

async function withDir(body: (directory: string) => Promise<void>): Promise<void> {
  const directory = await makeTempDir('courier-lock-');
  try {
    await body(directory);
  } finally {
    await removeDir(directory);
  }
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  const pid = child.pid!;
  await once(child, 'exit');
  return pid;
}

describe('data directory lock', () => {
  it('creates the directory and a lock file with our pid, removed on release', () =>
    withDir(async (parent) => {
      const directory = join(parent, 'data');
      const lock = await acquireDataDirLock(directory);
      assert.equal(lock.path, join(directory, LOCK_FILE));
      assert.equal((await readFile(lock.path, 'utf8')).trim(), String(process.pid));
      await lock.release();
      await lock.release();
      await assert.rejects(stat(lock.path), { code: 'ENOENT' });
    }));

  it('refuses a directory locked by a live process and names its pid', () =>
    withDir(async (directory) => {
      // Our parent process (the test runner) is alive and is not us.
      await writeFile(join(directory, LOCK_FILE), `${process.ppid}\n`);
      await assert.rejects(acquireDataDirLock(directory), (error) => {
        assert.ok(isBrokerError(error, 'DATA_DIR_LOCKED'));
        assert.equal(error.details?.['pid'], process.ppid);
        assert.match(error.message, new RegExp(`pid ${process.ppid}`));
        return true;
      });
      assert.equal((await readFile(join(directory, LOCK_FILE), 'utf8')).trim(), String(process.ppid));
    }));

  it('takes over a stale lock of a dead process or an unreadable lock file', () =>
    withDir(async (directory) => {
      for (const content of [`${await deadPid()}\n`, 'not a pid', '']) {
        await writeFile(join(directory, LOCK_FILE), content);
        const lock = await acquireDataDirLock(directory);
        assert.equal((await readFile(lock.path, 'utf8')).trim(), String(process.pid));
        await lock.release();
      }
    }));

  it('does not delete a lock that another process took after us', () =>
    withDir(async (directory) => {
      const lock = await acquireDataDirLock(directory);
      await writeFile(lock.path, `${process.ppid}\n`);
      await lock.release();
      assert.equal((await readFile(lock.path, 'utf8')).trim(), String(process.ppid));
    }));

  it('reports an unusable data directory', () =>
    withDir(async (directory) => {
      const file = join(directory, 'file');
      await writeFile(file, '');
      await assert.rejects(acquireDataDirLock(join(file, 'data')), (error) => isBrokerError(error, 'DATA_DIR_UNUSABLE'));
    }));
});
