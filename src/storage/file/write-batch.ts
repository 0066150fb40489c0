/**
 * Records appended to one segment during one event-loop turn, framed into one buffer so the writer hands
 * them to the OS with a single write. Until that write completes they are read from here.
 */
import type { Segment } from './segment.js';
import { RECORD_HEADER_BYTES, writeRecord } from './record-format.js';
import type { DecodedRecord } from './record-format.js';

const MIN_BATCH_BYTES = 16 * 1024;
const TWO_POW_32 = 0x1_0000_0000;

export class WriteBatch {
  buffer: Buffer;
  length = 0;
  /** Start of each record in `buffer`; record i has offset firstOffset + i. */
  readonly positions: number[] = [];

  constructor(
    readonly segment: Segment,
    /** Where in the segment file the batch begins. */
    readonly filePosition: number,
    readonly firstOffset: number,
    buffer: Buffer | undefined,
  ) {
    this.buffer = buffer ?? Buffer.allocUnsafeSlow(MIN_BATCH_BYTES);
  }

  get count(): number {
    return this.positions.length;
  }

  get endOffset(): number {
    return this.firstOffset + this.positions.length;
  }

  add(offset: number, kind: number, timestamp: number, payload: Uint8Array, size: number, scratch: Buffer): void {
    if (this.length + size > this.buffer.length) this.grow(this.length + size);
    writeRecord(this.buffer, this.length, offset, kind, timestamp, payload, scratch);
    this.positions.push(this.length);
    this.length += size;
  }

  private grow(needed: number): void {
    let capacity = this.buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const bigger = Buffer.allocUnsafeSlow(capacity);
    this.buffer.copy(bigger, 0, 0, this.length);
    this.buffer = bigger;
  }

  /** Fills `out` with record `index` of this batch (our own bytes: no checksum to verify). */
  decode(index: number, out: DecodedRecord): void {
    const position = this.positions[index]!;
    const buffer = this.buffer;
    out.size = 8 + buffer.readUInt32LE(position);
    out.offset = buffer.readUInt32LE(position + 8) + buffer.readUInt32LE(position + 12) * TWO_POW_32;
    out.kind = buffer[position + 16]!;
    out.timestamp = buffer.readDoubleLE(position + 17);
    out.payloadStart = position + RECORD_HEADER_BYTES;
    out.payloadEnd = position + out.size;
  }
}

/**
 * Keeps one batch buffer for reuse while a log is busy, so steady traffic allocates no new buffers. The
 * writer clears it when it goes idle: a broker may hold thousands of quiet logs.
 */
export class BatchBufferPool {
  private spare: Buffer | undefined;

  constructor(private readonly maxKeptBytes = 4 * 1024 * 1024) {}

  clear(): void {
    this.spare = undefined;
  }

  take(): Buffer | undefined {
    const buffer = this.spare;
    this.spare = undefined;
    return buffer;
  }

  give(buffer: Buffer): void {
    if (buffer.length <= this.maxKeptBytes) this.spare = buffer;
  }
}
