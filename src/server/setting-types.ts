import { isIP } from 'node:net';
import { resolve } from 'node:path';
import type { FsyncPolicy } from '../core/ports.js';

/** A value as it arrives from a flag or an environment variable (string) or from YAML (any scalar). */
export type RawSettingValue = string | number | boolean;

export interface ParseContext {
  /** Relative paths are resolved against this directory (the working directory, or the config file's). */
  readonly baseDir: string;
}

/**
 * How one kind of setting value is written and checked. `parse` returns undefined for a value it refuses;
 * the caller words the error from `expected`, so every setting reports bad values the same way.
 */
export interface SettingType<T> {
  /** Completes "expected ..." in error messages, e.g. "a port number 0-65535". */
  readonly expected: string;
  /** Shown after the flag in --help, e.g. PORT. */
  readonly placeholder: string;
  parse(raw: RawSettingValue, context: ParseContext): T | undefined;
}

function integerFrom(raw: RawSettingValue): number | undefined {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) ? raw : undefined;
  if (typeof raw === 'string' && /^\d+$/.test(raw.trim())) return Number(raw.trim());
  return undefined;
}

/** A listener port; `0` means "do not start this listener" and parses to null. */
export const listenerPort: SettingType<number | null> = {
  expected: 'a port number 0-65535',
  placeholder: 'PORT',
  parse(raw) {
    const port = integerFrom(raw);
    if (port === undefined || port > 65535) return undefined;
    return port === 0 ? null : port;
  },
};

const hostnamePattern = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

export const host: SettingType<string> = {
  expected: 'an IP address or a host name',
  placeholder: 'HOST',
  parse(raw) {
    if (typeof raw !== 'string') return undefined;
    const value = raw.trim();
    return isIP(value) !== 0 || hostnamePattern.test(value) ? value : undefined;
  },
};

export const directory: SettingType<string> = {
  expected: 'a directory path',
  placeholder: 'DIR',
  parse(raw, context) {
    if (typeof raw !== 'string' || raw.trim() === '') return undefined;
    return resolve(context.baseDir, raw);
  },
};

/** A file path that may be absent (the setting is optional). */
export const optionalFile: SettingType<string | undefined> = {
  expected: 'a file path',
  placeholder: 'FILE',
  parse(raw, context) {
    if (typeof raw !== 'string' || raw.trim() === '') return undefined;
    return resolve(context.baseDir, raw);
  },
};

export function oneOf<const T extends string>(values: readonly T[], placeholder: string): SettingType<T> {
  return {
    expected: `one of ${values.join(', ')}`,
    placeholder,
    parse(raw) {
      return typeof raw === 'string' && (values as readonly string[]).includes(raw) ? (raw as T) : undefined;
    },
  };
}

const durationUnits: Readonly<Record<string, number>> = { ms: 1, s: 1000 };

/** `10ms`, `2s`; a bare number is refused so that nobody has to guess the unit. */
export function parseDurationMs(text: string): number | undefined {
  const match = /^(\d+)(ms|s)$/.exec(text.trim());
  if (!match) return undefined;
  const [, amount, unit] = match;
  const scale = durationUnits[unit ?? ''];
  if (amount === undefined || scale === undefined) return undefined;
  return Number(amount) * scale;
}

export function duration(minMs: number, maxMs: number, minText: string, maxText: string): SettingType<number> {
  return {
    expected: `a duration between ${minText} and ${maxText}, such as 250ms or 1s`,
    placeholder: 'DURATION',
    parse(raw) {
      if (typeof raw !== 'string') return undefined;
      const ms = parseDurationMs(raw);
      return ms !== undefined && ms >= minMs && ms <= maxMs ? ms : undefined;
    },
  };
}

/** Longest group-commit interval accepted: beyond a minute "never" is the honest setting. */
const maxFsyncIntervalMs = 60_000;

export const fsyncPolicy: SettingType<FsyncPolicy> = {
  expected: 'always, never, or an interval such as 10ms or 1s (at most 60s)',
  placeholder: 'POLICY',
  parse(raw) {
    if (typeof raw !== 'string') return undefined;
    const value = raw.trim();
    if (value === 'always') return { mode: 'always' };
    if (value === 'never') return { mode: 'never' };
    const intervalMs = parseDurationMs(value);
    if (intervalMs === undefined || intervalMs < 1 || intervalMs > maxFsyncIntervalMs) return undefined;
    return { mode: 'interval', intervalMs };
  },
};

const sizeUnits: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** `65536`, `64KiB`, `64MiB`, `1GiB`; units are binary (KB is read as KiB, as most operators mean it). */
export function parseByteSize(raw: RawSettingValue): number | undefined {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) && raw >= 0 ? raw : undefined;
  if (typeof raw !== 'string') return undefined;
  const match = /^(\d+)\s*([a-z]*)$/i.exec(raw.trim());
  if (!match) return undefined;
  const [, amount, unit] = match;
  const scale = sizeUnits[(unit ?? '').toLowerCase()];
  if (amount === undefined || scale === undefined) return undefined;
  const bytes = Number(amount) * scale;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

export function byteSize(min: number, max: number, minText: string, maxText: string): SettingType<number> {
  return {
    expected: `a size between ${minText} and ${maxText}, such as 64MiB`,
    placeholder: 'SIZE',
    parse(raw) {
      const bytes = parseByteSize(raw);
      return bytes !== undefined && bytes >= min && bytes <= max ? bytes : undefined;
    },
  };
}
