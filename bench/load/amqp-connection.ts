/**
 * One load-generator AMQP 0-9-1 connection over a plain socket with one channel (1): the handshake
 * (protocol header, start / start-ok PLAIN, tune / tune-ok, open / open-ok), channel.open, and
 * synchronous set-up methods (declare, qos, consume, confirm.select) with bounded waits. After set-up the
 * publisher or consumer installs its own frame handler and writes pre-encoded frames itself.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { closeWithin2s, expectWithin, FailureLatch } from './connection-failure.js';
import {
  AmqpFrameReader,
  FRAME_METHOD,
  M,
  PROTOCOL_HEADER,
  encodeChannelOpen,
  encodeConnectionClose,
  encodeConnectionCloseOk,
  encodeConnectionOpen,
  encodeStartOk,
  encodeTuneOk,
  methodKey,
  readClose,
  readTune,
  type AmqpFrameHandler,
} from './amqp-wire.js';

const HANDSHAKE_TIMEOUT_MS = 15_000;
/** Frame size the client asks for: a 1 KiB body always fits one body frame. */
const FRAME_MAX = 131_072;
export const CHANNEL = 1;

export interface AmqpConnectOptions {
  readonly user: string;
  readonly password: string;
  readonly vhost: string;
  readonly label: string;
}

export class AmqpBenchConnection {
  private readonly reader = new AmqpFrameReader();
  private handler: AmqpFrameHandler = () => undefined;
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

  /** Every frame: connection.close and channel.close end the run with the broker's reason. */
  private readonly dispatch: AmqpFrameHandler = (type, channel, data, start, end) => {
    if (type === FRAME_METHOD) {
      const key = methodKey(data, start);
      if (key === M.connectionClose || key === M.channelClose) {
        const reason = readClose(data, start);
        if (key === M.connectionClose) this.socket.write(encodeConnectionCloseOk());
        this.fail(new Error(`${this.label}: broker closed the ${key === M.connectionClose ? 'connection' : 'channel'}: ${reason}`));
        return;
      }
      if (key === M.connectionCloseOk) {
        if (this.failures.closing) this.socket.end();
        return;
      }
    }
    this.handler(type, channel, data, start, end);
  };

  static async open(host: string, port: number, options: AmqpConnectOptions): Promise<AmqpBenchConnection> {
    const socket = netConnect({ host, port });
    const connection = new AmqpBenchConnection(socket, `${options.label}@${host}:${port}`);
    await connection.expect('TCP connect', (resolve) => {
      socket.once('connect', resolve);
    });
    socket.write(PROTOCOL_HEADER);
    await connection.expectMethod('connection.start', M.connectionStart);
    socket.write(encodeStartOk(options.user, options.password));
    const tune = await connection.expectMethod('connection.tune', M.connectionTune, readTune);
    const frameMax = tune.frameMax === 0 ? FRAME_MAX : Math.min(FRAME_MAX, tune.frameMax);
    socket.write(encodeTuneOk(Math.min(tune.channelMax || 2047, 2047), frameMax));
    socket.write(encodeConnectionOpen(options.vhost));
    await connection.expectMethod('connection.open-ok', M.connectionOpenOk);
    socket.write(encodeChannelOpen(CHANNEL));
    await connection.expectMethod('channel.open-ok', M.channelOpenOk);
    return connection;
  }

  /** Writes a pre-encoded method frame and waits for the reply method `key`. */
  async call(frameBytes: Buffer, what: string, key: number): Promise<void> {
    this.socket.write(frameBytes);
    await this.expectMethod(what, key);
  }

  /** From now on every frame (but connection.close / channel.close) goes to `handler`. */
  onFrame(handler: AmqpFrameHandler): void {
    this.handler = handler;
  }

  /** Called after each chunk read from the socket: one batched reply per read, not per frame. */
  onChunk(after: (() => void) | undefined): void {
    this.afterChunk = after;
  }

  onFailure(listener: (error: Error) => void): void {
    this.failures.onFailure(listener);
  }

  /** connection.close, waiting (bounded) for close-ok or the socket to end. */
  async close(): Promise<void> {
    if (this.socket.destroyed) return;
    this.failures.closing = true;
    await closeWithin2s(this.socket, () => this.socket.write(encodeConnectionClose()));
  }

  private fail(error: Error): void {
    this.failures.fail(error);
  }

  private expectMethod<T = undefined>(what: string, key: number, read?: (data: Buffer, start: number) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      void this.expect(what, (done, failed) => {
        this.handler = (type, _channel, data, start) => {
          if (type !== FRAME_METHOD || methodKey(data, start) !== key) return;
          try {
            resolve(read ? read(data, start) : (undefined as T));
            done();
          } catch (error) {
            failed(error instanceof Error ? error : new Error(String(error)));
          }
        };
      }).catch(reject);
    });
  }

  private expect(what: string, arm: (resolve: () => void, reject: (error: Error) => void) => void): Promise<void> {
    return expectWithin(this.label, what, HANDSHAKE_TIMEOUT_MS, this.failures, arm);
  }
}
