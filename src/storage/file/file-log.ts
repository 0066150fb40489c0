/**
 * A segmented append-only log on the file system.
 *
 * Appends are synchronous: each record is framed into the current write batch and gets its offset at
 * once. A single writer per log takes the whole batch at the next turn of the event loop (or as soon as
 * the previous write and sync finish) and hands it to the OS with one write per segment, then applies the
 * fsync policy once for the batch; every `flush()` of that batch shares one promise (group commit).
 * Records not yet written are read from the batch buffers; written ones are always read from the files,
 * so payloads of written records are never kept in memory.
 */
import { writeFile } from 'node:fs/promises';
import { BrokerError } from '../../core/errors.js';
import type { CorruptionReport, FsyncPolicy, Log, LogRecord } from '../../core/ports.js';
import { createDeferred } from './deferred.js';
import type { Deferred } from './deferred.js';
import { encodeIndexFile } from './index-file.js';
import { DecodedRecord, MAX_RECORD_PAYLOAD, recordSize } from './record-format.js';
import { ioError, syncDirectory, writeAll } from './fs-util.js';
import { Segment } from './segment.js';
import { scanRange } from './segment-scanner.js';
import type { Damage } from './segment-scanner.js';
import { SegmentIndex } from './segment-index.js';
import {
  SCAN_CHUNK_BYTES,
  loadSealedIndex,
  loadSegments,
  recoverLastSegment,
  reportCorruption,
  validatePolicy,
} from './segment-recovery.js';
import { BatchBufferPool, WriteBatch } from './write-batch.js';

export interface FileLogConfig {
  readonly name: string;
  readonly directory: string;
  readonly fsync: FsyncPolicy;
  readonly segmentBytes: number;
  readonly indexIntervalBytes: number;
  readonly onCorruption: (report: CorruptionReport) => void;
  /** Told how long each fdatasync of a segment took, in seconds (the fsync latency histogram). */
  readonly onSync?: (seconds: number) => void;
  /** Called once the log is closed, so the store forgets it. */
  readonly onClosed: (log: FileLog) => void;
}

/** Sealed segments whose file handles stay open for readers; older ones are closed when idle. */
const MAX_OPEN_SEALED_SEGMENTS = 4;
const MIN_READ_CHUNK_BYTES = 16 * 1024;
const MAX_READ_CHUNK_BYTES = 8 * 1024 * 1024;

/** Visits a record; `buffer` holds its frame; `keepable` says views into `buffer` may outlive the call. */
type RecordVisitor = (record: DecodedRecord, buffer: Buffer, keepable: boolean) => boolean;

type WalkResult = { readonly kind: 'stopped' } | { readonly kind: 'continue'; readonly next: number } | { readonly kind: 'retry' };

export class FileLog implements Log {
  readonly name: string;
  private readonly config: FileLogConfig;
  private readonly segments: Segment[];
  private active: Segment;
  private nextOffset: number;
  /** Offsets below this are in the files; the rest are in `inflight` or `pending` batches. */
  private writtenEndOffset: number;
  private totalBytes: number;
  private pending: WriteBatch[] = [];
  private inflight: WriteBatch[] = [];
  private pendingFlush: Deferred | undefined;
  private inflightFlush: Deferred | undefined;
  private readonly buffers = new BatchBufferPool();
  private readonly scratch = Buffer.allocUnsafe(17);
  private writeScheduled = false;
  private pump: Promise<void> | undefined;
  /** Interval policy: batches written and waiting for the next sync. */
  private awaitingSync: Deferred[] = [];
  private unsyncedWrites = false;
  /** Segments written since their last sync (the active one, and a sealed one until it is finalized). */
  private readonly unsyncedSegments = new Set<Segment>();
  private syncTimer: NodeJS.Timeout | undefined;
  private intervalSync: Promise<void> | undefined;
  private lastSyncAt = 0;
  private directoryDirty = false;
  private failure: BrokerError | undefined;
  private closing: Promise<void> | undefined;
  private readsInFlight = 0;
  private readsIdle: (() => void)[] = [];
  private readonly openSealed: Segment[] = [];

