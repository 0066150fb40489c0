/**
 * CRC-32 (IEEE 802.3, the zlib/gzip polynomial) used to protect log records and index files.
 *
 * DESIGN.md §4 names crc32c; we use plain CRC-32 instead because Node ships a native implementation of it
 * (`zlib.crc32`, Node >= 20.15 / 22.2) and none of crc32c. Both detect the torn writes and bit flips we care
 * about equally well; the native one costs a fraction of a JS loop. On older Node versions a table-driven
 * JS version with identical results takes over, so files stay readable across Node versions.
 */
import * as zlib from 'node:zlib';

export type Crc32 = (data: Uint8Array, initial?: number) => number;

function makeTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** Builds the JS fallback; exported so tests can check it agrees with the native one. */
export function createJsCrc32(): Crc32 {
  const table = makeTable();
  return (data: Uint8Array, initial = 0): number => {
    let crc = (initial ^ 0xffffffff) >>> 0;
    for (let i = 0; i < data.length; i++) {
      crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
    }
    return (crc ^ 0xffffffff) >>> 0;
  };
}

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 of `data`, continuing from `initial` (the CRC of the bytes before it). */
// Node's native crc32 returns 0 instead of `initial` for an empty view over a zero-length ArrayBuffer
// (seen on Node 20.20), so empty input never reaches it.
export const crc32: Crc32 =
  typeof native === 'function'
    ? (data: Uint8Array, initial = 0): number => (data.length === 0 ? initial >>> 0 : native(data, initial))
    : createJsCrc32();

export const hasNativeCrc32 = typeof native === 'function';
