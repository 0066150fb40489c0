import { Buffer } from 'node:buffer';
import { StompCodecError } from './codec-error.js';
import { unescapeHeader } from './escape.js';
import { EMPTY_BODY, isUnescapedCommand, type HeaderEscaping, type StompFrame } from './frame.js';
import { defaultStompLimits, type StompLimits } from './limits.js';

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const COLON = 0x3a;
const DIGITS = /^[0-9]+$/;

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * An incremental STOMP frame parser: bytes are pushed as they arrive, frames are pulled one at a time, so
 * the session can change the escaping (after CONNECT negotiated a version) between two frames of one
 * chunk. Pure: no sockets, no broker.
 *
 * - EOL is LF or CR LF; EOLs between frames are heart-beats and are skipped ([STOMP 1.2] "Heart-beating").
 * - A `content-length` body is read by count and may contain NUL; otherwise the body ends at the first NUL.
 * - A repeated header keeps its first value.
 * - Limits are checked as bytes arrive, so an oversize frame fails before it is buffered whole.
 *
 * Bodies may be views into pushed chunks: callers must not reuse a buffer after pushing it.
 */
export class FrameParser {
  private readonly limits: StompLimits;
  /** Escaping applied to frames other than CONNECT / CONNECTED; the session sets it after negotiation. */
  escaping: HeaderEscaping;

  private readonly chunks: Buffer[] = [];
  private position = 0;
  private failure: StompCodecError | undefined;

  // Head (command and header lines) of the frame being parsed.
  private inBody = false;
  private command: string | undefined;
  private headers = new Map<string, string>();
  private headerLines = 0;
  /** A line split across chunks: the part seen so far. */
  private carry: Buffer | undefined;
  private frameBytes = 0;

  // Body of the frame being parsed.
  private contentLength = -1;
  private readonly bodyParts: Buffer[] = [];
  private bodyBytes = 0;

  constructor(options: { limits?: StompLimits; escaping?: HeaderEscaping } = {}) {
    this.limits = options.limits ?? defaultStompLimits;
    this.escaping = options.escaping ?? '1.2';
  }

  push(bytes: Uint8Array): void {
    if (bytes.byteLength > 0) this.chunks.push(asBuffer(bytes));
  }

  /** Octets pushed and not yet consumed by a returned frame (for flow-control decisions). */
  get bufferedBytes(): number {
    let total = -this.position;
    for (const chunk of this.chunks) total += chunk.length;
    return total;
  }

  /**
   * The next complete frame, or undefined until more bytes arrive. Throws StompCodecError; after that the
   * stream is out of sync and every later call throws the same error.
   */
  next(): StompFrame | undefined {
    if (this.failure) throw this.failure;
    try {
      return this.parse();
    } catch (error) {
      if (error instanceof StompCodecError) this.failure = error;
      throw error;
    }
  }

  private parse(): StompFrame | undefined {
    while (this.chunks.length > 0) {
      const chunk = this.chunks[0]!;
      if (this.position >= chunk.length) {
        this.chunks.shift();
        this.position = 0;
        continue;
      }
      const frame = this.inBody ? this.readBody(chunk) : this.readHeadLine(chunk);
      if (frame) return frame;
    }
    return undefined;
  }

  /** Consumes one line of the head (or the part of it this chunk holds); returns a frame with an empty body at once when possible. */
  private readHeadLine(chunk: Buffer): StompFrame | undefined {
    const start = this.position;
    const newline = chunk.indexOf(LF, start);
    if (newline === -1) {
      const part = chunk.subarray(start);
      this.carry = this.carry ? Buffer.concat([this.carry, part]) : Buffer.from(part);
      this.checkLineLength(this.carry.length - 1);
      this.position = chunk.length;
      return undefined;
    }
    this.position = newline + 1;
    let line: Buffer;
    let from: number;
    let to: number;
    if (this.carry) {
      line = Buffer.concat([this.carry, chunk.subarray(start, newline)]);
      this.carry = undefined;
      from = 0;
      to = line.length;
    } else {
      line = chunk;
      from = start;
      to = newline;
    }
    if (to > from && line[to - 1] === CR) to -= 1;
    this.checkLineLength(to - from);
    this.headLine(line, from, to);
    return undefined;
  }