  private constructor(config: FileLogConfig, segments: Segment[], nextOffset: number) {
    this.name = config.name;
    this.config = config;
    this.segments = segments;
    this.active = segments[segments.length - 1]!;
    this.nextOffset = nextOffset;
    this.writtenEndOffset = nextOffset;
    this.totalBytes = segments.reduce((sum, segment) => sum + segment.size, 0);
  }

  /** Opens the log in `config.directory` (which must exist) and recovers its last segment. */
  static async open(config: FileLogConfig): Promise<FileLog> {
    validatePolicy(config.fsync);
    const segments = await loadSegments(config);
    const last = segments[segments.length - 1]!;
    try {
      const nextOffset = await recoverLastSegment(config, last);
      return new FileLog(config, segments, nextOffset);
    } catch (error) {
      await last.close().catch(() => undefined);
      throw error;
    }
  }

  get startOffset(): number {
    return this.segments[0]!.baseOffset;
  }

  get endOffset(): number {
    return this.nextOffset;
  }

  get sizeBytes(): number {
    return this.totalBytes;
  }

  get memoryBytes(): number {
    let bytes = 0;
    for (const batch of this.pending) bytes += batch.length;
    for (const batch of this.inflight) bytes += batch.length;
    return bytes;
  }

  get isClosing(): boolean {
    return this.closing !== undefined;
  }

  // -------------------------------------------------------------------------------------------------
  // Appending and group commit

  append(kind: number, timestamp: number, payload: Uint8Array): number {
    if (this.closing) throw new BrokerError('LOG_CLOSED', `log ${JSON.stringify(this.name)} is closed`);
    if (this.failure) throw this.failure;
    if (!Number.isInteger(kind) || kind < 0 || kind > 255) {
      throw new BrokerError('INVALID_ARGUMENT', `record kind must be an integer 0..255, got ${kind}`);
    }
    if (payload.length > MAX_RECORD_PAYLOAD) {
      throw new BrokerError('INVALID_ARGUMENT', `record payload of ${payload.length} bytes exceeds ${MAX_RECORD_PAYLOAD}`);
    }
    const size = recordSize(payload.length);
    if (this.active.size > 0 && this.active.size + size > this.config.segmentBytes) this.roll();
    const active = this.active;
    let batch = this.pending[this.pending.length - 1];
    if (batch?.segment !== active) {
      batch = new WriteBatch(active, active.size, this.nextOffset, this.buffers.take());
      this.pending.push(batch);
    }
    const offset = this.nextOffset;
    batch.add(offset, kind, timestamp, payload, size, this.scratch);
    active.index!.observe(offset, active.size, timestamp, size);
    active.size += size;
    this.totalBytes += size;
    this.nextOffset = offset + 1;
    if (!this.writeScheduled && !this.pump) {
      this.writeScheduled = true;
      setImmediate(this.startWriting);
    }
    return offset;
  }

