/**
 * The LogStore of transient queues: logs in memory that move to files once they grow past a threshold
 * (see SpillingLog). Its directory holds only spilled transient logs, which no restart needs: it is
 * emptied when the store is created.
 */
import { rm } from 'node:fs/promises';
import type { CorruptionReport, Log, LogOptions, LogStore } from '../../core/ports.js';
import { FileLogStore } from '../file/file-log-store.js';
import { MemoryLogData } from '../memory/memory-log.js';
import { SpillingLog, SpillingLogState } from './spilling-log.js';

export interface SpillingLogStoreOptions {
  readonly directory: string;
  /** A log holding more than this many bytes in memory moves to a file. */
  readonly spillBytes: number;
  /** Segment size of the spill files; smaller frees disk sooner as a backlog drains. */
  readonly segmentBytes?: number;
  readonly onCorruption?: (report: CorruptionReport) => void;
  /** A log could not move to disk (it stays in memory, under the broker's memory alarm). */
  readonly onSpillFailure?: (name: string, error: unknown) => void;
}

/** Spill files are never synced: their records do not survive a restart anyway. */
const SPILL_OPTIONS: LogOptions = { fsync: { mode: 'never' } };

export class SpillingLogStore implements LogStore {
  private readonly states = new Map<string, SpillingLogState>();
  private readonly handles = new Map<string, Promise<SpillingLog>>();
  private readonly files: FileLogStore;

  private constructor(private readonly options: SpillingLogStoreOptions) {
    this.files = new FileLogStore({
      directory: options.directory,
      ...(options.segmentBytes === undefined ? {} : { defaultSegmentBytes: options.segmentBytes }),
      ...(options.onCorruption ? { onCorruption: options.onCorruption } : {}),
    });
  }

  /** Empties the directory (spill files of an earlier run) and returns the store. */
  static async create(options: SpillingLogStoreOptions): Promise<SpillingLogStore> {
    await rm(options.directory, { recursive: true, force: true });
    return new SpillingLogStore(options);
  }

  async open(name: string, _options: LogOptions): Promise<Log> {
    const current = this.handles.get(name);
    if (current) {
      const log = await current;
      if (!log.isClosed) return log;
    }
    let state = this.states.get(name);
    if (!state) {
      state = new SpillingLogState(new MemoryLogData());
      this.states.set(name, state);
    }
    const opening = SpillingLog.open(name, state, this.options.spillBytes, {
      openFile: (file) => {
        state.touchedDisk = true;
        return this.files.open(file, SPILL_OPTIONS);
      },
      spillFailed: (file, error) => this.options.onSpillFailure?.(file, error),
    });
    this.handles.set(name, opening);
    opening.catch(() => {
      if (this.handles.get(name) === opening) this.handles.delete(name);
    });
    return opening;
  }

  async remove(name: string): Promise<void> {
    const handle = this.handles.get(name);
    this.handles.delete(name);
    await (await handle?.catch(() => undefined))?.close();
    const state = this.states.get(name);
    this.states.delete(name);
    // Most transient logs never spill: their removal touches no file.
    if (state?.touchedDisk) await this.files.remove(name);
  }

  list(): Promise<string[]> {
    return Promise.resolve([...this.states.keys()]);
  }

  async close(): Promise<void> {
    const handles = [...this.handles.values()];
    this.handles.clear();
    for (const handle of handles) await (await handle.catch(() => undefined))?.close();
    await this.files.close();
  }
}
