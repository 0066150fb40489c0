/** Small file-system helpers shared by the log, the metadata file and the lock. */
import { open, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { BrokerError } from '../../core/errors.js';

/** Writes `length` bytes of `buffer` at `position`, looping over short writes. */
export async function writeAll(handle: FileHandle, buffer: Buffer, length: number, position: number): Promise<void> {
  let written = 0;
  while (written < length) {
    const { bytesWritten } = await handle.write(buffer, written, length - written, position + written);
    written += bytesWritten;
  }
}

/** Reads up to `length` bytes at `position`, looping over short reads; returns how many were read. */
export async function readFully(handle: FileHandle, buffer: Buffer, length: number, position: number): Promise<number> {
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/** fsync of a directory makes file creations, renames and deletions in it durable. */
export async function syncDirectory(path: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    await handle.sync();
  } catch (error) {
    // Some platforms (Windows) cannot open or sync a directory; there is nothing more to do there.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') {
      throw ioError(`syncing directory ${path}`, error);
    }
  } finally {
    await handle?.close();
  }
}

export async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
}

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

export function ioError(what: string, error: unknown, details: Record<string, unknown> = {}): BrokerError {
  return new BrokerError(
    'STORAGE_IO',
    `${what} failed: ${error instanceof Error ? error.message : String(error)}`,
    details,
    { cause: error },
  );
}
