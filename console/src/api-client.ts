import { ApiError, problemOf } from './problem.js';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** The embedded default user: accepted from loopback only (docs/management.md). */
export const GUEST: Credentials = { username: 'guest', password: 'guest' };

function base64Utf8(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function basicAuthorization(credentials: Credentials): string {
  return `Basic ${base64Utf8(`${credentials.username}:${credentials.password}`)}`;
}

export interface SendOptions {
  readonly body?: unknown;
  /** For a raw (non-JSON) body, such as a test message. */
  readonly rawBody?: string;
  readonly contentType?: string;
}

/**
 * The console's only way to the broker: the REST API on its own origin, HTTP Basic on every request.
 * `credentials: 'omit'` keeps the browser's own login prompt away (the API's 401 carries a Basic
 * challenge) so the console asks in its own form, and no cached credentials are sent behind its back.
 */
export class ApiClient {
  constructor(
    private credentials: Credentials,
    private readonly base = '',
  ) {}

  get user(): string {
    return this.credentials.username;
  }

  setCredentials(credentials: Credentials): void {
    this.credentials = credentials;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, options: SendOptions = {}): Promise<T> {
    return this.request<T>(method, path, options);
  }

  private async request<T>(method: string, path: string, options: SendOptions = {}): Promise<T> {
    const headers: Record<string, string> = {
      authorization: basicAuthorization(this.credentials),
      accept: 'application/json, application/problem+json',
      'x-requested-with': 'courier-console',
    };
    let body: string | undefined;
    if (options.rawBody !== undefined) {
      body = options.rawBody;
      headers['content-type'] = options.contentType ?? 'text/plain';
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, { method, headers, credentials: 'omit', cache: 'no-store', ...(body === undefined ? {} : { body }) });
    } catch (error) {
      throw new ApiError({ status: 0, title: 'Network error', detail: `the broker did not answer (${error instanceof Error ? error.message : String(error)})` });
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!response.ok) throw new ApiError(problemOf(response.status, response.statusText, parsed));
    return parsed as T;
  }
}
