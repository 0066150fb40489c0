/** Readable errors from the API's RFC 9457 problem details; pure, so it is unit-tested in Node. */

export interface Problem {
  readonly status: number;
  readonly title: string;
  readonly detail?: string;
  readonly code?: string;
}

/** The problem in a response body, or one made from the status when the body is not problem+json. */
export function problemOf(status: number, statusText: string, body: unknown): Problem {
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const title = typeof record['title'] === 'string' && record['title'] !== '' ? record['title'] : statusText || 'Error';
  const detail = typeof record['detail'] === 'string' && record['detail'] !== '' ? record['detail'] : undefined;
  const code = typeof record['code'] === 'string' && record['code'] !== '' ? record['code'] : undefined;
  return { status, title, ...(detail === undefined ? {} : { detail }), ...(code === undefined ? {} : { code }) };
}

/** `Bad Request (INVALID_NAME): topic name 'a b' contains a space...` */
export function describeProblem(problem: Problem): string {
  const head = problem.code === undefined ? problem.title : `${problem.title} (${problem.code})`;
  return problem.detail === undefined ? `${head}, HTTP ${problem.status}` : `${head}: ${problem.detail}`;
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(describeProblem(problem));
    this.name = 'ApiError';
  }
}
