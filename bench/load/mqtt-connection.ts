/**
 * One load-generator MQTT connection over a plain socket: CONNECT / CONNACK and SUBSCRIBE / SUBACK with
 * bounded waits, then raw frames in and out. What arrives after the handshake goes to the frame handler
 * the publisher or subscriber installs.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { closeWithin2s, expectWithin, FailureLatch } from './connection-failure.js';
import {
  DISCONNECT_FRAME,
  FrameReader,
  PACKET_CONNACK,
  PACKET_SUBACK,
  encodeConnect,
  encodeSubscribe,
  type ConnectOptions,
  type FrameHandler,
} from './mqtt-wire.js';

const HANDSHAKE_TIMEOUT_MS = 15_000;

export class BenchConnection {
  private readonly reader = new FrameReader();
  private handler: FrameHandler = () => undefined;
  private beforeChunk: (() => void) | undefined;
  private afterChunk: (() => void) | undefined;
  private readonly failures = new FailureLatch();

  private constructor(
    readonly socket: Socket,
    readonly label: string,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      try {
        this.beforeChunk?.();
        this.reader.push(chunk, this.handler);
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

  static async open(host: string, port: number, options: ConnectOptions): Promise<BenchConnection> {
    const socket = netConnect({ host, port });
    const connection = new BenchConnection(socket, `${options.clientId}@${host}:${port}`);
    await connection.expect('TCP connect', (resolve) => {
      socket.once('connect', resolve);
    });
    connection.socket.write(encodeConnect(options));
    await connection.expect('CONNACK', (resolve, reject) => {
      connection.handler = (header, data, start) => {
        if (header >> 4 !== PACKET_CONNACK) return;
        const code = data[start + 1];
        if (code === 0) resolve();
        else reject(new Error(`${connection.label}: CONNACK return code ${code ?? '?'}`));
      };
    });
    return connection;
  }

  async subscribe(filter: string, qos: 0 | 1, packetId = 1): Promise<void> {
    this.socket.write(encodeSubscribe(packetId, filter, qos));
    await this.expect('SUBACK', (resolve, reject) => {
      this.handler = (header, data, start) => {
        if (header >> 4 !== PACKET_SUBACK || data.readUInt16BE(start) !== packetId) return;
        const granted = data[start + 2];
        if (granted === 0x80 || granted === undefined) reject(new Error(`${this.label}: subscription to ${filter} refused`));
        else if (granted < qos) reject(new Error(`${this.label}: asked QoS ${qos} on ${filter}, granted ${granted}`));
        else resolve();
      };
    });
  }

  /** From now on every incoming frame goes to `handler`. */
  onFrame(handler: FrameHandler): void {
    this.handler = handler;
  }

  /** Hooks around each chunk read from the socket: one clock reading or one batched reply per chunk, not per frame. */
  onChunk(before: (() => void) | undefined, after: (() => void) | undefined): void {
    this.beforeChunk = before;
    this.afterChunk = after;
  }

  /** Called once if the connection breaks (not for close()). */
  onFailure(listener: (error: Error) => void): void {
    this.failures.onFailure(listener);
  }

  get error(): Error | undefined {
    return this.failures.error;
  }

  /** MQTT DISCONNECT, then FIN; resolves when the socket is closed (bounded). */
  async close(): Promise<void> {
    if (this.socket.destroyed) return;
    this.failures.closing = true;
    await closeWithin2s(this.socket, () => this.socket.end(DISCONNECT_FRAME));
  }

  private fail(error: Error): void {
    this.failures.fail(error);
  }

  private expect(what: string, arm: (resolve: () => void, reject: (error: Error) => void) => void): Promise<void> {
    return expectWithin(this.label, what, HANDSHAKE_TIMEOUT_MS, this.failures, arm);
  }
}
