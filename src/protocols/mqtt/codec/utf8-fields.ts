/**
 * Checks every UTF-8 string field of a client packet on its raw bytes. mqtt-packet decodes strings
 * leniently (invalid sequences become U+FFFD), while the specification makes a packet with an
 * ill-formed string, or one containing U+0000, malformed: [MQTT-1.5.3-1] [MQTT-1.5.3-2] (3.1.1) and
 * [MQTT-1.5.4-1] [MQTT-1.5.4-2] (5.0). The walk only visits string fields; the parser checks the rest.
 *
 * Returns false when a string field is ill-formed; a packet too short to walk is left to the parser.
 */
import { isUtf8 } from 'node:buffer';
import { fixedHeaderOf } from './framer.js';

/** Property value types of MQTT 5 (section 2.2.2.2). */
const enum PropertyType {
  Byte,
  TwoByte,
  FourByte,
  VarInt,
  String,
  Binary,
  Pair,
}

const PROPERTY_TYPES: ReadonlyMap<number, PropertyType> = new Map([
  [0x01, PropertyType.Byte], // payload format indicator
  [0x02, PropertyType.FourByte], // message expiry interval
  [0x03, PropertyType.String], // content type
  [0x08, PropertyType.String], // response topic
  [0x09, PropertyType.Binary], // correlation data
  [0x0b, PropertyType.VarInt], // subscription identifier
  [0x11, PropertyType.FourByte], // session expiry interval
  [0x12, PropertyType.String], // assigned client identifier
  [0x13, PropertyType.TwoByte], // server keep alive
  [0x15, PropertyType.String], // authentication method
  [0x16, PropertyType.Binary], // authentication data
  [0x17, PropertyType.Byte], // request problem information
  [0x18, PropertyType.FourByte], // will delay interval
  [0x19, PropertyType.Byte], // request response information
  [0x1a, PropertyType.String], // response information
  [0x1c, PropertyType.String], // server reference
  [0x1f, PropertyType.String], // reason string
  [0x21, PropertyType.TwoByte], // receive maximum
  [0x22, PropertyType.TwoByte], // topic alias maximum
  [0x23, PropertyType.TwoByte], // topic alias
  [0x24, PropertyType.Byte], // maximum QoS
  [0x25, PropertyType.Byte], // retain available
  [0x26, PropertyType.Pair], // user property
  [0x27, PropertyType.FourByte], // maximum packet size
  [0x28, PropertyType.Byte], // wildcard subscription available
  [0x29, PropertyType.Byte], // subscription identifiers available
  [0x2a, PropertyType.Byte], // shared subscription available
]);

/** Thrown inside the walk (never out of it) when a field runs past the packet: the parser reports that. */
class Truncated extends Error {}
const TRUNCATED = new Truncated('field runs past the packet');

class Walker {
  constructor(
    private readonly bytes: Uint8Array,
    public position: number,
    private readonly end: number,
  ) {}

  get remaining(): number {
    return this.end - this.position;
  }

  skip(count: number): void {
    if (this.position + count > this.end) throw TRUNCATED;
    this.position += count;
  }

  byte(): number {
    if (this.position >= this.end) throw TRUNCATED;
    return this.bytes[this.position++]!;
  }

  twoBytes(): number {
    const high = this.byte();
    return high * 256 + this.byte();
  }

