/**
 * Splits a byte stream into whole MQTT packets using the fixed header alone, before any packet is
 * parsed, so that an oversize packet is refused as soon as its length is known instead of after it was
 * buffered, and so that each packet reaches the parser (and the UTF-8 checks) whole.
 *
 * Pure: bytes in, packets out; no sockets.
 */

export type FramingError =
  /** The Remaining Length has a continuation bit in its fourth byte [MQTT-1.5.5-1] / 2.2.3. */
  | { readonly kind: 'malformed-length' }
  /** The whole packet would exceed the allowed maximum. */
  | { readonly kind: 'too-large'; readonly size: number };

export interface FixedHeader {
  /** Bytes of the fixed header: the type/flags byte and 1-4 length bytes. */
  readonly headerLength: number;
  readonly remainingLength: number;
}

const INCOMPLETE = -1;
const MALFORMED = -2;

/**
 * Reads the fixed header at `at`: `remainingLength * 8 + headerLength` (one number, so that framing a
 * packet allocates nothing), INCOMPLETE when more bytes are needed, MALFORMED for a bad length.
 */
function readFixedHeader(data: Uint8Array, at: number): number {
  let value = 0;
  let multiplier = 1;
  for (let i = 1; i <= 4; i++) {
    if (at + i >= data.length) return INCOMPLETE;
    const byte = data[at + i]!;
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return value * 8 + 1 + i;
    multiplier *= 128;
  }
  return MALFORMED;
}

export class PacketFramer {
  /** The start of a packet whose fixed header is not complete yet (at most 4 bytes). */
  private head: Buffer | undefined;
  /** A packet being assembled, allocated at its full size once its length is known. */
  private body: Buffer | undefined;
  private filled = 0;

  constructor(private readonly maxPacketBytes: number) {}

  /**
   * Hands every whole packet of `chunk` (with what was buffered before) to `onPacket`, in order. Stops
   * early when `onPacket` returns false (the session is closing) or at the first framing error, which
   * it returns; the framer must not be used after an error.
   */
  push(chunk: Buffer, onPacket: (packet: Buffer) => boolean): FramingError | undefined {
    let data = chunk;
    let position = 0;
    if (this.body) {
      const take = Math.min(this.body.length - this.filled, data.length);
      data.copy(this.body, this.filled, 0, take);
      this.filled += take;
      position = take;
      if (this.filled < this.body.length) return undefined;
      const packet = this.body;
      this.body = undefined;
      this.filled = 0;
      if (!onPacket(packet)) return undefined;
    } else if (this.head) {
      data = Buffer.concat([this.head, data]);
      this.head = undefined;
    }
    while (position < data.length) {
      const header = readFixedHeader(data, position);
      if (header === INCOMPLETE) {
        this.head = Buffer.from(data.subarray(position));
        return undefined;
      }
      if (header === MALFORMED) return { kind: 'malformed-length' };
      const size = (header & 7) + Math.floor(header / 8);
      if (size > this.maxPacketBytes) return { kind: 'too-large', size };
      if (position + size <= data.length) {
        // A view: socket chunks are never reused by Node, so the packet may keep referring to it.
        const packet = data.subarray(position, position + size);
        position += size;
        if (!onPacket(packet)) return undefined;
        continue;
      }
      this.body = Buffer.allocUnsafe(size);
      data.copy(this.body, 0, position);
      this.filled = data.length - position;
      return undefined;
    }
    return undefined;
  }

  /** Bytes held for an incomplete packet (for tests and diagnostics). */
  get bufferedBytes(): number {
    return (this.head?.length ?? 0) + this.filled;
  }
}

/** The fixed header of a whole packet (the framer guarantees one is there). */
export function fixedHeaderOf(packet: Uint8Array): FixedHeader {
  const header = readFixedHeader(packet, 0);
  if (header === INCOMPLETE || header === MALFORMED) return { headerLength: packet.length, remainingLength: 0 };
  return { headerLength: header & 7, remainingLength: Math.floor(header / 8) };
}
