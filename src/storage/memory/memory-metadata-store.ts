/** The memory implementation of the MetadataStore port; snapshots are deep copies both ways. */
import { emptySnapshot } from '../../core/ports.js';
import type { MetadataSnapshot, MetadataStore } from '../../core/ports.js';

export class MemoryMetadataStore implements MetadataStore {
  private saved: MetadataSnapshot | undefined;

  load(): Promise<MetadataSnapshot> {
    return Promise.resolve(this.saved ? structuredClone(this.saved) : emptySnapshot());
  }

  save(snapshot: MetadataSnapshot): Promise<void> {
    this.saved = structuredClone(snapshot);
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
