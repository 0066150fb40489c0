/**
 * The sparse offset and time index of one segment, in memory.
 *
 * An entry is taken at the first record and then at the first record after every `intervalBytes` of
 * data. Each entry holds the record's offset, its byte position in the segment and the highest timestamp
 * of all records before it in the segment. Timestamps are the caller's and need not be monotonic; the
 * running maximum is, so "first record with timestamp >= T" is found by a binary search on the entries
 * followed by a scan of at most one interval.
 */
export const DEFAULT_INDEX_INTERVAL_BYTES = 4096;

export interface IndexEntries {
  readonly offsets: number[];
  readonly positions: number[];
  readonly maxTimestampsBefore: number[];
}

export class SegmentIndex {
  readonly offsets: number[];
  readonly positions: number[];
  readonly maxTimestampsBefore: number[];
  /** Highest timestamp in the segment; -Infinity when empty. */
  maxTimestamp = Number.NEGATIVE_INFINITY;
  /** One past the last record's offset; the segment's base offset while empty. */
  nextOffset: number;
  /** Bytes of records observed (the segment's valid size). */
  bytes = 0;
  private nextEntryPosition = 0;

  constructor(
    readonly baseOffset: number,
    private readonly intervalBytes = DEFAULT_INDEX_INTERVAL_BYTES,
    entries?: IndexEntries,
  ) {
    this.nextOffset = baseOffset;
    this.offsets = entries?.offsets ?? [];
    this.positions = entries?.positions ?? [];
    this.maxTimestampsBefore = entries?.maxTimestampsBefore ?? [];
  }

  /** Records one record, in file order. */
  observe(offset: number, position: number, timestamp: number, size: number): void {
    if (position >= this.nextEntryPosition) {
      this.offsets.push(offset);
      this.positions.push(position);
      this.maxTimestampsBefore.push(this.maxTimestamp);
      this.nextEntryPosition = position + this.intervalBytes;
    }
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
    this.nextOffset = offset + 1;
    this.bytes = position + size;
  }

  /** Restores entries read from an index file. */
  static fromEntries(
    baseOffset: number,
    entries: IndexEntries,
    maxTimestamp: number,
    nextOffset: number,
    bytes: number,
    intervalBytes = DEFAULT_INDEX_INTERVAL_BYTES,
  ): SegmentIndex {
    const index = new SegmentIndex(baseOffset, intervalBytes, entries);
    index.maxTimestamp = maxTimestamp;
    index.nextOffset = nextOffset;
    index.bytes = bytes;
    const last = index.positions.length - 1;
    index.nextEntryPosition = last >= 0 ? index.positions[last]! + intervalBytes : 0;
    return index;
  }

  get entryCount(): number {
    return this.offsets.length;
  }

  /** Entry to start reading from for `offset`: the last entry at or below it (0 when before all). */
  entryForOffset(offset: number): number {
    let low = 0;
    let high = this.offsets.length - 1;
    let found = 0;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (this.offsets[mid]! <= offset) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found;
  }

  /**
   * Entry to start scanning from for the first record with timestamp >= `timestamp`: the last entry
   * whose preceding records all have smaller timestamps (0 when before all).
   */
  entryForTimestamp(timestamp: number): number {
    let low = 0;
    let high = this.maxTimestampsBefore.length - 1;
    let found = 0;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (this.maxTimestampsBefore[mid]! < timestamp) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found;
  }
}
