/**
 * A rolling window of publish / deliver rates computed in the browser from the overview's running totals.
 * The broker's own rates are sampled every 5 s; differencing its totals at each poll shows traffic at the
 * poll's pace instead. Pure (no DOM) so that it is unit-tested in Node.
 */

/** Running totals as GET /api/overview reports them, stamped with when they were read (ms). */
export interface TotalsSample {
  readonly at: number;
  readonly published: number;
  readonly delivered: number;
}

export interface RatePoint {
  readonly at: number;
  /** Messages per second since the previous sample. */
  readonly publish: number;
  readonly deliver: number;
}

export class RateSeries {
  private previous: TotalsSample | undefined;
  private readonly window: RatePoint[] = [];

  /** @param windowMs how much history to keep, measured back from the newest point. */
  constructor(readonly windowMs: number) {
    if (!(windowMs > 0)) throw new RangeError('the window must be a positive number of milliseconds');
  }

  /**
   * Adds a sample. The first one (and the first after the totals went down, which means the broker
   * restarted) only sets the baseline: a rate needs two readings of the same counters.
   */
  add(sample: TotalsSample): RatePoint | undefined {
    const previous = this.previous;
    if (previous !== undefined && sample.at <= previous.at) return undefined;
    this.previous = sample;
    if (previous === undefined || sample.published < previous.published || sample.delivered < previous.delivered) return undefined;
    const seconds = (sample.at - previous.at) / 1000;
    const point: RatePoint = {
      at: sample.at,
      publish: (sample.published - previous.published) / seconds,
      deliver: (sample.delivered - previous.delivered) / seconds,
    };
    this.window.push(point);
    const oldest = sample.at - this.windowMs;
    let drop = 0;
    while (drop < this.window.length && (this.window[drop]?.at ?? 0) < oldest) drop++;
    if (drop > 0) this.window.splice(0, drop);
    return point;
  }

  points(): readonly RatePoint[] {
    return this.window;
  }

  latest(): RatePoint | undefined {
    return this.window[this.window.length - 1];
  }
}
