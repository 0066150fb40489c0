import type { ApiClient } from './api-client.js';
import { RateSeries } from './rate-series.js';
import type { Overview } from './types.js';

/**
 * Polls GET /api/overview for the whole session (not only while the Overview page is shown), so the
 * charts have history as soon as one opens them.
 */
export class OverviewFeed {
  readonly series: RateSeries;
  latest: Overview | undefined;
  private readonly listeners = new Set<() => void>();
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly api: ApiClient,
    readonly windowMs: number,
  ) {
    this.series = new RateSeries(windowMs);
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One poll; concurrent callers share it. Rejects with the API's error. */
  poll(): Promise<void> {
    return (this.inFlight ??= this.fetch().finally(() => {
      this.inFlight = undefined;
    }));
  }

  private async fetch(): Promise<void> {
    const overview = await this.api.get<Overview>('/api/overview');
    this.latest = overview;
    this.series.add({ at: Date.now(), published: overview.totals.published, delivered: overview.totals.delivered });
    for (const listener of this.listeners) listener();
  }
}
