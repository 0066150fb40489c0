/**
 * Lossless JSON for metadata snapshots, whose header tables (`arguments`) may hold bytes, bigints and
 * numbers JSON cannot spell. Such values become one-key tagged objects:
 *   Uint8Array -> {"$bytes": base64}   bigint -> {"$bigint": "123"}   NaN, ±Infinity, -0 -> {"$number": "NaN"}
 * A key of a plain object that starts with `$` gets one more `$` in front, so a user's header named
 * `$bytes` can never be mistaken for a tag.
 */
const TAGS = new Set(['$bytes', '$bigint', '$number']);

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export class TaggedJsonError extends Error {
  override readonly name = 'TaggedJsonError';
}

export function toTaggedJson(value: unknown): Json {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value) || Object.is(value, -0)) return { $number: Object.is(value, -0) ? '-0' : String(value) };
      return value;
    case 'bigint':
      return { $bigint: value.toString() };
    case 'undefined':
      return null;
    case 'object': {
      if (value === null) return null;
      if (value instanceof Uint8Array) {
        return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
      }
      if (Array.isArray(value)) return value.map((item: unknown) => toTaggedJson(item));
      const prototype: unknown = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) {
        throw new TaggedJsonError(`cannot store a ${value.constructor.name} in metadata`);
      }
      const entries: [string, Json][] = [];
      for (const [key, item] of Object.entries(value)) {
        if (item === undefined) continue;
        entries.push([key.startsWith('$') ? `$${key}` : key, toTaggedJson(item)]);
      }
      return Object.fromEntries(entries);
    }
    default:
      throw new TaggedJsonError(`cannot store a ${typeof value} in metadata`);
  }
}

export function fromTaggedJson(value: Json): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => fromTaggedJson(item));
  const keys = Object.keys(value);
  if (keys.length === 1 && TAGS.has(keys[0]!)) return decodeTag(keys[0]!, value[keys[0]!]);
  const entries: [string, unknown][] = [];
  for (const key of keys) {
    if (key.startsWith('$') && !key.startsWith('$$')) throw new TaggedJsonError(`unknown tag ${JSON.stringify(key)}`);
    entries.push([key.startsWith('$') ? key.slice(1) : key, fromTaggedJson(value[key]!)]);
  }
  // fromEntries defines own properties, so a key like "__proto__" stays data and never a prototype.
  return Object.fromEntries(entries);
}

function decodeTag(tag: string, payload: Json | undefined): unknown {
  if (typeof payload !== 'string') throw new TaggedJsonError(`${tag} holds a ${typeof payload}, not a string`);
  switch (tag) {
    case '$bytes':
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(payload)) throw new TaggedJsonError('$bytes is not base64');
      return new Uint8Array(Buffer.from(payload, 'base64'));
    case '$bigint':
      if (!/^-?\d+$/.test(payload)) throw new TaggedJsonError('$bigint is not an integer');
      return BigInt(payload);
    default: {
      const number = payload === '-0' ? -0 : Number(payload);
      if (!['NaN', 'Infinity', '-Infinity', '-0'].includes(payload)) throw new TaggedJsonError(`$number ${payload} is not special`);
      return number;
    }
  }
}
