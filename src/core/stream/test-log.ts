/**
 * Test support only (imported by tests, never by production code): an array-backed `Log` with segments,
 * so core tests need no storage implementation. Reads resolve on a later turn, as real I/O does.
 */
import { BrokerError } from '../errors.js';
import type { Log, LogRecord } from '../ports.js';

/** Framing bytes counted per record in `sizeBytes`, like a real log's header. */
export const TEST_RECORD_OVERHEAD = 16;

interface Segment {
  readonly base: number;
  readonly records: LogRecord[];
  bytes: number;
}

export interface ArrayLogOptions {
  readonly name?: string;
  /** A segment rolls once it holds this many bytes (payload + overhead). */
  readonly segmentBytes?: number;
  /** Offset of the first record, to model a log whose head was truncated before. */
  readonly startOffset?: number;
}

export class ArrayLog implements Log {
  readonly name: string;
  private readonly segmentBytes: number;
  private segments: Segment[];
  private next: number;
  private closed = false;
  /** Every read asked of the log, for tests that check batching. */
  readonly reads: Array<{ from: number; maxRecords: number; returned: number }> = [];
  flushes = 0;

  constructor(options: ArrayLogOptions = {}) {
    this.name = options.name ?? 'test-log';
    this.segmentBytes = options.segmentBytes ?? Infinity;
    this.next = options.startOffset ?? 0;
    this.segments = [{ base: this.next, records: [], bytes: 0 }];
  }

  get startOffset(): number {
    return this.segments[0]!.base;
  }

  get endOffset(): number {
    return this.next;
  }

  get memoryBytes(): number {
    return this.sizeBytes;
  }

  get sizeBytes(): number {
    let total = 0;
    for (const segment of this.segments) total += segment.bytes;
    return total;
  }

  /** Base offsets of the segments, oldest first. */
  get segmentBases(): number[] {
    return this.segments.map((segment) => segment.base);
  }

  append(kind: number, timestamp: number, payload: Uint8Array): number {
    this.assertOpen();
    let segment = this.segments[this.segments.length - 1]!;
    if (segment.bytes >= this.segmentBytes) {
      segment = { base: this.next, records: [], bytes: 0 };
      this.segments.push(segment);
    }
    const offset = this.next++;
    segment.records.push({ offset, kind, timestamp, payload: payload.slice() });
    segment.bytes += payload.length + TEST_RECORD_OVERHEAD;
    return offset;
  }

  async flush(): Promise<void> {
    this.assertOpen();
    this.flushes += 1;
    await nextTurn();
  }

  async read(from: number, maxRecords: number, maxBytes: number): Promise<LogRecord[]> {
    this.assertOpen();
    await nextTurn();
    this.assertOpen();
    const out: LogRecord[] = [];
    let bytes = 0;
    for (const record of this.recordsFrom(from)) {
      if (out.length >= maxRecords || (out.length > 0 && bytes + record.payload.length > maxBytes)) break;
      out.push({ ...record, payload: record.payload.slice() });
      bytes += record.payload.length;
    }
    this.reads.push({ from, maxRecords, returned: out.length });
    return out;
  }

  async scan(from: number, visit: (record: LogRecord) => void): Promise<void> {
    this.assertOpen();
    await nextTurn();
    for (const record of this.recordsFrom(from)) visit(record);
  }

  async offsetForTimestamp(timestamp: number): Promise<number> {
    this.assertOpen();
    await nextTurn();
    for (const record of this.recordsFrom(this.startOffset)) {
      if (record.timestamp >= timestamp) return record.offset;
    }
    return this.next;
  }

  async truncateBefore(offset: number): Promise<void> {
    this.assertOpen();
    await nextTurn();
    const kept = this.segments.filter((segment) => segment.base + segment.records.length > offset);
    this.segments = kept.length > 0 ? kept : [{ base: this.next, records: [], bytes: 0 }];
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  private *recordsFrom(from: number): Generator<LogRecord> {
    for (const segment of this.segments) {
      if (segment.base + segment.records.length <= from) continue;
      for (const record of segment.records) {
        if (record.offset >= from) yield record;
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new BrokerError('LOG_CLOSED', `log '${this.name}' is closed`, { log: this.name });
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
