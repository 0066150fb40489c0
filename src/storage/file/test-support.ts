/** Helpers for the file store's tests: temporary directories and store fixtures. */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CorruptionReport } from '../../core/ports.js';
import type { LogStoreFixture } from '../log-store.contract.js';
import { FileLogStore } from './file-log-store.js';
import type { FileLogStoreOptions } from './file-log-store.js';
import { encodeLogName } from './log-name.js';

export async function makeTempDir(prefix = 'courier-storage-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

export interface FileFixture extends LogStoreFixture {
  readonly directory: string;
  readonly reports: CorruptionReport[];
  /** Directory of one log. */
  logDirectory(name: string): string;
  /** Segment files of one log, in offset order. */
  segmentFiles(name: string): Promise<string[]>;
}

export async function fileFixture(options: Partial<FileLogStoreOptions> = {}): Promise<FileFixture> {
  const directory = await makeTempDir();
  const reports: CorruptionReport[] = [];
  const make = (): FileLogStore => new FileLogStore({ directory, onCorruption: (report) => reports.push(report), ...options });
  let store = make();
  const fixture: FileFixture = {
    get store() {
      return store;
    },
    directory,
    reports,
    async reopen() {
      await store.close();
      store = make();
      return store;
    },
    async cleanup() {
      await store.close();
      await removeDir(directory);
    },
    logDirectory: (name) => join(directory, encodeLogName(name).directory),
    async segmentFiles(name) {
      const files = await readdir(fixture.logDirectory(name));
      return files
        .filter((file) => file.endsWith('.log'))
        .sort()
        .map((file) => join(fixture.logDirectory(name), file));
    },
  };
  return fixture;
}
