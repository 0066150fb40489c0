import type { ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  response.end(text);
}

/** An RFC 9457 problem-details body, the one error shape of Courier's HTTP surface. */
export interface Problem {
  readonly status: number;
  readonly detail: string;
  readonly title?: string;
  /** A registry error code, when the problem comes from a BrokerError. */
  readonly code?: string;
  readonly instance?: string;
}

export function sendProblem(response: ServerResponse, problem: Problem, headers: Record<string, string> = {}): void {
  const body = {
    type: 'about:blank',
    title: problem.title ?? STATUS_CODES[problem.status] ?? 'Error',
    ...problem,
  };
  const text = JSON.stringify(body);
  response.writeHead(problem.status, {
    'content-type': 'application/problem+json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  response.end(text);
}
