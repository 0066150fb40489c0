import type { ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { isBrokerError, type ErrorCode } from '../../core/errors.js';

/** An RFC 9457 problem-details body; `code` is the core's registry code when there is one. */
export interface HttpProblem {
  readonly status: number;
  readonly detail: string;
  /** Defaults to the status's reason phrase. */
  readonly title?: string;
  readonly code?: string;
  readonly instance?: string;
}

/**
 * HTTP status for each core error code that a client can cause. QUEUE_FULL is 429 (as SQS throttling):
 * the request was fine, the queue refuses more for now, and retrying later may succeed.
 */
const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  INVALID_NAME: 400,
  RESERVED_NAME: 400,
  OFFSET_OUT_OF_RANGE: 400,
  AUTHENTICATION_FAILED: 401,
  ACCESS_REFUSED: 403,
  QUEUE_NOT_FOUND: 404,
  EXCHANGE_NOT_FOUND: 404,
  STREAM_NOT_FOUND: 404,
  TOPIC_NOT_FOUND: 404,
  CONNECTION_NOT_FOUND: 404,
  BINDING_NOT_FOUND: 404,
  PRECONDITION_FAILED: 409,
  RESOURCE_LOCKED: 409,
  IN_USE: 409,
  NOT_EMPTY: 409,
  EXCLUSIVE_CONSUMER: 409,
  TOPIC_EXISTS: 409,
  QUEUE_FULL: 429,
  BROKER_CLOSED: 503,
  CHANNEL_CLOSED: 503,
  TIMEOUT: 504,
  RESOURCE_ALARM: 503,
  SERVICE_NOT_FOUND: 404,
};

export function statusForCode(code: ErrorCode): number {
  return STATUS_BY_CODE[code] ?? 500;
}

export function sendProblem(response: ServerResponse, problem: HttpProblem, headers: Record<string, string> = {}): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const text = JSON.stringify({
    type: 'about:blank',
    title: STATUS_CODES[problem.status] ?? 'Error',
    ...problem,
  });
  response.writeHead(problem.status, {
    'content-type': 'application/problem+json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  response.end(text);
}

/**
 * Turns what a handler threw into problem details. A BrokerError may carry `details.httpStatus` when the
 * HTTP layer needs a status its code does not imply (413 for a body over the limit, 504 for a timeout).
 * Anything else is a 500 whose detail reveals nothing.
 */
export function problemFor(error: unknown, instance: string): HttpProblem {
  if (isBrokerError(error)) {
    const override = error.details?.['httpStatus'];
    const status = typeof override === 'number' ? override : statusForCode(error.code);
    const detail = status === 500 ? 'the request failed; the broker log has details' : error.message;
    return { status, detail, code: error.code, instance };
  }
  return { status: 500, detail: 'the request failed; the broker log has details', code: 'INTERNAL', instance };
}

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
