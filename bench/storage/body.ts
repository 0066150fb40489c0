/** Message bodies that carry their sequence number, so a drain can check FIFO order and completeness. */

export const BODY_BYTES = 1024;

/** A fixed pattern rather than zeros, so nothing on the way could get away with compressing the bodies. */
const TEMPLATE = Uint8Array.from({ length: BODY_BYTES }, (_, i) => (i * 31 + 7) & 0xff);

/**
 * A fresh body per message (the broker keeps some bodies in memory, its read-ahead, so none is shared):
 * a copy of the template with the sequence number in the first four bytes, big-endian.
 */
export function sequencedBody(sequence: number): Uint8Array {
  const body = TEMPLATE.slice();
  body[0] = sequence >>> 24;
  body[1] = (sequence >>> 16) & 0xff;
  body[2] = (sequence >>> 8) & 0xff;
  body[3] = sequence & 0xff;
  return body;
}

export function bodySequence(body: Uint8Array): number {
  return ((body[0]! << 24) | (body[1]! << 16) | (body[2]! << 8) | body[3]!) >>> 0;
}

/** Whether the body is the template with a sequence number: right length, pattern intact (sampled). */
export function bodyIsIntact(body: Uint8Array): boolean {
  if (body.byteLength !== BODY_BYTES) return false;
  for (let i = 4; i < BODY_BYTES; i += 61) if (body[i] !== TEMPLATE[i]) return false;
  return body[BODY_BYTES - 1] === TEMPLATE[BODY_BYTES - 1];
}
