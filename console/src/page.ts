import type { ApiClient } from './api-client.js';
import type { OverviewFeed } from './overview-feed.js';

/** What every page gets from the app shell. */
export interface PageContext {
  readonly api: ApiClient;
  readonly feed: OverviewFeed;
  /** Says something to screen-reader users through the shell's polite live region. */
  announce(message: string): void;
}

/** A page on screen: the shell polls `refresh` every few seconds while it is shown. */
export interface MountedPage {
  readonly title: string;
  readonly element: HTMLElement;
  refresh(): Promise<void>;
  dispose?(): void;
}
