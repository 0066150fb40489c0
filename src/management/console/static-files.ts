import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { sendProblem } from '../../transport/http/problem.js';

/** Content types of the files the console is made of; anything else is not served. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The console talks to its own origin only: no CDN, no inline script, no framing. Styles set through the
 * CSSOM (element.style) are not inline styles in CSP's sense, so 'self' is enough for them too.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** One path segment naming a file: no separators, no dot-files (so no `.` or `..`), no control bytes. */
const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

export function contentTypeOf(name: string): string | undefined {
  return CONTENT_TYPES[extname(name).toLowerCase()];
}

/** True when `name` may be looked up in a root directory: a plain file name of a served type. */
export function isServableName(name: string): boolean {
  return name.length <= 255 && SAFE_NAME.test(name) && contentTypeOf(name) !== undefined;
}

export interface StaticFilesOptions {
  /**
   * Directories searched in order for a file name (the compiled scripts, then the HTML and CSS). A
   * promise lets the caller find them lazily, at the first request.
   */
  readonly roots: readonly string[] | Promise<readonly string[]>;
}

interface Found {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/**
 * Serves the console's files from a flat set of directories. Only one path segment ever reaches it (the
 * router captures `/:asset`, already percent-decoded), and that segment must be a plain file name, so
 * `..`, `%2e%2e`, `a%2fb` and `%5c` never leave the roots. Files are not content-hashed, so every answer
 * says `no-cache` with an ETag: the browser keeps a copy and revalidates it (304) on each load, and an
 * upgrade of Courier is picked up at once.
 */
export class StaticFiles {
  constructor(private readonly options: StaticFilesOptions) {}

  async serve(name: string, request: IncomingMessage, response: ServerResponse, instance: string): Promise<void> {
    const found = isServableName(name) ? await this.find(name) : undefined;
    if (!found) {
      sendProblem(response, { status: 404, detail: `no resource at ${instance}`, instance });
      return;
    }
    const etag = `W/"${found.size.toString(16)}-${Math.floor(found.mtimeMs).toString(16)}"`;
    const headers: Record<string, string | number> = {
      'cache-control': 'no-cache',
      etag,
      'last-modified': new Date(found.mtimeMs).toUTCString(),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    };
    if (name.endsWith('.html')) {
      headers['content-security-policy'] = CONTENT_SECURITY_POLICY;
      headers['x-frame-options'] = 'DENY';
    }
    if (matchesEtag(request.headers['if-none-match'], etag)) {
      response.writeHead(304, headers);
      response.end();
      return;
    }
    let body: Buffer;
    try {
      body = await readFile(found.path);
    } catch {
      // Removed between stat and read (a rebuild): as if it had never been there.
      sendProblem(response, { status: 404, detail: `no resource at ${instance}`, instance });
      return;
    }
    response.writeHead(200, { ...headers, 'content-type': contentTypeOf(name) ?? 'application/octet-stream', 'content-length': body.length });
    response.end(request.method === 'HEAD' ? undefined : body);
  }

  private async find(name: string): Promise<Found | undefined> {
    for (const root of await this.options.roots) {
      const path = join(root, name);
      try {
        const info = await stat(path);
        if (info.isFile()) return { path, size: info.size, mtimeMs: info.mtimeMs };
      } catch {
        // Not in this root: try the next one.
      }
    }
    return undefined;
  }
}

/** RFC 9110 §13.1.2: If-None-Match is a list of entity tags (weak comparison) or `*`. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const strip = (tag: string): string => tag.trim().replace(/^W\//, '');
  const wanted = strip(etag);
  return header.split(',').some((tag) => tag.trim() === '*' || strip(tag) === wanted);
}
