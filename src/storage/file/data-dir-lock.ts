/**
 * One broker process per data directory: `courier.lock` holds the owner's pid. The file is created with
 * O_EXCL, so of two processes starting together only one gets it. A lock whose pid is no longer alive is
 * stale (the owner crashed or was killed) and is taken over.
 *
 * Limits, by design of a pid file: a lock naming our own pid is treated as stale, because after a container
 * restart the new broker often gets the pid the old one had (pid 1); two processes taking over the same
 * stale lock at the same instant could both succeed; an unrelated live process that reused a dead owner's
 * pid makes the lock look held (the error names the pid so an operator can check and delete the file).
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BrokerError } from '../../core/errors.js';
import { errorCode, unlinkIfPresent } from './fs-util.js';

export const LOCK_FILE = 'courier.lock';

export interface DataDirLock {
  readonly path: string;
  /** Deletes the lock file if it is still ours. Safe to call more than once. */
  release(): Promise<void>;
}

export async function acquireDataDirLock(directory: string): Promise<DataDirLock> {
  try {
    await mkdir(directory, { recursive: true });
  } catch (error) {
    throw new BrokerError('DATA_DIR_UNUSABLE', `data directory ${directory} cannot be created: ${describe(error)}`, { directory }, { cause: error });
  }
  const path = join(directory, LOCK_FILE);
  // Two rounds: the second follows the removal of a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    if (await tryCreate(path)) return createLock(path);
    const holder = await readHolder(path);
    if (holder === 'gone') continue;
    if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
      throw new BrokerError(
        'DATA_DIR_LOCKED',
        `data directory ${directory} is in use by another Courier process (pid ${holder}); stop it or use another --data-dir`,
        { directory, pid: holder, lockFile: path },
      );
    }
    await unlinkIfPresent(path);
  }
  throw new BrokerError('DATA_DIR_LOCKED', `data directory ${directory}: another process keeps taking the lock file ${path}`, {
    directory,
    lockFile: path,
  });
}

async function tryCreate(path: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx');
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw new BrokerError('DATA_DIR_UNUSABLE', `cannot create lock file ${path}: ${describe(error)}`, { lockFile: path }, { cause: error });
  }
  try {
    await handle.writeFile(`${process.pid}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

/** The pid in the lock file; undefined when unreadable as a pid (a torn write: stale); 'gone' if deleted meanwhile. */
async function readHolder(path: string): Promise<number | undefined | 'gone'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 'gone';
    throw new BrokerError('DATA_DIR_UNUSABLE', `cannot read lock file ${path}: ${describe(error)}`, { lockFile: path }, { cause: error });
  }
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return errorCode(error) === 'EPERM';
  }
}

function createLock(path: string): DataDirLock {
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      const holder = await readHolder(path).catch(() => undefined);
      if (holder === process.pid) await rm(path, { force: true });
    },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
