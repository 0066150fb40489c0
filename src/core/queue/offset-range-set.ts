/**
 * A set of log offsets kept as sorted, disjoint, non-adjacent half-open ranges [start, end).
 * Queues use it for settled (acked, dead-lettered, dropped) offsets: acks mostly arrive in order, so the
 * set stays a handful of ranges however many messages pass, and a stuck message at the head costs one
 * extra range instead of one entry per later message.
 */
/**
 * `items.splice(first, last - first, value)` without the array splice returns: an ack that closes the
 * gap before a state record takes this path once per message, so it must not allocate.
 */
function replaceSpan(items: number[], first: number, last: number, value: number): void {
  const removed = last - first;
  if (removed === 0) {
    items.push(0);
    items.copyWithin(first + 1, first, items.length - 1);
  } else if (removed > 1) {
    items.copyWithin(first + 1, last);
    items.length -= removed - 1;
  }
  items[first] = value;
}

export class OffsetRangeSet {
  private starts: number[] = [];
  private ends: number[] = [];

  get rangeCount(): number {
    return this.starts.length;
  }

  has(offset: number): boolean {
    const index = this.rangeIndexAtOrBefore(offset);
    return index >= 0 && offset < this.ends[index]!;
  }

  add(offset: number): void {
    this.addRange(offset, offset + 1);
  }

  /** Adds [start, end). */
  addRange(start: number, end: number): void {
    if (end <= start) return;
    const count = this.starts.length;
    // Fast path: in-order settling extends or appends to the last range.
    if (count === 0 || start > this.ends[count - 1]!) {
      this.starts.push(start);
      this.ends.push(end);
      return;
    }
    if (start >= this.starts[count - 1]!) {
      if (end > this.ends[count - 1]!) this.ends[count - 1] = end;
      return;
    }
    // General case: merge every range that overlaps or touches [start, end).
    let first = this.rangeIndexAtOrBefore(start);
    if (first < 0 || this.ends[first]! < start) first += 1;
    let last = first;
    let mergedStart = start;
    let mergedEnd = end;
    while (last < this.starts.length && this.starts[last]! <= end) {
      mergedStart = Math.min(mergedStart, this.starts[last]!);
      mergedEnd = Math.max(mergedEnd, this.ends[last]!);
      last += 1;
    }
    replaceSpan(this.starts, first, last, mergedStart);
    replaceSpan(this.ends, first, last, mergedEnd);
  }

  /** The smallest offset >= `from` that is not in the set. */
  firstAbsentFrom(from: number): number {
    const index = this.rangeIndexAtOrBefore(from);
    if (index >= 0 && from < this.ends[index]!) return this.ends[index]!;
    return from;
  }

  /** Forgets every offset below `offset` (they were truncated from the log). */
  dropBelow(offset: number): void {
    let remove = 0;
    while (remove < this.starts.length && this.ends[remove]! <= offset) remove += 1;
    if (remove > 0) {
      this.starts.splice(0, remove);
      this.ends.splice(0, remove);
    }
    if (this.starts.length > 0 && this.starts[0]! < offset) this.starts[0] = offset;
  }

  /** Counts the offsets of the set inside [start, end). */
  countInRange(start: number, end: number): number {
    let total = 0;
    for (let i = 0; i < this.starts.length; i++) {
      const from = Math.max(start, this.starts[i]!);
      const to = Math.min(end, this.ends[i]!);
      if (to > from) total += to - from;
    }
    return total;
  }

  private rangeIndexAtOrBefore(offset: number): number {
    let low = 0;
    let high = this.starts.length - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (this.starts[middle]! <= offset) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found;
  }
}
