/**
 * The little of STOMP 1.2 the load generator needs, over a plain socket: frame encoding (SEND frames are
 * built once and written again and again), an incremental frame reader that looks only at the command's
 * first byte and the headers it is asked for, and a connection with CONNECT / CONNECTED and bounded waits.
 * Frames end with NUL; `content-length` bodies are skipped without a scan (STOMP 1.2, "Body"). Header
 * values are not unescaped: the load generator only reads `content-length`, `ack`, `receipt-id` and
 * `message`, which need no escaping.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { FailureLatch } from './connection-failure.js';

const NUL = 0;
const LF = 0x0a;
const CR = 0x0d;
const HEADER_END = Buffer.from('\n\n');
const CONNECT_TIMEOUT_MS = 15_000;

/** First bytes of the server frames the load generator tells apart. */
export const C_MESSAGE = 0x4d; // M
export const C_RECEIPT = 0x52; // R
export const C_ERROR = 0x45; // E
export const C_CONNECTED = 0x43; // C

/** One frame: its command's first byte, where its command line + headers and its body lie in `data`. */
export type StompFrameHandler = (command: number, data: Buffer, headStart: number, headEnd: number, bodyStart: number, bodyEnd: number) => void;

export function encodeFrame(command: string, headers: Readonly<Record<string, string>>, body: Buffer = Buffer.alloc(0)): Buffer {
  const lines = [command, ...Object.entries(headers).map(([name, value]) => `${name}:${value}`)];
  if (body.length > 0 || command === 'SEND') lines.push(`content-length:${body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\n')}\n\n`, 'utf8'), body, Buffer.from([NUL])]);
}

/** The value of header `name` in a frame's head (command line + headers), or undefined. */
export function headerValue(data: Buffer, headStart: number, headEnd: number, name: string): string | undefined {
  const key = `\n${name}:`;
  const at = data.indexOf(key, headStart, 'latin1');
  if (at < 0 || at >= headEnd) return undefined;
  const valueStart = at + key.length;
  let valueEnd = data.indexOf(LF, valueStart);
  if (valueEnd < 0 || valueEnd > headEnd) valueEnd = headEnd;
  if (valueEnd > valueStart && data[valueEnd - 1] === CR) valueEnd -= 1;
  return data.toString('latin1', valueStart, valueEnd);
}

function contentLength(data: Buffer, headStart: number, headEnd: number): number {
  const key = '\ncontent-length:';
  const at = data.indexOf(key, headStart, 'latin1');
  if (at < 0 || at >= headEnd) return -1;
  let value = 0;
  for (let i = at + key.length; i < headEnd; i++) {
    const digit = data[i]! - 0x30;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
  }
  return value;
}

/** Splits a byte stream into frames; keeps an incomplete tail for the next chunk. */
export class StompFrameReader {
  private pending: Buffer | undefined;

  push(chunk: Buffer, handler: StompFrameHandler): void {
    const data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let offset = 0;
    while (offset < data.length) {
      // Heart-beats and the optional EOLs after a frame's NUL.
      const first = data[offset]!;
      if (first === LF || first === CR) {
        offset += 1;
        continue;
      }
      const headEnd = data.indexOf(HEADER_END, offset);
      if (headEnd < 0) break;
      const bodyStart = headEnd + 2;
      const length = contentLength(data, offset, headEnd);
      let bodyEnd: number;
      if (length >= 0) {
        bodyEnd = bodyStart + length;
        if (bodyEnd >= data.length) break;
        if (data[bodyEnd] !== NUL) throw new Error('STOMP frame without NUL after its content-length body');
      } else {
        bodyEnd = data.indexOf(NUL, bodyStart);
        if (bodyEnd < 0) break;
      }
      handler(first, data, offset, headEnd, bodyStart, bodyEnd);
      offset = bodyEnd + 1;
    }
    if (offset < data.length) this.pending = Buffer.from(data.subarray(offset));
  }
}

export interface StompEndpoint {
  readonly host: string;
  readonly port: number;
  readonly login: string;
  readonly passcode: string;
}

/** One STOMP 1.2 connection of the load generator; errors from the broker end the run. */
export class StompBenchConnection {
  private readonly reader = new StompFrameReader();
  private handler: StompFrameHandler = () => undefined;
  private afterChunk: (() => void) | undefined;
  private readonly failures = new FailureLatch();

  private constructor(
    readonly socket: Socket,
    readonly label: string,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      try {
        this.reader.push(chunk, this.dispatch);
        this.afterChunk?.();
      } catch (error) {
        this.fail(error instanceof Error ? error : new Error(String(error)));
        socket.destroy();
      }
    });
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => {
      this.fail(new Error(`${label}: the broker closed the connection`));
    });
  }

  private readonly dispatch: StompFrameHandler = (command, data, headStart, headEnd, bodyStart, bodyEnd) => {
    if (command === C_ERROR) {
      const message = headerValue(data, headStart, headEnd, 'message') ?? '?';
      this.fail(new Error(`${this.label}: broker sent ERROR: ${message}: ${data.toString('utf8', bodyStart, Math.min(bodyEnd, bodyStart + 300))}`));
      return;
    }
    this.handler(command, data, headStart, headEnd, bodyStart, bodyEnd);
  };

  static async open(endpoint: StompEndpoint, label: string): Promise<StompBenchConnection> {
    const socket = netConnect({ host: endpoint.host, port: endpoint.port });
    const connection = new StompBenchConnection(socket, label);
    await connection.expect(
      () => socket.write(encodeFrame('CONNECT', { 'accept-version': '1.2', host: '/', login: endpoint.login, passcode: endpoint.passcode, 'heart-beat': '0,0' })),
      (command) => command === C_CONNECTED,
      'CONNECTED',
    );
    return connection;
  }

  /** Writes what `send` writes and waits (bounded) for the first frame `matches` accepts. */
  async expect(send: () => void, matches: (command: number, data: Buffer, headStart: number, headEnd: number) => boolean, what: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.label}: no ${what} within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
      const onFailure = (error: Error): void => {
        clearTimeout(timer);
        reject(error);
      };
      const stopListening = this.failures.onFailure(onFailure);
      this.handler = (command, data, headStart, headEnd) => {
        if (!matches(command, data, headStart, headEnd)) return;
        clearTimeout(timer);
        stopListening();
        this.handler = () => undefined;
        resolve();
      };
      send();
    });
  }

  onFrame(handler: StompFrameHandler): void {
    this.handler = handler;
  }

  /** Called after each socket read has been through the frame handler. */
  onChunk(callback: () => void): void {
    this.afterChunk = callback;
  }

  onFailure(listener: (error: Error) => void): void {
    this.failures.onFailure(listener);
  }

  private fail(error: Error): void {
    this.failures.fail(error);
  }

  /** DISCONNECT with a receipt (bounded wait), then end the socket. */
  async close(): Promise<void> {
    if (this.socket.destroyed) return;
    try {
      if (!this.failures.error) {
        await this.expect(
          () => this.socket.write(encodeFrame('DISCONNECT', { receipt: 'bye' })),
          (command, data, headStart, headEnd) => command === C_RECEIPT && headerValue(data, headStart, headEnd, 'receipt-id') === 'bye',
          'DISCONNECT receipt',
        );
      }
    } catch {
      // closing anyway
    } finally {
      this.failures.closing = true;
      this.socket.end();
      this.socket.destroySoon();
    }
  }
}
