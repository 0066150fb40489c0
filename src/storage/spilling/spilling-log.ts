/**
 * A log for transient queues: records stay in memory while the log is small (most transient queues
 * are drained as fast as they fill), and the whole log moves to a file log (no fsync: nothing of it
 * outlives the process) once it holds more than the spill threshold. So a backlog in a transient queue
 * lives on disk, as durable ones do, and the process's memory does not grow with it.
 *
 * Offsets stay continuous across the move: the file log numbers its records from 0, and `base` maps
 * them onto this log's offsets.
 */
import { BrokerError } from '../../core/errors.js';
import type { Log, LogRecord } from '../../core/ports.js';
import { MemoryLog, type MemoryLogData } from '../memory/memory-log.js';

/** What outlives the handles opened on one log, as files do: its memory records or its file. */
export class SpillingLogState {
  /** Offset of the file log's record 0; set once the log spilled. */
  base = 0;
  spilled = false;
  /** A file was opened for it (even if the move then failed): removing the log deletes the file. */
  touchedDisk = false;
  constructor(readonly memory: MemoryLogData) {}
}

export interface SpillTarget {
  /** Opens the (empty) file log this log moves to. */
  openFile(name: string): Promise<Log>;
  /** The move failed: the log stays in memory (bounded by the broker's memory alarm). */
  spillFailed(name: string, error: unknown): void;
}

export class SpillingLog implements Log {
  private memory: MemoryLog | undefined;
  private file: Log | undefined;
  private spilling: Promise<void> | undefined;
  private spillFailed = false;
  private closed = false;

  /** Use `SpillingLog.open`: a spilled log must reopen its file first. */
  private constructor(
    readonly name: string,
    private readonly state: SpillingLogState,
    private readonly spillBytes: number,
    private readonly target: SpillTarget,
  ) {}

  static async open(name: string, state: SpillingLogState, spillBytes: number, target: SpillTarget): Promise<SpillingLog> {
    const log = new SpillingLog(name, state, spillBytes, target);
    if (state.spilled) log.file = await target.openFile(name);
    else log.memory = new MemoryLog(name, state.memory);
    return log;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get isSpilled(): boolean {
    return this.file !== undefined;
  }

  get startOffset(): number {
    return this.file ? this.file.startOffset + this.state.base : this.memory!.startOffset;
  }

  get endOffset(): number {
    return this.file ? this.file.endOffset + this.state.base : this.memory!.endOffset;
  }

  get sizeBytes(): number {
    return this.file ? this.file.sizeBytes : this.memory!.sizeBytes;
  }

  get memoryBytes(): number {
    return this.file ? this.file.memoryBytes : this.memory!.memoryBytes;
  }

  append(kind: number, timestamp: number, payload: Uint8Array): number {
    if (this.file) return this.file.append(kind, timestamp, payload) + this.state.base;
    const memory = this.memory!;
    const offset = memory.append(kind, timestamp, payload);
    if (memory.sizeBytes > this.spillBytes && !this.spilling && !this.spillFailed) this.spill();
    return offset;
  }

  flush(): Promise<void> {
    return this.file ? this.file.flush() : this.memory!.flush();
  }

  async read(from: number, maxRecords: number, maxBytes: number): Promise<LogRecord[]> {
    if (!this.file) return this.memory!.read(from, maxRecords, maxBytes);
    const base = this.state.base;
    const records = await this.file.read(Math.max(0, from - base), maxRecords, maxBytes);
    // The file log made these objects for this call: renumbering them in place costs no allocation.
    for (const record of records) (record as { offset: number }).offset += base;
    return records;
  }

  scan(from: number, visit: (record: LogRecord) => void): Promise<void> {
    if (!this.file) return this.memory!.scan(from, visit);
    const base = this.state.base;
    // The visited record may be reused by the file log: pass a renumbered copy.
    return this.file.scan(Math.max(0, from - base), (record) =>
      visit({ offset: record.offset + base, kind: record.kind, timestamp: record.timestamp, payload: record.payload }),
    );
  }

  async offsetForTimestamp(timestamp: number): Promise<number> {
    if (!this.file) return this.memory!.offsetForTimestamp(timestamp);
    return (await this.file.offsetForTimestamp(timestamp)) + this.state.base;
  }

  truncateBefore(offset: number): Promise<void> {
    if (!this.file) return this.memory!.truncateBefore(offset);
    return this.file.truncateBefore(Math.max(0, offset - this.state.base));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A move under way finishes first, so the state says truthfully where the records are.
    await this.spilling;
    await this.memory?.close();
    await this.file?.close();
  }

  /**
   * Opens the file log, then copies every record still in memory into it in one synchronous step and
   * switches over. Appends meanwhile go to memory and are copied with the rest, so nothing is lost or
   * reordered; reads of the memory log complete synchronously, so none straddles the switch.
   */
  private spill(): void {
    this.spilling = this.target
      .openFile(this.name)
      .then(async (file) => {
        const memory = this.memory!;
        if (file.endOffset !== 0) {
          await file.close();
          throw new BrokerError('INTERNAL', `spill file of log ${JSON.stringify(this.name)} is not empty`);
        }
        let failure: unknown;
        // A memory log visits synchronously: the copy and the switch below happen in one step.
        void memory.scan(memory.startOffset, (record) => {
          if (failure !== undefined) return;
          try {
            file.append(record.kind, record.timestamp, record.payload);
          } catch (error) {
            failure = error;
          }
        });
        if (failure !== undefined) {
          await file.close();
          throw failure instanceof Error ? failure : new BrokerError('STORAGE_IO', `copying log ${JSON.stringify(this.name)} to disk failed`);
        }
        this.state.base = memory.startOffset;
        this.state.spilled = true;
        this.file = file;
        this.memory = undefined;
        // The records live in the file now: let the memory copies go.
        const data = this.state.memory;
        data.records = [];
        data.head = 0;
        data.sizeBytes = 0;
      })
      .catch((error: unknown) => {
        this.spillFailed = true;
        this.target.spillFailed(this.name, error);
      });
  }
}
