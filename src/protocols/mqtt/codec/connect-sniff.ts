/**
 * Reads the protocol name and level of a first packet before it is parsed: mqtt-packet refuses an
 * unknown level with a bare error, while the server must answer it with a CONNACK [MQTT-3.1.2-2].
 */
import { fixedHeaderOf } from './framer.js';

export type ProtocolVersion = 3 | 4 | 5;

export type SniffResult =
  | { readonly kind: 'supported'; readonly version: ProtocolVersion }
  /** MQTT or MQIsdp with a level this server does not speak. */
  | { readonly kind: 'unsupported-level'; readonly level: number }
  /** Not a CONNECT [MQTT-3.1.0-1], or not an MQTT protocol name [MQTT-3.1.2-1]. */
  | { readonly kind: 'not-mqtt' };

const CONNECT = 1;

export function sniffConnect(packet: Uint8Array): SniffResult {
  if (packet[0]! >> 4 !== CONNECT) return { kind: 'not-mqtt' };
  const { headerLength } = fixedHeaderOf(packet);
  const nameLength = (packet[headerLength] ?? 0) * 256 + (packet[headerLength + 1] ?? 0);
  const nameStart = headerLength + 2;
  const levelAt = nameStart + nameLength;
  if (levelAt >= packet.length) return { kind: 'not-mqtt' };
  const name = Buffer.from(packet.buffer, packet.byteOffset + nameStart, nameLength).toString('latin1');
  const level = packet[levelAt]!;
  if (name === 'MQTT' && (level === 4 || level === 5)) return { kind: 'supported', version: level };
  if (name === 'MQIsdp' && level === 3) return { kind: 'supported', version: 3 };
  if (name === 'MQTT' || name === 'MQIsdp') return { kind: 'unsupported-level', level };
  return { kind: 'not-mqtt' };
}
