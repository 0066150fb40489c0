/**
 * Record kinds of a queue's log, and the encoding of the state records. A queue keeps its messages and
 * its acknowledgement state in one log so that one ordered scan recovers both.
 */
export const RecordKind = {
  /** A persistent message: survives restarts. Payload: the encoded message. */
  persistentMessage: 1,
  /** A transient message in a durable queue: written like the others but dropped at recovery (RabbitMQ semantics). */
  transientMessage: 2,
  /** Offsets settled (acked, dead-lettered, dropped, purged). Payload: pairs of f64 [start, end). */
  settled: 3,
  /** Offsets delivered once more each. Payload: f64 offsets. Recovery derives redelivered flags and counts. */
  delivered: 4,
} as const;

export function isMessageKind(kind: number): boolean {
  return kind === RecordKind.persistentMessage || kind === RecordKind.transientMessage;
}

/** Encodes sorted-or-not offsets as merged ranges, the common in-order ack becoming a single pair. */
export function encodeSettled(offsets: readonly number[]): Uint8Array {
  const sorted = offsets.length > 1 ? [...offsets].sort((a, b) => a - b) : offsets;
  const pairs: number[] = [];
  for (const offset of sorted) {
    const last = pairs.length - 1;
    if (last > 0 && pairs[last] === offset) pairs[last] = offset + 1;
    else if (last > 0 && pairs[last]! > offset) continue; // duplicate
    else pairs.push(offset, offset + 1);
  }
  return encodeNumbers(pairs);
}

export function encodeRange(start: number, end: number): Uint8Array {
  return encodeNumbers([start, end]);
}

/** Little-endian f64s, whatever the platform's byte order. */
export function encodeNumbers(values: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i]!, true);
  return bytes;
}

/** Reads the f64 values of a state record; the payload may be an unaligned view. */
export function forEachNumber(payload: Uint8Array, visit: (value: number, index: number) => void): void {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const count = Math.floor(payload.byteLength / 8);
  for (let i = 0; i < count; i++) visit(view.getFloat64(i * 8, true), i);
}
