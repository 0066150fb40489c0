/**
 * A minimal STOMP client over a real TCP socket for integration tests (`@stomp/stompjs` speaks
 * WebSocket only), plus a helper that starts a server in-process with only the STOMP listener.
 * Replies are parsed with the adapter's own codec; requests can be written as literal bytes where the
 * exact wire form matters.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameParser } from '../../src/protocols/stomp/codec/parser.js';
import { serializeFrame } from '../../src/protocols/stomp/codec/serializer.js';
import { escapingFor, makeFrame, type HeaderEscaping, type StompFrame } from '../../src/protocols/stomp/codec/frame.js';
import { createStompAdapterFactory, type StompAdapterOptions } from '../../src/protocols/stomp/index.js';
import { startServer, type ServerHandle } from '../../src/server/server.js';
import type { ServerConfig } from '../../src/server/settings.js';
import { testServerConfig } from './server-config.js';

const DEFAULT_TIMEOUT_MS = 5000;

export type HeaderList = readonly (readonly [string, string])[] | Readonly<Record<string, string>>;

function headerPairs(headers: HeaderList): (readonly [string, string])[] {
  return Array.isArray(headers) ? [...(headers as readonly (readonly [string, string])[])] : Object.entries(headers);
}

export class StompTcpClient {
  private readonly parser = new FrameParser({ escaping: '1.2' });
  private readonly frames: StompFrame[] = [];
  private waiters: (() => void)[] = [];
  private escaping: HeaderEscaping = '1.2';
  /** Every octet received, heart-beat EOLs included. */
  bytesReceived = 0;
  private receipts = 0;
  codecError: unknown;
  isClosed = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.bytesReceived += chunk.length;
      try {
        this.parser.push(chunk);
        for (let frame = this.parser.next(); frame; frame = this.parser.next()) this.frames.push(frame);
      } catch (error) {
        this.codecError = error;
      }
      this.wake();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        this.wake();
        resolve();
      }),
    );
  }

  static async open(port: number): Promise<StompTcpClient> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new StompTcpClient(socket);
  }

  /** Opens a connection and completes CONNECT / CONNECTED (guest/guest, 1.2 unless told otherwise). */
  static async connected(port: number, headers: HeaderList = {}): Promise<StompTcpClient> {
    const client = await StompTcpClient.open(port);
    const connected = await client.handshake(headers);
    assert.equal(connected.command, 'CONNECTED', `expected CONNECTED, got ${describe(connected)}`);
    return client;
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  async handshake(headers: HeaderList = {}): Promise<StompFrame> {
    const pairs = headerPairs(headers);
    const defaults: [string, string][] = [
      ['accept-version', '1.2'],
      ['host', '/'],
      ['login', 'guest'],
      ['passcode', 'guest'],
    ];
    const names = new Set(pairs.map(([name]) => name));
    this.send('CONNECT', [...pairs, ...defaults.filter(([name]) => !names.has(name))]);
    const reply = await this.nextFrame();
    const version = reply.headers.get('version');
    if (reply.command === 'CONNECTED' && (version === '1.0' || version === '1.1' || version === '1.2')) {
      this.escaping = escapingFor(version);
      this.parser.escaping = this.escaping;
    }
    return reply;
  }

  /** Writes a frame, headers escaped for the negotiated version. */
  send(command: string, headers: HeaderList = {}, body: string | Uint8Array = ''): void {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    this.socket.write(serializeFrame(makeFrame(command, headerPairs(headers), bytes), this.escaping));
  }

  /** Writes bytes exactly as given. */
  sendRaw(bytes: string | Uint8Array): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** The next frame, waiting at most `timeoutMs`. */
  async nextFrame(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<StompFrame> {
    await this.until(() => this.frames.length > 0, timeoutMs, 'a frame');
    return this.frames.shift()!;
  }

  /** The next frame of this command; anything else before it fails the test. */
  async expect(command: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<StompFrame> {
    const frame = await this.nextFrame(timeoutMs);
    assert.equal(frame.command, command, `expected ${command}, got ${describe(frame)}`);
    return frame;
  }

  /** Frames received and not taken yet. */
  get pending(): readonly StompFrame[] {
    return this.frames;
  }

  /**
   * Sends a frame with a receipt and waits for that RECEIPT, which it removes; frames that came before it
   * stay queued (the server writes in order, so they were sent before the frame was handled). An ERROR
   * instead fails the test.
   */
  async roundTrip(command: string, headers: HeaderList = {}, body: string | Uint8Array = ''): Promise<void> {
    const receipt = `r-${++this.receipts}`;
    this.send(command, [...headerPairs(headers), ['receipt', receipt]], body);
    const isReceipt = (frame: StompFrame): boolean => frame.command === 'RECEIPT' && frame.headers.get('receipt-id') === receipt;
    await this.until(() => this.frames.some((frame) => isReceipt(frame) || frame.command === 'ERROR'), DEFAULT_TIMEOUT_MS, `RECEIPT ${receipt}`);
    const error = this.frames.find((frame) => frame.command === 'ERROR');
    if (error) assert.fail(`ERROR instead of RECEIPT: ${describe(error)}`);
    this.frames.splice(this.frames.findIndex(isReceipt), 1);
  }

  /** Waits for the server to close the connection. */
  async waitClosed(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    await this.until(() => this.isClosed, timeoutMs, 'the connection to close');
  }

  async until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      if (this.isClosed && !condition()) throw new Error(`connection closed while waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Closes politely (DISCONNECT with receipt) when still open. */
  async disconnect(): Promise<void> {
    if (this.isClosed) return;
    await this.roundTrip('DISCONNECT');
    await this.waitClosed();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export function describe(frame: StompFrame): string {
  const headers = [...frame.headers].map(([name, value]) => `${name}:${value}`).join(', ');
  return `${frame.command} {${headers}} ${Buffer.from(frame.body).toString('utf8').slice(0, 200)}`;
}

export function bodyText(frame: StompFrame): string {
  return Buffer.from(frame.body).toString('utf8');
}

// ---------------------------------------------------------------------------------------------------
// A server with the STOMP listener only, on a temp data dir.

export interface StompTestServer {
  readonly server: ServerHandle;
  readonly port: number;
  readonly dataDir: string;
  /** Closes the server and starts a new one on the same data dir (a broker restart). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export function stompServerConfig(dataDir: string): ServerConfig {
  return testServerConfig(dataDir, { stompPort: 0 });
}

export async function startStompServer(options: StompAdapterOptions = {}): Promise<StompTestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'courier-stomp-'));
  const adapters = [createStompAdapterFactory({ heartBeatMinimumMs: 10, lingerMs: 500, ...options })];
  const start = async (): Promise<ServerHandle> => startServer(stompServerConfig(dataDir), { protocolAdapters: adapters });
  let server = await start();
  const portOf = (handle: ServerHandle): number => {
    const address = handle.addresses.stomp;
    assert.ok(address, 'the STOMP listener is up');
    return address.port;
  };
  const harness = {
    server,
    port: portOf(server),
    dataDir,
    async restart() {
      await server.close();
      server = await start();
      harness.server = server;
      harness.port = portOf(server);
    },
    async close() {
      try {
        await server.close();
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
  return harness;
}
