/** Order statistics for benchmark figures: latency percentiles within a run, medians and spread across runs. */

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

/**
 * The nearest-rank percentile of sorted values: the smallest value with at least `fraction` of the
 * values at or below it. No interpolation, so p99.9 of 1,000 samples is the largest but one.
 */
export function percentileOfSorted(sorted: ArrayLike<number>, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(fraction * sorted.length);
  const index = Math.min(sorted.length - 1, Math.max(0, rank - 1));
  return sorted[index]!;
}

/** Summarises `values` (sorted in place). */
export function summariseLatencies(values: Float64Array): LatencySummary {
  values.sort();
  let sum = 0;
  for (const value of values) sum += value;
  return {
    count: values.length,
    p50: percentileOfSorted(values, 0.5),
    p90: percentileOfSorted(values, 0.9),
    p99: percentileOfSorted(values, 0.99),
    p999: percentileOfSorted(values, 0.999),
    max: values.length === 0 ? Number.NaN : values[values.length - 1]!,
    mean: values.length === 0 ? Number.NaN : sum / values.length,
  };
}

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

/** Median of the runs (mean of the middle two for an even count) with the smallest and largest. */
export function spreadOf(values: readonly number[]): Spread {
  const finite = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, runs: 0 };
  const middle = Math.floor(finite.length / 2);
  const median = finite.length % 2 === 1 ? finite[middle]! : (finite[middle - 1]! + finite[middle]!) / 2;
  return { median, min: finite[0]!, max: finite[finite.length - 1]!, runs: finite.length };
}

/** Largest distance from the median to either end, relative to the median (0.05 = ±5%). */
export function relativeSpread(spread: Spread): number {
  if (!(spread.median > 0)) return Number.NaN;
  return Math.max(spread.median - spread.min, spread.max - spread.median) / spread.median;
}
