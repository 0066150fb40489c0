/**
 * Headers-exchange matching, following RabbitMQ (`rabbit_exchange_type_headers`):
 *
 * - `x-match` in the binding arguments selects the mode: `all` (the default when absent), `any`,
 *   `all-with-x`, `any-with-x`. Any other value (or a non-string) is refused at bind time.
 * - In `all` / `any`, binding arguments whose name starts with `x-` are ignored; in the `-with-x` modes
 *   they take part too. `x-match` itself never does.
 * - A binding argument whose value is `null` (AMQP's void) matches on the presence of that header,
 *   whatever its value. Any other value must be equal to the header's value.
 * - `all` with no argument left to compare matches every message; `any` with none matches nothing
 *   (RabbitMQ's fold starts from `true` for all and `false` for any).
 * - The routing key is ignored.
 *
 * Equality (our choice where RabbitMQ relies on Erlang term equality): same JS type and equal value;
 * `number` and `bigint` compare numerically (`1` equals `1n`, as Erlang's `1 == 1.0`); byte arrays by
 * content; arrays element-wise; tables by key set and values. A string never equals a byte array: the
 * protocol adapter decides which one a wire value becomes, consistently for bindings and messages.
 */
import { BrokerError } from '../errors.js';
import type { HeaderTable, HeaderValue } from '../message/message.js';

export type HeadersMatchMode = 'all' | 'any' | 'all-with-x' | 'any-with-x';

/** A binding's arguments reduced to what matching needs, computed once at bind time. */
export interface CompiledHeadersBinding {
  readonly any: boolean;
  readonly names: readonly string[];
  /** `null` means "present with any value". */
  readonly values: readonly HeaderValue[];
}

export function parseHeadersMatchMode(args: HeaderTable): HeadersMatchMode {
  if (!Object.hasOwn(args, 'x-match')) return 'all';
  const mode = args['x-match'];
  if (mode === 'all' || mode === 'any' || mode === 'all-with-x' || mode === 'any-with-x') return mode;
  throw new BrokerError(
    'INVALID_ARGUMENT',
    `invalid x-match value ${describe(mode)}: expected all, any, all-with-x or any-with-x`,
    { argument: 'x-match' },
  );
}

/** Throws BrokerError INVALID_ARGUMENT when `x-match` is invalid. */
export function compileHeadersBinding(args: HeaderTable): CompiledHeadersBinding {
  const mode = parseHeadersMatchMode(args);
  const withX = mode === 'all-with-x' || mode === 'any-with-x';
  const names: string[] = [];
  const values: HeaderValue[] = [];
  for (const name of Object.keys(args)) {
    if (name === 'x-match') continue;
    if (!withX && name.startsWith('x-')) continue;
    names.push(name);
    values.push(args[name]!);
  }
  return { any: mode === 'any' || mode === 'any-with-x', names, values };
}

export function headersMatch(binding: CompiledHeadersBinding, headers: HeaderTable | undefined): boolean {
  const { names, values } = binding;
  if (binding.any) {
    if (headers === undefined) return false;
    for (let i = 0; i < names.length; i++) {
      if (headerMatches(headers, names[i]!, values[i]!)) return true;
    }
    return false;
  }
  if (names.length === 0) return true;
  if (headers === undefined) return false;
  for (let i = 0; i < names.length; i++) {
    if (!headerMatches(headers, names[i]!, values[i]!)) return false;
  }
  return true;
}

function headerMatches(headers: HeaderTable, name: string, expected: HeaderValue): boolean {
  if (!Object.hasOwn(headers, name)) return false;
  return expected === null || headerValuesEqual(expected, headers[name]!);
}

export function headerValuesEqual(a: HeaderValue, b: HeaderValue): boolean {
  if (a === b) return true;
  const typeA = typeof a;
  const typeB = typeof b;
  if ((typeA === 'number' || typeA === 'bigint') && (typeB === 'number' || typeB === 'bigint')) {
    // Loose equality between number and bigint compares the mathematical values, which is the point.
    return a == b;
  }
  if (typeA !== 'object' || typeB !== 'object' || a === null || b === null) return false;
  if (a instanceof Uint8Array) return b instanceof Uint8Array && bytesEqual(a, b);
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!headerValuesEqual(a[i]!, b[i]!)) return false;
    return true;
  }
  if (b instanceof Uint8Array || Array.isArray(b)) return false;
  return headerTablesEqual(a as HeaderTable, b as HeaderTable);
}

/** Same key set and equal values; key order does not matter. */
export function headerTablesEqual(a: HeaderTable, b: HeaderTable): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    if (!Object.hasOwn(b, key) || !headerValuesEqual(a[key]!, b[key]!)) return false;
  }
  return true;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function describe(value: HeaderValue | undefined): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  return typeof value === 'object' && value !== null ? typeof value : String(value);
}
