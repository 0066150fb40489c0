/** Storage: the file and memory implementations of the LogStore and MetadataStore ports. */
export { FileLogStore, DEFAULT_SEGMENT_BYTES } from './file/file-log-store.js';
export type { FileLogStoreOptions } from './file/file-log-store.js';
export { FileMetadataStore } from './file/metadata-file.js';
export type { FileMetadataStoreOptions } from './file/metadata-file.js';
export { acquireDataDirLock, LOCK_FILE } from './file/data-dir-lock.js';
export type { DataDirLock } from './file/data-dir-lock.js';
export { MemoryLogStore } from './memory/memory-log-store.js';
export { MemoryMetadataStore } from './memory/memory-metadata-store.js';
export { SpillingLogStore } from './spilling/spilling-log-store.js';
export type { SpillingLogStoreOptions } from './spilling/spilling-log-store.js';
