/**
 * Log names (queue and stream names: any UTF-8, including `/`, `.`, `..`, upper case and the empty
 * string) mapped to directory names that are safe on every file system we run on:
 *
 * - `l-` + the name with every byte outside [a-z0-9_-] written as `%` and two lower-case hex digits.
 *   Upper-case letters are escaped too, so two names never collide on a case-insensitive file system,
 *   and the prefix keeps `""`, `.`, `..` and Windows device names (`con`, `nul`) harmless.
 * - When that would exceed a safe file-name length, `h-` + a SHA-256 of the name; the real name is then
 *   kept in a `name` file inside the directory.
 */
import { createHash } from 'node:crypto';

export const NAME_FILE = 'name';
const PLAIN_PREFIX = 'l-';
const HASHED_PREFIX = 'h-';
/** Well below the 255-byte limit of common file systems. */
const MAX_PLAIN_LENGTH = 200;

function isPlainByte(byte: number): boolean {
  return (
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    byte === 0x5f || // _
    byte === 0x2d // -
  );
}

/** The directory name for a log. `hashed` tells the caller to store the real name in NAME_FILE. */
export function encodeLogName(name: string): { directory: string; hashed: boolean } {
  const bytes = Buffer.from(name, 'utf8');
  let encoded = PLAIN_PREFIX;
  for (const byte of bytes) {
    encoded += isPlainByte(byte) ? String.fromCharCode(byte) : `%${byte.toString(16).padStart(2, '0')}`;
    if (encoded.length > MAX_PLAIN_LENGTH) {
      return { directory: HASHED_PREFIX + createHash('sha256').update(bytes).digest('hex'), hashed: true };
    }
  }
  return { directory: encoded, hashed: false };
}

/**
 * The log name of a plain directory name; undefined for a hashed one (read NAME_FILE) and for
 * directories that are not logs.
 */
export function decodeLogName(directory: string): string | undefined {
  if (!directory.startsWith(PLAIN_PREFIX)) return undefined;
  const bytes: number[] = [];
  for (let i = PLAIN_PREFIX.length; i < directory.length; i++) {
    const code = directory.charCodeAt(i);
    if (code === 0x25) {
      const hex = directory.slice(i + 1, i + 3);
      if (!/^[0-9a-f]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (isPlainByte(code)) {
      bytes.push(code);
    } else {
      return undefined;
    }
  }
  const name = Buffer.from(bytes).toString('utf8');
  // Only the canonical spelling counts: anything else was not written by encodeLogName.
  return encodeLogName(name).directory === directory ? name : undefined;
}

export function isHashedDirectory(directory: string): boolean {
  return directory.startsWith(HASHED_PREFIX) && /^[0-9a-f]{64}$/.test(directory.slice(HASHED_PREFIX.length));
}
