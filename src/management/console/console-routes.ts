import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPackageRoot } from '../../server/package-info.js';
import type { ManagementRoute, ManagementRouteContext } from '../route-types.js';
import { StaticFiles } from './static-files.js';

export interface ConsoleRoutesOptions {
  /** Directories holding the console's files; defaults to {@link defaultConsoleRoots}. */
  readonly roots?: readonly string[];
}

/**
 * Where an installed Courier keeps the console: the scripts compiled from console/src by
 * console/tsconfig.json into dist/console/, and the page and style sheet in console/public/.
 */
export async function defaultConsoleRoots(): Promise<readonly string[]> {
  const root = await findPackageRoot(dirname(fileURLToPath(import.meta.url)));
  return root === undefined ? [] : [join(root, 'dist', 'console'), join(root, 'console', 'public')];
}

/**
 * The web console (docs/management.md#console): `GET /` is its page and `GET /{file}` its scripts and
 * style sheet. Put these routes last: `/:asset` would otherwise shadow `/metrics` and the health checks.
 * The console itself only calls the REST API under /api, so it needs no routes of its own beyond these.
 */
export function consoleRoutes(options: ConsoleRoutesOptions = {}): ManagementRoute[] {
  // Found at the first request, not at start: a server without the console built still starts.
  let files: StaticFiles | undefined;
  const serve = (name: string, { request, response, url }: ManagementRouteContext): Promise<void> =>
    (files ??= new StaticFiles({ roots: options.roots ?? defaultConsoleRoots() })).serve(name, request, response, url.pathname);
  return [
    { method: 'GET', path: '/', handle: (context) => serve('index.html', context) },
    { method: 'GET', path: '/:asset', handle: (context) => serve(context.params['asset'] ?? '', context) },
  ];
}
