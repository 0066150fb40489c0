/** A broker over the file stores in one data directory, opened the way `courier serve` opens it. */
import { join } from 'node:path';
import { Broker } from '../../src/core/broker.js';
import type { FsyncPolicy, Principal } from '../../src/core/ports.js';
import { FileLogStore, FileMetadataStore, MemoryLogStore, acquireDataDirLock, type DataDirLock } from '../../src/storage/index.js';

export const benchPrincipal: Principal = { username: 'bench', tags: ['administrator'] };
export const benchConnectionInfo = { protocol: 'bench', remoteAddress: '127.0.0.1' } as const;

export interface OpenedBroker {
  readonly broker: Broker;
  readonly lock: DataDirLock;
  /** Time taken by acquiring the data-dir lock (a stale one after kill -9 is taken over). */
  readonly lockMs: number;
  /** Time taken by Broker.open: metadata load and recovery of every durable queue. */
  readonly openMs: number;
  close(): Promise<void>;
}

export async function openFileBroker(directory: string, fsync: FsyncPolicy): Promise<OpenedBroker> {
  const lockStart = performance.now();
  const lock = await acquireDataDirLock(directory);
  const openStart = performance.now();
  const broker = await Broker.open({
    logStore: new FileLogStore({
      directory: join(directory, 'logs'),
      onCorruption: (report) => {
        console.error(`storage damage: ${JSON.stringify(report)}`);
      },
    }),
    transientLogStore: new MemoryLogStore(),
    metadataStore: new FileMetadataStore({ path: join(directory, 'metadata.json') }),
    fsync,
  });
  const openEnd = performance.now();
  return {
    broker,
    lock,
    lockMs: openStart - lockStart,
    openMs: openEnd - openStart,
    async close() {
      await broker.close();
      await lock.release();
    },
  };
}
