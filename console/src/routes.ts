/** Hash-based routing (`#/queues/orders`): the server serves one page, so links survive a reload. Pure. */

export const PAGES = ['overview', 'topics', 'queues', 'dead-letters', 'connections', 'topology'] as const;
export type PageName = (typeof PAGES)[number];

export interface Route {
  readonly page: PageName | 'not-found';
  /** The rest of the path, decoded (a queue name for `#/queues/{name}`). */
  readonly argument?: string;
}

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '').replace(/^\/+/, '');
  if (path === '') return { page: 'overview' };
  const slash = path.indexOf('/');
  const head = slash < 0 ? path : path.slice(0, slash);
  const rest = slash < 0 ? '' : path.slice(slash + 1);
  const page = (PAGES as readonly string[]).includes(head) ? (head as PageName) : undefined;
  if (page === undefined) return { page: 'not-found' };
  if (rest === '') return { page };
  try {
    return { page, argument: decodeURIComponent(rest) };
  } catch {
    return { page: 'not-found' };
  }
}

export function hrefOf(page: PageName, argument?: string): string {
  return argument === undefined ? `#/${page}` : `#/${page}/${encodeURIComponent(argument)}`;
}