  /** Starts a new segment at the next offset; the writer seals the old one once its data is written. */
  private roll(): void {
    const segment = new Segment(this.config.directory, this.nextOffset, 0, false);
    segment.index = new SegmentIndex(this.nextOffset, this.config.indexIntervalBytes);
    this.active.sealed = true;
    this.segments.push(segment);
    this.active = segment;
  }

  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending.length > 0) return (this.pendingFlush ??= createDeferred()).promise;
    if (this.inflight.length > 0) return (this.inflightFlush ??= createDeferred()).promise;
    if (this.config.fsync.mode === 'interval' && (this.unsyncedWrites || this.intervalSync)) {
      const deferred = createDeferred();
      this.awaitingSync.push(deferred);
      this.scheduleIntervalSync();
      return deferred.promise;
    }
    return Promise.resolve();
  }

  private readonly startWriting = (): void => {
    this.writeScheduled = false;
    if (!this.pump && this.pending.length > 0) this.pump = this.writeLoop();
  };

  private async writeLoop(): Promise<void> {
    try {
      while (this.pending.length > 0 && !this.failure) {
        this.inflight = this.pending;
        this.inflightFlush = this.pendingFlush;
        this.pending = [];
        this.pendingFlush = undefined;
        try {
          await this.writeBatches(this.inflight);
          if (this.config.fsync.mode === 'always') await this.syncAll();
        } catch (error) {
          this.fail(error);
        }
        const flushed = this.inflightFlush;
        for (const batch of this.inflight) this.buffers.give(batch.buffer);
        this.inflight = [];
        this.inflightFlush = undefined;
        if (!flushed) continue;
        if (this.failure) flushed.reject(this.failure);
        else if (this.config.fsync.mode === 'interval') {
          this.awaitingSync.push(flushed);
          this.scheduleIntervalSync();
        } else flushed.resolve();
      }
    } finally {
      this.pump = undefined;
      this.buffers.clear();
    }
  }

  private async writeBatches(batches: readonly WriteBatch[]): Promise<void> {
    for (const batch of batches) {
      const segment = batch.segment;
      const handle = await segment.acquire();
      if (!handle) throw new BrokerError('STORAGE_IO', `segment ${segment.path} was deleted while being written`);
      try {
        if (!segment.hasBeenWritten) {
          segment.hasBeenWritten = true;
          this.directoryDirty = true;
        }
        await writeAll(handle, batch.buffer, batch.length, batch.filePosition);
      } finally {
        segment.release();
      }
      segment.writtenBytes = batch.filePosition + batch.length;
      if (this.config.fsync.mode !== 'never') this.unsyncedSegments.add(segment);
      this.unsyncedWrites = true;
      this.writtenEndOffset = batch.endOffset;
      // The interval policy syncs on its timer whether or not anybody waits for it.
      this.scheduleIntervalSync();
      if (segment.sealed && segment.writtenBytes === segment.size) await this.finalizeSealed(segment);
    }
  }

  /** Makes a sealed segment durable (it is never written again) and stores its index. */
  private async finalizeSealed(segment: Segment): Promise<void> {
    if (this.config.fsync.mode !== 'never') await this.syncSegment(segment);
    if (segment.index && !segment.isRetired) {
      try {
        await writeFile(segment.indexPath, encodeIndexFile(segment.index, segment.size));
      } catch {
        // The index is a cache: a missing one is rebuilt from the segment when next needed.
      }
    }
    this.trackSealedHandle(segment);
  }

  private async syncSegment(segment: Segment): Promise<void> {
    if (!this.unsyncedSegments.delete(segment)) return;
    const handle = await segment.acquire();
    if (!handle) return;
    try {
      const started = performance.now();
      await handle.datasync();
      this.config.onSync?.((performance.now() - started) / 1000);
    } finally {
      segment.release();
    }
  }

  /** fdatasync of every segment written since the last sync, and of the directory if files were created. */
  private async syncAll(): Promise<void> {
    this.unsyncedWrites = false;
    this.lastSyncAt = Date.now();
    for (const segment of [...this.unsyncedSegments]) await this.syncSegment(segment);
    if (this.directoryDirty) {
      this.directoryDirty = false;
      await syncDirectory(this.config.directory);
    }
  }

  private scheduleIntervalSync(): void {
    if (this.syncTimer || this.intervalSync || this.config.fsync.mode !== 'interval') return;
    const delay = Math.max(0, this.lastSyncAt + this.config.fsync.intervalMs - Date.now());
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      this.intervalSync = this.runIntervalSync();
    }, delay);
  }

  private async runIntervalSync(): Promise<void> {
    const waiters = this.awaitingSync;
    this.awaitingSync = [];
    try {
      await this.syncAll();
      for (const waiter of waiters) waiter.resolve();
    } catch (error) {
      this.fail(error);
      for (const waiter of waiters) waiter.reject(error);
    } finally {
      this.intervalSync = undefined;
    }
    if (this.awaitingSync.length > 0 || this.unsyncedWrites) this.scheduleIntervalSync();
  }

  private fail(error: unknown): void {
    this.failure ??=
      error instanceof BrokerError
        ? error
        : new BrokerError('STORAGE_IO', `writing log ${JSON.stringify(this.name)} failed: ${String(error)}`, { log: this.name }, { cause: error });
    this.pendingFlush?.reject(this.failure);
    this.pendingFlush = undefined;
    const waiters = this.awaitingSync;
    this.awaitingSync = [];
    for (const waiter of waiters) waiter.reject(this.failure);
  }

  // -------------------------------------------------------------------------------------------------
  // Reading

  async read(from: number, maxRecords: number, maxBytes: number): Promise<LogRecord[]> {
    this.assertOpen();
    const records: LogRecord[] = [];
    if (maxRecords <= 0) return records;
    let bytes = 0;
    await this.walk(from, this.nextOffset, this.readChunkBytes(maxRecords, maxBytes), undefined, (record, buffer, keepable) => {
      const length = record.payloadEnd - record.payloadStart;
      if (records.length > 0 && bytes + length > maxBytes) return false;
      const payload = keepable
        ? buffer.subarray(record.payloadStart, record.payloadEnd)
        : Uint8Array.prototype.slice.call(buffer, record.payloadStart, record.payloadEnd);
      records.push({ offset: record.offset, kind: record.kind, timestamp: record.timestamp, payload });
      bytes += length;
      return records.length < maxRecords && bytes < maxBytes;
    });
    return records;
  }

  /** Sizes file reads to about what the caller asked for, so returned payloads do not pin large buffers. */
  private readChunkBytes(maxRecords: number, maxBytes: number): number {
    const records = Math.max(1, this.nextOffset - this.startOffset);
    const averageRecord = Math.max(1, Math.ceil(this.totalBytes / records));
    const wanted = Math.min(maxBytes, maxRecords * averageRecord) + averageRecord + this.config.indexIntervalBytes;
    return Math.min(MAX_READ_CHUNK_BYTES, Math.max(MIN_READ_CHUNK_BYTES, wanted));
  }

  async scan(from: number, visit: (record: LogRecord) => void): Promise<void> {
    this.assertOpen();
    const reuse = Buffer.allocUnsafe(SCAN_CHUNK_BYTES);
    await this.walk(from, this.nextOffset, SCAN_CHUNK_BYTES, reuse, (record, buffer) => {
      visit({
        offset: record.offset,
        kind: record.kind,
        timestamp: record.timestamp,
        payload: buffer.subarray(record.payloadStart, record.payloadEnd),
      });
      return true;
    });
  }

  async offsetForTimestamp(timestamp: number): Promise<number> {
    this.assertOpen();
    this.beginRead();
    try {
      // A copy: truncateBefore may shift `segments` while this awaits; deleted segments have no index.
      for (const segment of [...this.segments]) {
        const index = await this.indexOf(segment);
        if (!index || index.maxTimestamp < timestamp) continue;
        const entry = index.entryForTimestamp(timestamp);
        let found: number | undefined;
        await this.walkUnguarded(index.offsets[entry] ?? segment.baseOffset, this.nextOffset, MIN_READ_CHUNK_BYTES, undefined, (record) => {
          if (record.timestamp < timestamp) return true;
          found = record.offset;
          return false;
        });
        return found ?? this.nextOffset;
      }
      return this.nextOffset;
    } finally {
      this.endRead();
    }
  }

  private async walk(from: number, limit: number, chunkBytes: number, reuse: Buffer | undefined, visit: RecordVisitor): Promise<void> {
    this.beginRead();
    try {
      await this.walkUnguarded(from, limit, chunkBytes, reuse, visit);
    } finally {
      this.endRead();
    }
  }

  /** Visits records with offsets in [from, limit) in order: from the files, then from the batches. */
  private async walkUnguarded(from: number, limit: number, chunkBytes: number, reuse: Buffer | undefined, visit: RecordVisitor): Promise<void> {
    let target = from;
    for (;;) {
      target = Math.max(target, this.startOffset);
      if (target >= limit || target >= this.nextOffset) return;
      if (target >= this.writtenEndOffset) {
        this.walkBatches(target, limit, visit);
        return;
      }
      const result = await this.walkFiles(target, Math.min(limit, this.writtenEndOffset), chunkBytes, reuse, visit);
      if (result.kind === 'stopped') return;
      if (result.kind === 'continue') {
        if (result.next <= target) return;
        target = result.next;
      }
    }
  }

  private walkBatches(from: number, limit: number, visit: RecordVisitor): void {
    const decoded = new DecodedRecord();
    for (const batches of [this.inflight, this.pending]) {
      for (const batch of batches) {
        if (batch.endOffset <= from) continue;
        for (let i = Math.max(0, from - batch.firstOffset); i < batch.count; i++) {
          if (batch.firstOffset + i >= limit) return;
          batch.decode(i, decoded);
          if (!visit(decoded, batch.buffer, false)) return;
        }
      }
    }
  }

  private async walkFiles(from: number, limit: number, chunkBytes: number, reuse: Buffer | undefined, visit: RecordVisitor): Promise<WalkResult> {
    let target = from;
    // The position is looked up again for every segment: truncateBefore may shift `segments` while this
    // walk awaits a read, and a stale index would skip whole segments.
    for (;;) {
      const i = this.segmentPosition(target);
      const segment = this.segments[i];
      if (!segment || segment.baseOffset >= limit) break;
      const upper = this.segments[i + 1]?.baseOffset ?? Number.POSITIVE_INFINITY;
      const index = await this.indexOf(segment);
      if (!index) return { kind: 'retry' };
      const entry = index.entryForOffset(target);
      const start = index.positions[entry] ?? 0;
      const end = segment.writtenBytes;
      if (start < end) {
        const handle = await segment.acquire();
        if (!handle) return { kind: 'retry' };
        let stoppedByVisitor = false;
        let reachedLimit = false;
        try {
          await scanRange(
            { handle, start, end, expectedOffset: index.offsets[entry] ?? segment.baseOffset, upperOffset: upper, chunkBytes, ...(reuse ? { reuse } : {}) },
            {
              onRecord: (record, buffer) => {
                if (record.offset < target) return true;
                if (record.offset >= limit) {
                  reachedLimit = true;
                  return false;
                }
                if (visit(record, buffer, reuse === undefined)) return true;
                stoppedByVisitor = true;
                return false;
              },
              onDamage: (damage) => this.reportDamage(segment, damage, 'quarantined', end),
            },
          );
        } finally {
          segment.release();
          if (segment.sealed) this.trackSealedHandle(segment);
        }
        if (stoppedByVisitor) return { kind: 'stopped' };
        if (reachedLimit) return { kind: 'continue', next: limit };
      }
      if (upper === Number.POSITIVE_INFINITY) break;
      target = Math.max(target, upper);
    }
    return { kind: 'continue', next: limit };
  }

  /** Position in `segments` of the segment holding `offset` (the first one when below all). */
  private segmentPosition(offset: number): number {
    let low = 0;
    let high = this.segments.length - 1;
    let found = 0;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found;
  }

  /** The segment's index, loading or rebuilding it for a sealed segment; undefined if it was deleted. */
  private async indexOf(segment: Segment): Promise<SegmentIndex | undefined> {
    if (segment.index) return segment.index;
    if (segment.isRetired) return undefined;
    segment.indexLoading ??= this.loadIndex(segment).finally(() => {
      segment.indexLoading = undefined;
    });
    return segment.indexLoading;
  }

  private loadIndex(segment: Segment): Promise<SegmentIndex | undefined> {
    const position = this.segments.indexOf(segment);
    return loadSealedIndex(
      segment,
      this.segments[position + 1]?.baseOffset ?? Number.POSITIVE_INFINITY,
      this.config.indexIntervalBytes,
      (damage) => this.reportDamage(segment, damage, 'quarantined', segment.size),
    );
  }

  private reportDamage(segment: Segment, damage: Damage, action: CorruptionReport['action'], end: number): void {
    if (segment.reportedDamage.has(damage.position)) return;
    segment.reportedDamage.add(damage.position);
    reportCorruption(this.config.onCorruption, {
      log: this.name,
      location: segment.path,
      offset: damage.expectedOffset,
      reason: `${damage.reason} at byte ${damage.position}`,
      action,
      bytes: (damage.resumeAt ?? end) - damage.position,
    });
  }

  /** Keeps at most a few sealed segments' handles open, closing the least recently used idle ones. */
  private trackSealedHandle(segment: Segment): void {
    const at = this.openSealed.indexOf(segment);
    if (at >= 0) this.openSealed.splice(at, 1);
    if (!segment.hasOpenHandle) return;
    this.openSealed.push(segment);
    for (let i = 0; this.openSealed.length > MAX_OPEN_SEALED_SEGMENTS && i < this.openSealed.length; ) {
      const candidate = this.openSealed[i]!;
      if (candidate.inUse) {
        i++;
        continue;
      }
      this.openSealed.splice(i, 1);
      void candidate.closeIfIdle().catch(() => undefined);
    }
  }

  private beginRead(): void {
    this.readsInFlight++;
  }

  private endRead(): void {
    this.readsInFlight--;
    if (this.readsInFlight === 0) {
      const waiters = this.readsIdle;
      this.readsIdle = [];
      for (const wake of waiters) wake();
    }
  }

  private assertOpen(): void {
    if (this.closing) throw new BrokerError('LOG_CLOSED', `log ${JSON.stringify(this.name)} is closed`);
  }

  // -------------------------------------------------------------------------------------------------
  // Retention and lifecycle

  async truncateBefore(offset: number): Promise<void> {
    this.assertOpen();
    if (offset >= this.nextOffset && this.active.size > 0 && this.pending.length === 0 && !this.pump) {
      // Everything is below `offset`: start an empty segment so the old active one can go too. Its file
      // keeps the end offset across restarts, so offsets are never reused.
      const old = this.active;
      this.roll();
      await this.finalizeSealed(old);
      await this.active.create();
      if (this.config.fsync.mode !== 'never') await syncDirectory(this.config.directory);
    }
    const doomed: Segment[] = [];
    while (this.segments.length > 1) {
      const first = this.segments[0]!;
      const next = this.segments[1]!;
      if (next.baseOffset > offset || !first.sealed || first.writtenBytes !== first.size) break;
      this.segments.shift();
      doomed.push(first);
      this.totalBytes -= first.size;
    }
    for (const segment of doomed) {
      this.unsyncedSegments.delete(segment);
      const at = this.openSealed.indexOf(segment);
      if (at >= 0) this.openSealed.splice(at, 1);
      try {
        await segment.retire();
      } catch (error) {
        throw ioError(`deleting segment ${segment.path}`, error);
      }
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    while (this.pump || (this.pending.length > 0 && !this.failure)) {
      this.startWriting();
      await this.pump;
    }
    if (this.syncTimer) clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    await this.intervalSync;
    if (!this.failure && this.config.fsync.mode !== 'never') {
      try {
        await this.syncAll();
      } catch (error) {
        this.fail(error);
      }
    }
    const waiters = this.awaitingSync;
    this.awaitingSync = [];
    for (const waiter of waiters) {
      if (this.failure) waiter.reject(this.failure);
      else waiter.resolve();
    }
    if (this.readsInFlight > 0) await new Promise<void>((resolve) => this.readsIdle.push(resolve));
    await Promise.all(this.segments.map((segment) => segment.close()));
    this.config.onClosed(this);
    if (this.failure) throw this.failure;
  }
}
