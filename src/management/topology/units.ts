/** Durations and byte sizes as people write them in a topology file (`7d`, `10GiB`). */

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  tb: 1000 ** 4,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

export const DURATION_EXPECTED = 'a duration with a unit, such as 7d, 12h, 30m, 10s or 500ms';
export const SIZE_EXPECTED = 'a positive whole number of bytes or a size such as 500MB or 10GiB';

/** Milliseconds, or undefined when `text` is not a positive duration with a unit. */
export function parseDuration(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const match = /^\s*(\d+)\s*(ms|s|m|h|d|w)\s*$/i.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]) * (DURATION_UNITS_MS[match[2]!.toLowerCase()] ?? Number.NaN);
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/** Bytes, or undefined when `value` is neither a positive integer nor a size with a unit. */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(value);
  if (!match) return undefined;
  const unit = match[2]!.toLowerCase() || 'b';
  const bytes = Number(match[1]) * (SIZE_UNITS[unit] ?? Number.NaN);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

/** The shortest exact form of a duration in milliseconds (`604800000` -> `7d`). */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = DURATION_UNITS_MS[unit]!;
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** The shortest exact binary form of a byte count (`1073741824` -> `1GiB`). */
export function formatSize(bytes: number): string {
  for (const unit of ['TiB', 'GiB', 'MiB', 'KiB'] as const) {
    const size = SIZE_UNITS[unit.toLowerCase()]!;
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}
