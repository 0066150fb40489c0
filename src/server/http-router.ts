import type { IncomingMessage, ServerResponse } from 'node:http';
import { isBrokerError } from '../core/errors.js';
import type { Logger } from '../core/ports.js';
import { sendProblem } from '../transport/http/problem.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteContext {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly url: URL;
  /** Values of the `:name` segments of the route's path. */
  readonly params: Readonly<Record<string, string>>;
}

export interface HttpRoute {
  readonly method: HttpMethod;
  /** Exact segments, or `:name` to capture one segment: `/api/queues/:name`. */
  readonly path: string;
  handle(context: RouteContext): void | Promise<void>;
}

interface CompiledRoute {
  readonly route: HttpRoute;
  readonly segments: readonly string[];
}

function splitPath(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '');
}

function matchSegments(pattern: readonly string[], actual: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (let index = 0; index < pattern.length; index++) {
    const expected = pattern[index] ?? '';
    const segment = actual[index] ?? '';
    if (expected.startsWith(':')) {
      try {
        params[expected.slice(1)] = decodeURIComponent(segment);
      } catch {
        return undefined;
      }
    } else if (expected !== segment) {
      return undefined;
    }
  }
  return params;
}

/**
 * Method + path routing for the HTTP listener, small on purpose: the management API and the HTTP protocol
 * adapter add their routes to the list the server builds. Unmatched paths get 404 and wrong methods 405,
 * both as problem details; HEAD is answered by the GET route (node drops the body).
 */
export class HttpRouter {
  private readonly routes: readonly CompiledRoute[];

  constructor(
    routes: readonly HttpRoute[],
    private readonly logger: Logger,
  ) {
    this.routes = routes.map((route) => ({ route, segments: splitPath(route.path) }));
  }

  readonly handle = (request: IncomingMessage, response: ServerResponse): void => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const segments = splitPath(url.pathname);
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    const allowed = new Set<string>();
    for (const { route, segments: pattern } of this.routes) {
      const params = matchSegments(pattern, segments);
      if (params === undefined) continue;
      if (route.method !== method) {
        allowed.add(route.method);
        continue;
      }
      this.run(route, { request, response, url, params });
      return;
    }
    if (allowed.size > 0) {
      if (allowed.has('GET')) allowed.add('HEAD');
      sendProblem(
        response,
        { status: 405, detail: `${request.method ?? ''} is not allowed on ${url.pathname}`, instance: url.pathname },
        { allow: [...allowed].join(', ') },
      );
      return;
    }
    sendProblem(response, { status: 404, detail: `no resource at ${url.pathname}`, instance: url.pathname });
  };

  private run(route: HttpRoute, context: RouteContext): void {
    const fail = (error: unknown): void => {
      this.logger.error({ err: error, method: route.method, path: context.url.pathname }, 'http handler failed');
      if (context.response.headersSent) {
        context.response.destroy();
        return;
      }
      sendProblem(context.response, {
        status: 500,
        detail: 'the request failed; the broker log has details',
        instance: context.url.pathname,
        ...(isBrokerError(error) ? { code: error.code } : {}),
      });
    };
    try {
      const result = route.handle(context);
      if (result instanceof Promise) result.catch(fail);
    } catch (error) {
      fail(error);
    }
  }
}
