/**
 * The MQTT decoder of one connection: framing (with the packet size limit), protocol level sniffing of
 * the first packet, UTF-8 checks, then the message path's packets read directly (fast-decode.ts) and
 * every other packet by mqtt-packet's parser.
 *
 * Pure: bytes in, packets (or one error) out. After an error it decodes nothing more.
 */
import { parser as createParser, type Packet, type Parser } from 'mqtt-packet';
import { sniffConnect, type ProtocolVersion } from './connect-sniff.js';
import { decodeFast } from './fast-decode.js';
import { PacketFramer } from './framer.js';
import { stringFieldsWellFormed } from './utf8-fields.js';

export type DecodeError =
  /** Cannot be parsed: bad length, reserved bits, truncated fields, invalid UTF-8 (5.0: 0x81). */
  | { readonly kind: 'malformed'; readonly detail: string }
  /** Parsed, but not allowed here: e.g. a first packet that is not CONNECT (5.0: 0x82). */
  | { readonly kind: 'protocol'; readonly detail: string }
  /** Larger than the server's Maximum Packet Size (5.0: 0x95). */
  | { readonly kind: 'too-large'; readonly size: number }
  /** A CONNECT with a protocol level this server does not speak. */
  | { readonly kind: 'unsupported-level'; readonly level: number };

export interface DecoderSink {
  /** A decoded packet; return false to stop decoding the rest of the current chunk (the session is closing). */
  packet(packet: Packet): boolean;
  error(error: DecodeError): void;
}

export class MqttDecoder {
  private readonly framer: PacketFramer;
  private versionSeen: ProtocolVersion | undefined;
  private parsed: Packet | undefined;
  private parseError: string | undefined;
  private failed = false;

  constructor(
    maxPacketBytes: number,
    private readonly sink: DecoderSink,
  ) {
    this.framer = new PacketFramer(maxPacketBytes);
  }

  /**
   * A parser for one whole packet, made when needed and not kept: after the CONNECT, only packets off
   * the message path reach it (SUBSCRIBE, DISCONNECT, ...), and an idle connection should not hold one.
   */
  private parser(version: ProtocolVersion | undefined): Parser {
    // Before the CONNECT it learns the version from the packet; after, it is told.
    const parser = version === undefined ? createParser() : createParser({ protocolVersion: version });
    parser.on('packet', (packet: Packet) => {
      this.parsed = packet;
    });
    parser.on('error', (error: unknown) => {
      this.parseError = error instanceof Error ? error.message : String(error);
    });
    return parser;
  }

  /** The protocol version of the connection, known once a CONNECT was seen. */
  get version(): ProtocolVersion | undefined {
    return this.versionSeen;
  }

  feed(chunk: Buffer): void {
    if (this.failed) return;
    const error = this.framer.push(chunk, (bytes) => this.decode(bytes));
    if (!error) return;
    this.fail(
      error.kind === 'too-large'
        ? { kind: 'too-large', size: error.size }
        : { kind: 'malformed', detail: 'remaining length longer than four bytes' },
    );
  }

  private decode(bytes: Buffer): boolean {
    if (this.failed) return false;
    let version = this.versionSeen;
    if (version === undefined) {
      const sniffed = sniffConnect(bytes);
      if (sniffed.kind === 'unsupported-level') return this.fail({ kind: 'unsupported-level', level: sniffed.level });
      if (sniffed.kind === 'not-mqtt') {
        return this.fail({ kind: 'protocol', detail: 'the first packet must be a CONNECT of MQTT 3.1, 3.1.1 or 5.0' });
      }
      version = sniffed.version;
    }
    if (!stringFieldsWellFormed(bytes, version)) {
      return this.fail({ kind: 'malformed', detail: 'a string field is not well-formed UTF-8 or contains U+0000' });
    }
    // Before a CONNECT was seen, only mqtt-packet reads (it learns the version from the CONNECT).
    const fast = this.versionSeen === undefined ? undefined : decodeFast(bytes, version);
    if (fast) return this.sink.packet(fast);
    this.parsed = undefined;
    this.parseError = undefined;
    this.parser(this.versionSeen).parse(bytes);
    const packet = this.parsed as Packet | undefined;
    if (this.parseError !== undefined || !packet) {
      return this.fail({ kind: 'malformed', detail: this.parseError ?? 'the packet could not be parsed' });
    }
    this.parsed = undefined;
    if (packet.cmd === 'connect') this.versionSeen = version;
    return this.sink.packet(packet);
  }

  private fail(error: DecodeError): false {
    this.failed = true;
    this.sink.error(error);
    return false;
  }
}
