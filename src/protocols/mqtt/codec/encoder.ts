/** Packets to bytes, through mqtt-packet's generator. */
import { generate, type Packet } from 'mqtt-packet';
import type { ProtocolVersion } from './connect-sniff.js';

export function encodePacket(packet: Packet, version: ProtocolVersion): Buffer {
  return generate(packet, { protocolVersion: version });
}
