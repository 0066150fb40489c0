import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BrokerError } from '../core/errors.js';

function unusable(message: string, cause: unknown): BrokerError {
  return new BrokerError('DATA_DIR_UNUSABLE', message, undefined, { cause });
}

function reasonOf(error: unknown): string {
  switch ((error as NodeJS.ErrnoException | undefined)?.code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'ENOTDIR':
    case 'EEXIST':
      return 'the path (or one of its parents) is a file, not a directory';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Creates the data directory (and the given subdirectories) when missing and checks that the broker can
 * read and write it, so that a wrong path fails at start with one clear sentence rather than at the first
 * publish. Runs once at start; nothing here is on a message path.
 */
export async function prepareDataDir(path: string, subdirectories: readonly string[] = []): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
  } catch (error) {
    throw unusable(`data directory ${path} cannot be created: ${reasonOf(error)} (--data-dir)`, error);
  }
  try {
    const info = await stat(path);
    if (!info.isDirectory()) {
      throw unusable(`data directory ${path} is not usable: it is not a directory (--data-dir)`, undefined);
    }
    await access(path, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (error) {
    if (error instanceof BrokerError) throw error;
    throw unusable(`data directory ${path} is not usable: ${reasonOf(error)} (--data-dir)`, error);
  }
  for (const subdirectory of subdirectories) {
    try {
      await mkdir(join(path, subdirectory), { recursive: true });
    } catch (error) {
      throw unusable(`data directory ${path} is not usable: cannot create ${subdirectory}/: ${reasonOf(error)}`, error);
    }
  }
}
