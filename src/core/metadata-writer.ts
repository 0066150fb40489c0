import type { MetadataSnapshot, MetadataStore } from './ports.js';

/**
 * Coalesces metadata saves: any number of changes made while a save runs are covered by one more save
 * of the then-current snapshot. Every caller's promise resolves once a save that includes its change is
 * durable, so a declare is answered only after its definition would survive a crash.
 */
export class MetadataWriter {
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;

  constructor(
    private readonly store: MetadataStore,
    private readonly snapshot: () => MetadataSnapshot,
  ) {}

  save(): Promise<void> {
    if (!this.running) {
      this.running = this.run();
      return this.running;
    }
    this.next ??= this.running.then(
      () => this.startNext(),
      () => this.startNext(),
    );
    return this.next;
  }

  private startNext(): Promise<void> {
    this.next = undefined;
    this.running = this.run();
    return this.running;
  }

  private async run(): Promise<void> {
    try {
      await this.store.save(this.snapshot());
    } finally {
      this.running = undefined;
    }
  }

  /** Waits for the saves in flight. */
  async idle(): Promise<void> {
    while (this.running || this.next) await (this.next ?? this.running)?.catch(() => {});
  }
}
