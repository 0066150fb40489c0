import { BrokerError } from '../../core/errors.js';

/** An integer query parameter within [min, max], or `fallback` when absent. */
export function integerParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  const text = url.searchParams.get(name);
  if (text === null || text === '') return fallback;
  if (!/^\d+$/.test(text)) throw new BrokerError('INVALID_ARGUMENT', `query parameter ${name} must be an integer`, { parameter: name });
  const value = Number(text);
  if (value < min || value > max) {
    throw new BrokerError('INVALID_ARGUMENT', `query parameter ${name} must be between ${min} and ${max}`, { parameter: name });
  }
  return value;
}

/** Parses a JSON request body into an object, or INVALID_ARGUMENT. */
export function jsonObject(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new BrokerError('INVALID_ARGUMENT', 'the request body must be JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BrokerError('INVALID_ARGUMENT', 'the request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}
