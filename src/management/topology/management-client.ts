import { BrokerError, errorRegistry, type ErrorCode } from '../../core/errors.js';

export interface ManagementClientOptions {
  /** Base URL of the broker's HTTP port, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  readonly user: string;
  readonly password: string;
  /** Per request, in milliseconds (default 30 s); long polls add their wait to it. */
  readonly timeoutMs?: number;
}

export interface ManagementResponse {
  readonly status: number;
  /** Parsed JSON, or undefined for an empty body. */
  readonly body: unknown;
}

export interface RequestOptions {
  readonly body?: unknown;
  readonly rawBody?: Uint8Array;
  readonly headers?: Readonly<Record<string, string>>;
  /** Added to the request timeout (a long poll's wait). */
  readonly extraTimeoutMs?: number;
}

function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(errorRegistry, code);
}

/** Why fetch failed, in words an operator can act on. */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  switch (cause?.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
      return 'host not found';
    case 'ECONNRESET':
      return 'connection reset';
    case 'EHOSTUNREACH':
      return 'host unreachable';
    default:
      return cause?.message ?? (error instanceof Error ? error.message : String(error));
  }
}

/**
 * A small client of Courier's REST management API (`/api/...`), with HTTP Basic credentials. Every failure
 * is a BrokerError: a problem+json answer keeps its Courier code and detail; a broker that does not answer
 * is BROKER_CLOSED with the URL and the reason, so the CLI can say "is it running?".
 */
export class ManagementClient {
  private readonly base: URL;
  private readonly authorization: string;
  private readonly timeoutMs: number;

  constructor(options: ManagementClientOptions) {
    let base: URL;
    try {
      base = new URL(options.url);
    } catch {
      throw new BrokerError('CONFIG_INVALID', `invalid URL "${options.url}": expected something like http://127.0.0.1:8080`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new BrokerError('CONFIG_INVALID', `invalid URL "${options.url}": only http:// and https:// are supported`);
    }
    this.base = base;
    this.authorization = `Basic ${Buffer.from(`${options.user}:${options.password}`).toString('base64')}`;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  get url(): string {
    return this.base.origin;
  }

  /** `path` starts with /api/; each caller encodes its own path segments. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<ManagementResponse> {
    const url = new URL(path, this.base);
    const headers: Record<string, string> = { authorization: this.authorization, accept: 'application/json', ...options.headers };
    let body: string | Uint8Array | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(this.timeoutMs + (options.extraTimeoutMs ?? 0)),
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === 'TimeoutError') {
        throw new BrokerError('TIMEOUT', `${method} ${url.pathname}: no answer from ${this.url} in time`, undefined, { cause: error });
      }
      throw new BrokerError('BROKER_CLOSED', `cannot reach Courier at ${this.url} (${networkReason(error)}); is it running? (set --url or COURIER_URL)`, undefined, {
        cause: error,
      });
    }
    const text = await response.text();
    let parsed: unknown;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (!response.ok) throw problemError(method, url.pathname, response, parsed);
    return { status: response.status, body: parsed };
  }

  async get<T>(path: string): Promise<T> {
    return (await this.request('GET', path)).body as T;
  }
}

function problemError(method: string, path: string, response: Response, body: unknown): BrokerError {
  const problem = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const detail = typeof problem['detail'] === 'string' ? problem['detail'] : typeof body === 'string' && body.length > 0 ? body.slice(0, 200) : response.statusText;
  const code = problem['code'];
  const status = `${response.status} ${response.statusText}`.trim();
  if (response.status === 404 && !isErrorCode(code)) {
    // No problem body: the route itself is missing (an older broker without the management API).
    return new BrokerError('INVALID_ARGUMENT', `${method} ${path}: ${status}; does this broker serve the management API?`, { httpStatus: 404 });
  }
  return new BrokerError(isErrorCode(code) ? code : 'INTERNAL', `${detail} (HTTP ${status}${isErrorCode(code) ? `, ${code}` : ''})`, {
    httpStatus: response.status,
  });
}

/** One path segment, percent-encoded (names may hold `/`, `#` and spaces). */
export function segment(name: string): string {
  return encodeURIComponent(name);
}