  varInt(): number {
    let value = 0;
    let multiplier = 1;
    for (let i = 0; i < 4; i++) {
      const byte = this.byte();
      value += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) return value;
      multiplier *= 128;
    }
    throw TRUNCATED;
  }

  /** Skips a length-prefixed string, returning whether it is well-formed UTF-8 without U+0000. */
  string(): boolean {
    const length = this.twoBytes();
    const start = this.position;
    this.skip(length);
    const field = this.bytes.subarray(start, start + length);
    return field.indexOf(0) === -1 && isUtf8(field);
  }

  binary(): void {
    this.skip(this.twoBytes());
  }

  /** Walks an MQTT 5 property list, checking its string-valued properties. */
  properties(): boolean {
    const length = this.varInt();
    const end = this.position + length;
    if (end > this.end) throw TRUNCATED;
    while (this.position < end) {
      const type = PROPERTY_TYPES.get(this.varInt());
      switch (type) {
        case PropertyType.Byte:
          this.skip(1);
          break;
        case PropertyType.TwoByte:
          this.skip(2);
          break;
        case PropertyType.FourByte:
          this.skip(4);
          break;
        case PropertyType.VarInt:
          this.varInt();
          break;
        case PropertyType.String:
          if (!this.string()) return false;
          break;
        case PropertyType.Binary:
          this.binary();
          break;
        case PropertyType.Pair:
          if (!this.string() || !this.string()) return false;
          break;
        default:
          return true; // an unknown property: the parser refuses the packet
      }
    }
    return true;
  }
}

/**
 * The message path's common PUBLISH, checked without a Walker or a view: an ASCII topic without U+0000
 * and, in 5.0, no properties. False means "not sure": the full walk decides.
 */
function plainPublishWellFormed(packet: Uint8Array, v5: boolean): boolean {
  let at = 1;
  while (at < 5 && (packet[at]! & 0x80) !== 0) at++;
  at++;
  const topicLength = ((packet[at] ?? 0) << 8) | (packet[at + 1] ?? 0);
  at += 2;
  const topicEnd = at + topicLength;
  if (topicEnd > packet.length) return false;
  for (; at < topicEnd; at++) {
    const byte = packet[at]!;
    if (byte === 0 || byte > 0x7f) return false;
  }
  if (!v5) return true;
  if ((packet[0]! & 0x06) !== 0) at += 2; // QoS 1 / 2: the packet identifier
  return packet[at] === 0; // a zero-length property list
}

/** True unless a UTF-8 string field of the packet (a whole packet, fixed header included) is ill-formed. */
export function stringFieldsWellFormed(packet: Uint8Array, protocolVersion: number): boolean {
  if (packet[0]! >> 4 === 3 && plainPublishWellFormed(packet, protocolVersion === 5)) return true;
  const { headerLength, remainingLength } = fixedHeaderOf(packet);
  const walker = new Walker(packet, headerLength, headerLength + remainingLength);
  const type = packet[0]! >> 4;
  const v5 = protocolVersion === 5;
  try {
    switch (type) {
      case 1:
        return connectWellFormed(walker);
      case 3: {
        if (!walker.string()) return false;
        const qos = (packet[0]! >> 1) & 0x03;
        if (qos > 0) walker.skip(2);
        return !v5 || walker.properties();
      }
      case 4:
      case 5:
      case 6:
      case 7:
        // PUBACK, PUBREC, PUBREL, PUBCOMP: packet id, then (5.0, when present) reason code and properties.
        if (!v5 || remainingLength < 4) return true;
        walker.skip(3);
        return walker.properties();
      case 8:
      case 10: {
        walker.skip(2);
        if (v5 && !walker.properties()) return false;
        while (walker.remaining > 0) {
          if (!walker.string()) return false;
          if (type === 8) walker.skip(1);
        }
        return true;
      }
      case 14:
        if (!v5 || remainingLength < 2) return true;
        walker.skip(1);
        return walker.properties();
      case 15:
        if (!v5 || remainingLength < 2) return true;
        walker.skip(1);
        return walker.properties();
      default:
        return true;
    }
  } catch (error) {
    if (error instanceof Truncated) return true;
    throw error;
  }
}

function connectWellFormed(walker: Walker): boolean {
  // Protocol name (checked by the level sniffing), level, flags, keep alive.
  if (!walker.string()) return false;
  const level = walker.byte();
  const flags = walker.byte();
  walker.skip(2);
  const v5 = level === 5;
  if (v5 && !walker.properties()) return false;
  if (!walker.string()) return false; // client identifier
  if (flags & 0x04) {
    if (v5 && !walker.properties()) return false;
    if (!walker.string()) return false; // will topic
    walker.binary(); // will payload
  }
  if (flags & 0x80 && !walker.string()) return false; // user name
  return true; // the password is binary data
}
