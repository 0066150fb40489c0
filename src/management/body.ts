import { BrokerError } from '../core/errors.js';
import type { HeaderTable } from '../core/message/message.js';
import { jsonObject } from '../transport/http/query.js';
import { readBody } from '../transport/http/request-body.js';
import type { ManagementRequest } from './route-types.js';

function invalid(message: string, field?: string): BrokerError {
  return new BrokerError('INVALID_ARGUMENT', message, field === undefined ? {} : { field });
}

/** The JSON object of the request body; an empty body is `{}` when `optional`. */
export async function readJsonBody(api: ManagementRequest, optional = false): Promise<Record<string, unknown>> {
  const body = await readBody(api.request, api.maxBodyBytes);
  if (body.byteLength === 0) {
    if (optional) return {};
    throw invalid('the request body must be a JSON object');
  }
  return jsonObject(body);
}

/** Refuses fields the endpoint does not know: a typo must not be silently ignored. */
export function onlyFields(body: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw invalid(`unknown field '${key}' in ${what}; allowed: ${allowed.join(', ')}`, key);
  }
}

export function requiredString(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string') throw invalid(`field '${name}' must be a string`, name);
  return value;
}

export function optionalString(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`field '${name}' must be a string`, name);
  return value;
}

export function optionalBoolean(body: Record<string, unknown>, name: string): boolean | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw invalid(`field '${name}' must be true or false`, name);
  return value;
}

export function optionalInteger(body: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`field '${name}' must be an integer between ${min} and ${max}`, name);
  }
  return value;
}

/** Queue, exchange and binding arguments: a JSON object (its values are all valid header values). */
export function optionalArguments(body: Record<string, unknown>, name = 'arguments'): HeaderTable | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(`field '${name}' must be a JSON object`, name);
  return value as HeaderTable;
}

/** A boolean query flag such as `ifUnused=true`. */
export function booleanQuery(url: URL, name: string): boolean {
  const text = url.searchParams.get(name);
  if (text === null || text === '' || text === 'false') return false;
  if (text === 'true') return true;
  throw new BrokerError('INVALID_ARGUMENT', `query parameter ${name} must be true or false`, { parameter: name });
}