  private checkLineLength(length: number): void {
    if (length > this.limits.maxHeaderLineBytes) {
      throw new StompCodecError(
        'HEADER_TOO_LONG',
        `a ${this.command === undefined ? 'command' : 'header'} line is longer than ${this.limits.maxHeaderLineBytes} octets`,
      );
    }
  }

  private headLine(line: Buffer, from: number, to: number): void {
    if (this.command === undefined) {
      // EOLs before a command are heart-beats (or the EOLs a client may send after a frame's NUL).
      if (to === from) return;
      this.command = line.toString('utf8', from, to);
      this.countFrameBytes(to - from + 1);
      return;
    }
    this.countFrameBytes(to - from + 1);
    if (to === from) {
      this.startBody();
      return;
    }
    if (++this.headerLines > this.limits.maxHeaders) {
      throw new StompCodecError('TOO_MANY_HEADERS', `a frame has more than ${this.limits.maxHeaders} headers`);
    }
    const colon = line.indexOf(COLON, from);
    if (colon === -1 || colon >= to) {
      throw new StompCodecError('MALFORMED_HEADER', `header line '${truncate(line.toString('utf8', from, to))}' has no ':'`);
    }
    const escaping = isUnescapedCommand(this.command) ? 'none' : this.escaping;
    const name = unescapeHeader(line.toString('utf8', from, colon), escaping);
    // [STOMP 1.2] "Repeated Header Entries": only the first is used; later ones are still validated.
    const value = unescapeHeader(line.toString('utf8', colon + 1, to), escaping);
    if (!this.headers.has(name)) this.headers.set(name, value);
  }

  private countFrameBytes(count: number): void {
    this.frameBytes += count;
    if (this.frameBytes > this.limits.maxFrameBytes) {
      throw new StompCodecError('FRAME_TOO_LARGE', `a frame is larger than ${this.limits.maxFrameBytes} octets`);
    }
  }

  private startBody(): void {
    this.inBody = true;
    const declared = this.headers.get('content-length');
    if (declared === undefined) {
      this.contentLength = -1;
      return;
    }
    if (!DIGITS.test(declared)) {
      throw new StompCodecError('INVALID_CONTENT_LENGTH', `content-length '${truncate(declared)}' is not an octet count`);
    }
    const length = Number(declared);
    // The body and its NUL must fit: refuse before buffering any of it.
    if (!Number.isSafeInteger(length) || this.frameBytes + length + 1 > this.limits.maxFrameBytes) {
      throw new StompCodecError('FRAME_TOO_LARGE', `a frame is larger than ${this.limits.maxFrameBytes} octets`);
    }
    this.contentLength = length;
  }

  private readBody(chunk: Buffer): StompFrame | undefined {
    const start = this.position;
    if (this.contentLength >= 0) {
      const missing = this.contentLength - this.bodyBytes;
      if (missing > 0) {
        const end = Math.min(chunk.length, start + missing);
        this.addBodyPart(chunk.subarray(start, end));
        this.position = end;
        return undefined;
      }
      if (chunk[start] !== NUL) {
        throw new StompCodecError('MISSING_NUL', `the octet after a ${this.contentLength}-octet body is not NUL`);
      }
      this.position = start + 1;
      return this.finishFrame();
    }
    const nul = chunk.indexOf(NUL, start);
    const end = nul === -1 ? chunk.length : nul;
    if (end > start) {
      this.countFrameBytes(end - start);
      this.addBodyPart(chunk.subarray(start, end));
    }
    if (nul === -1) {
      this.position = chunk.length;
      return undefined;
    }
    this.countFrameBytes(1);
    this.position = nul + 1;
    return this.finishFrame();
  }

  private addBodyPart(part: Buffer): void {
    this.bodyParts.push(part);
    this.bodyBytes += part.length;
  }

  private finishFrame(): StompFrame {
    let body: Uint8Array;
    if (this.bodyParts.length === 0) body = EMPTY_BODY;
    else if (this.bodyParts.length === 1) body = this.bodyParts[0]!;
    else body = Buffer.concat(this.bodyParts, this.bodyBytes);
    const frame: StompFrame = { command: this.command!, headers: this.headers, body };
    this.inBody = false;
    this.command = undefined;
    this.headers = new Map();
    this.headerLines = 0;
    this.frameBytes = 0;
    this.contentLength = -1;
    this.bodyParts.length = 0;
    this.bodyBytes = 0;
    return frame;
  }
}

function truncate(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}...` : text;
}
