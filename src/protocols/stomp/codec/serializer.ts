import { Buffer } from 'node:buffer';
import { escapeHeader } from './escape.js';
import { EMPTY_BODY, isUnescapedCommand, type HeaderEscaping, type StompFrame } from './frame.js';

/** What a heart-beat is on the wire: one EOL between frames ([STOMP 1.2] "Heart-beating"). */
export const HEART_BEAT: Uint8Array = Uint8Array.of(0x0a);

/**
 * Builds one frame at a time without an intermediate header structure: `start`, `header`... then `end`
 * returns the bytes. A session keeps one writer; each frame's bytes are a fresh buffer it may hand to a
 * socket. Headers are escaped for the writer's version, except in CONNECTED (and CONNECT).
 */
export class FrameWriter {
  private text = '';
  private current: HeaderEscaping = 'none';

  constructor(public escaping: HeaderEscaping = '1.2') {}

  start(command: string): this {
    this.current = isUnescapedCommand(command) ? 'none' : this.escaping;
    this.text = `${command}\n`;
    return this;
  }

  header(name: string, value: string): this {
    const escaping = this.current;
    this.text += `${escapeHeader(name, escaping, true)}:${escapeHeader(value, escaping)}\n`;
    return this;
  }

  /** Ends the frame: a blank line, the body and NUL. */
  end(body: Uint8Array = EMPTY_BODY): Buffer {
    const head = `${this.text}\n`;
    this.text = '';
    const headBytes = Buffer.byteLength(head, 'utf8');
    const out = Buffer.allocUnsafe(headBytes + body.byteLength + 1);
    out.write(head, 0, headBytes, 'utf8');
    out.set(body, headBytes);
    out[headBytes + body.byteLength] = 0;
    return out;
  }
}

/** One frame's bytes, headers in map order. */
export function serializeFrame(frame: StompFrame, escaping: HeaderEscaping = '1.2'): Buffer {
  const writer = new FrameWriter(escaping).start(frame.command);
  for (const [name, value] of frame.headers) writer.header(name, value);
  return writer.end(frame.body);
}
