/**
 * A log kept in memory, for transient queues and tests. It holds exactly the records between startOffset
 * and endOffset: truncateBefore drops records one by one (there are no segments to wait for), so memory
 * is bounded by what the caller keeps.
 */
import { BrokerError } from '../../core/errors.js';
import type { Log, LogRecord } from '../../core/ports.js';

/** Records of one log; outlives the Log handles opened on it, as files do. */
export class MemoryLogData {
  /** Records from index `head` on are live; the prefix is garbage waiting to be compacted. */
  records: LogRecord[] = [];
  head = 0;
  startOffset = 0;
  nextOffset = 0;
  sizeBytes = 0;
  /** Where small payloads are copied (see `copyIn`); bytes from `slabUsed` on are free. */
  slab: Uint8Array | undefined = undefined;
  slabUsed = 0;
  nextSlabBytes = MIN_SLAB_BYTES;
}

/** Framing bytes counted per record so sizeBytes compares with the file store's. */
const RECORD_OVERHEAD_BYTES = 25;
/** What a record costs in memory beyond its payload: the record object, the copy's typed-array header, allocator slack. */
const RECORD_MEMORY_BYTES = 160;
const COMPACT_MIN_HEAD = 1024;
/**
 * Payloads are copied into slabs rather than each into an ArrayBuffer of its own, which costs more than
 * the copy (QoS 1 1 -> 1, 1 KiB: ~20% of the broker's throughput). A slab is freed once every record in
 * it is truncated; truncation goes in offset order, so at most the oldest and the newest slab hold
 * bytes of records no longer live. Slabs double while the log keeps records and start small again once
 * it has drained, so an idle queue pins at most a small slab.
 */
const MIN_SLAB_BYTES = 4 * 1024;
const MAX_SLAB_BYTES = 64 * 1024;
/** Larger payloads get an ArrayBuffer of their own. */
const MAX_SLAB_RECORD_BYTES = 8 * 1024;

function copyIn(data: MemoryLogData, payload: Uint8Array): Uint8Array {
  const length = payload.length;
  if (length > MAX_SLAB_RECORD_BYTES) return new Uint8Array(payload);
  let slab = data.slab;
  if (slab === undefined || data.slabUsed + length > slab.length) {
    slab = data.slab = new Uint8Array(Math.max(data.nextSlabBytes, length));
    data.slabUsed = 0;
    data.nextSlabBytes = Math.min(MAX_SLAB_BYTES, data.nextSlabBytes * 2);
  }
  const start = data.slabUsed;
  slab.set(payload, start);
  data.slabUsed = start + length;
  return new Uint8Array(slab.buffer, start, length);
}

export class MemoryLog implements Log {
  private closed = false;

  constructor(
    readonly name: string,
    private readonly data: MemoryLogData,
  ) {}

  get startOffset(): number {
    return this.data.startOffset;
  }

  get endOffset(): number {
    return this.data.nextOffset;
  }

  get sizeBytes(): number {
    return this.data.sizeBytes;
  }

  get memoryBytes(): number {
    const data = this.data;
    const slabFree = data.slab === undefined ? 0 : data.slab.length - data.slabUsed;
    return data.sizeBytes + (data.records.length - data.head) * (RECORD_MEMORY_BYTES - RECORD_OVERHEAD_BYTES) + slabFree;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  append(kind: number, timestamp: number, payload: Uint8Array): number {
    this.assertOpen();
    if (!Number.isInteger(kind) || kind < 0 || kind > 255) {
      throw new BrokerError('INVALID_ARGUMENT', `record kind must be an integer 0..255, got ${kind}`);
    }
    const data = this.data;
    const offset = data.nextOffset;
    // A copy: the caller may reuse its buffer once append returns.
    data.records.push({ offset, kind, timestamp, payload: copyIn(data, payload) });
    data.nextOffset = offset + 1;
    data.sizeBytes += payload.length + RECORD_OVERHEAD_BYTES;
    return offset;
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  read(from: number, maxRecords: number, maxBytes: number): Promise<LogRecord[]> {
    if (this.closed) return Promise.reject(this.closedError());
    const data = this.data;
    const out: LogRecord[] = [];
    let bytes = 0;
    for (let i = this.positionOf(from); i < data.records.length && out.length < maxRecords; i++) {
      const record = data.records[i]!;
      if (out.length > 0 && bytes + record.payload.length > maxBytes) break;
      // The caller owns what it gets; the stored copy must stay as appended.
      out.push({ ...record, payload: new Uint8Array(record.payload) });
      bytes += record.payload.length;
      if (bytes >= maxBytes) break;
    }
    return Promise.resolve(out);
  }

  scan(from: number, visit: (record: LogRecord) => void): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError());
    const data = this.data;
    const end = data.nextOffset;
    // Offsets, not array positions: truncation during a visit may compact the array.
    for (let offset = Math.max(from, data.startOffset); offset < end; ) {
      const i = this.positionOf(offset);
      const record = data.records[i];
      if (!record || record.offset >= end) break;
      try {
        visit(record);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      offset = record.offset + 1;
    }
    return Promise.resolve();
  }

  offsetForTimestamp(timestamp: number): Promise<number> {
    if (this.closed) return Promise.reject(this.closedError());
    const data = this.data;
    for (let i = data.head; i < data.records.length; i++) {
      const record = data.records[i]!;
      if (record.timestamp >= timestamp) return Promise.resolve(record.offset);
    }
    return Promise.resolve(data.nextOffset);
  }

  truncateBefore(offset: number): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError());
    const data = this.data;
    const target = Math.min(Math.max(offset, data.startOffset), data.nextOffset);
    while (data.head < data.records.length && data.records[data.head]!.offset < target) {
      data.sizeBytes -= data.records[data.head]!.payload.length + RECORD_OVERHEAD_BYTES;
      // Drop the reference now so the payload can be collected before the next compaction.
      (data.records as (LogRecord | undefined)[])[data.head] = undefined;
      data.head++;
    }
    data.startOffset = target;
    // Drained (a queue keeps its last record): the next slab starts small again.
    if (data.records.length - data.head <= 1) data.nextSlabBytes = MIN_SLAB_BYTES;
    if (data.head >= COMPACT_MIN_HEAD && data.head * 2 >= data.records.length) {
      data.records = data.records.slice(data.head);
      data.head = 0;
    }
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** Array position of the first record with offset >= `offset`. */
  private positionOf(offset: number): number {
    const data = this.data;
    const at = Math.max(offset, data.startOffset) - data.startOffset;
    return data.head + Math.min(at, data.records.length - data.head);
  }

  private assertOpen(): void {
    if (this.closed) throw this.closedError();
  }

  private closedError(): BrokerError {
    return new BrokerError('LOG_CLOSED', `log ${JSON.stringify(this.name)} is closed`);
  }
}
