/**
 * Writes a session's packets: everything written in one event-loop turn leaves in one `writev` (the
 * socket is corked at the first write of a turn and uncorked on the next tick), and a full socket buffer
 * is reported so the session can stop taking deliveries until it drains.
 */
import type { Duplex } from 'node:stream';
import type { Packet } from 'mqtt-packet';
import type { ProtocolVersion } from './codec/connect-sniff.js';
import { encodePacket } from './codec/encoder.js';

export class PacketWriter {
  private corked = false;
  private blocked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  constructor(
    private readonly socket: Duplex,
    /** Called with true when the socket buffer is full, false once it drained. */
    private readonly onBackpressure: (blocked: boolean) => void,
  ) {
    socket.on('drain', () => {
      if (!this.blocked) return;
      this.blocked = false;
      this.onBackpressure(false);
    });
  }

  /** Encodes and queues a packet; returns its size in bytes. */
  write(packet: Packet, version: ProtocolVersion): number {
    return this.writeBytes(encodePacket(packet, version));
  }

  writeBytes(bytes: Uint8Array): number {
    if (this.socket.destroyed || this.socket.writableEnded) return bytes.length;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    if (!this.socket.write(bytes) && !this.blocked) {
      this.blocked = true;
      this.onBackpressure(true);
    }
    return bytes.length;
  }
}
