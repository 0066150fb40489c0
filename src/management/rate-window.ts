/**
 * Turns running totals into per-second rates between two samples. Keys are the live objects (queues,
 * connections), whose totals start at zero when they open, so a queue deleted and re-declared under the
 * same name starts afresh; keys not seen in a sample are forgotten.
 */
export class RateWindow<K> {
  private previous = new Map<K, readonly number[]>();
  private rates = new Map<K, readonly number[]>();
  private previousAt: number | undefined;

  /** Records the totals of every live key at `now` (ms) and recomputes the rates since the last sample. */
  sample(now: number, entries: Iterable<readonly [K, readonly number[]]>): void {
    const seconds = this.previousAt === undefined ? 0 : (now - this.previousAt) / 1000;
    const current = new Map<K, readonly number[]>();
    const rates = new Map<K, readonly number[]>();
    for (const [key, totals] of entries) {
      const snapshot = [...totals];
      current.set(key, snapshot);
      // A key new since the last sample (a queue or connection opened meanwhile) counted from zero.
      const before = this.previous.get(key) ?? [];
      if (seconds > 0) {
        rates.set(
          key,
          snapshot.map((value, index) => Math.max(0, value - (before[index] ?? 0)) / seconds),
        );
      }
    }
    this.previous = current;
    this.rates = rates;
    this.previousAt = now;
  }

  /** Rates per second over the last window, in the order of the totals given; zeros before two samples. */
  ratesOf(key: K, width: number): readonly number[] {
    return this.rates.get(key) ?? new Array<number>(width).fill(0);
  }
}

/** Rounds a rate for JSON: two decimals are plenty for msg/s and keep the output readable. */
export function roundRate(value: number): number {
  return Math.round(value * 100) / 100;
}
