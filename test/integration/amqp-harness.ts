/** Starts Courier in-process with only the AMQP listener, over a temp data dir, for amqplib tests. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import amqp from 'amqplib';
import {
  decodeMethod,
  FrameReader,
  FrameWriter,
  PROTOCOL_HEADER,
  type AmqpFrame,
  type AmqpMethod,
  type BasicProperties,
  type FieldTable,
} from '../../src/protocols/amqp/codec/index.js';
import type { Clock } from '../../src/core/ports.js';
import { createAmqpAdapterFactory, type AmqpAdapterOptions } from '../../src/protocols/amqp/index.js';
import { startServer, type ServerHandle } from '../../src/server/server.js';
import type { ServerConfig } from '../../src/server/settings.js';
import { testServerConfig } from '../support/server-config.js';

export interface AmqpTestServer {
  server: ServerHandle;
  port: number;
  url(credentials?: string): string;
  connect(credentials?: string): Promise<amqp.ChannelModel>;
  /** Closes the server and starts a new one over the same data dir. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface AmqpServerOverrides {
  /** Server settings over the test defaults (e.g. `diskFreeLimit` to start with the disk alarm on). */
  readonly config?: Partial<ServerConfig>;
  /** The broker's clock (a ManualClock for time-dependent behaviour such as stream timestamps). */
  readonly clock?: Clock;
}

export async function startAmqpServer(options: AmqpAdapterOptions = {}, overrides: AmqpServerOverrides = {}): Promise<AmqpTestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'courier-amqp-'));
  const adapters = [createAmqpAdapterFactory({ closeTimeoutMs: 500, ...options })];
  const start = (): Promise<ServerHandle> =>
    startServer(testServerConfig(dataDir, { amqpPort: 0, ...overrides.config }), {
      protocolAdapters: adapters,
      version: 'test',
      ...(overrides.clock === undefined ? {} : { clock: overrides.clock }),
    });
  const portOf = (handle: ServerHandle): number => {
    const address = handle.addresses.amqp;
    assert.ok(address, 'the AMQP listener is up');
    return address.port;
  };
  const server = await start();
  const harness: AmqpTestServer = {
    server,
    port: portOf(server),
    url(credentials = 'guest:guest') {
      return `amqp://${credentials}@127.0.0.1:${harness.port}`;
    },
    connect(credentials) {
      return amqp.connect(harness.url(credentials));
    },
    async restart() {
      await harness.server.close();
      harness.server = await start();
      harness.port = portOf(harness.server);
    },
    async close() {
      try {
        await harness.server.close();
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
  return harness;
}

/** Resolves with the next value `register` produces, or rejects after `ms` (a bound, not a sleep). */
export function within<T>(ms: number, what: string, register: (resolve: (value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

/** Collects `count` messages from a consumer on `queue`. */
export function collect(channel: amqp.Channel, queue: string, count: number, options: amqp.Options.Consume = {}): Promise<amqp.ConsumeMessage[]> {
  const messages: amqp.ConsumeMessage[] = [];
  return within(5000, `${count} messages on ${queue}`, (resolve) => {
    void channel.consume(
      queue,
      (message) => {
        if (message === null) return;
        messages.push(message);
        if (messages.length === count) resolve(messages);
      },
      options,
    );
  });
}

/** A bare AMQP client built on the codec, for what amqplib cannot send or show. */
export class RawClient {
  private readonly reader = new FrameReader({ expectProtocolHeader: false });
  private readonly writer = new FrameWriter();
  private readonly frames: AmqpFrame[] = [];
  private waiter: (() => void) | undefined;
  readonly closed: Promise<void>;

  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const event of this.reader.read(chunk)) if (event.kind === 'frame') this.frames.push(event);
      this.waiter?.();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static async open(port: number): Promise<RawClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    return new RawClient(socket);
  }

  /** Buffers a method; `flush` (or the next `send` without `buffer`) writes it. */
  send(method: AmqpMethod, channel = 0, buffer = false): void {
    this.writer.method(channel, method);
    if (!buffer) this.flush();
  }

  /** A basic.publish with its content, all in one write. */
  publish(channel: number, routingKey: string, body: Uint8Array, properties: BasicProperties = {}): void {
    this.writer.methodWithContent(channel, { name: 'basic.publish', ticket: 0, exchange: '', routingKey, mandatory: false, immediate: false }, properties, body);
  }

  /** Writes whatever `send` / `publish` buffered since the last flush, in one socket write. */
  flush(): void {
    this.socket.write(this.writer.take());
  }

  /** Header, start-ok (PLAIN guest), tune-ok with `heartbeat`, open; returns the server's tune. */
  async handshake(heartbeat = 0, clientProperties: FieldTable = {}): Promise<AmqpMethod> {
    this.writeRaw(PROTOCOL_HEADER);
    await this.method('connection.start');
    this.send({
      name: 'connection.start-ok',
      clientProperties,
      mechanism: 'PLAIN',
      response: new TextEncoder().encode('\u0000guest\u0000guest'),
      locale: 'en_US',
    });
    const tune = await this.method('connection.tune');
    this.send({ name: 'connection.tune-ok', channelMax: 0, frameMax: 0, heartbeat });
    this.send({ name: 'connection.open', virtualHost: '/', capabilities: '', insist: false });
    await this.method('connection.open-ok');
    return tune;
  }

  writeRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next frame matching `accept`, waiting at most `ms`. */
  next(ms: number, what: string, accept: (frame: AmqpFrame) => boolean): Promise<AmqpFrame> {
    return within(ms, what, (resolve) => {
      this.waiter = () => {
        const index = this.frames.findIndex(accept);
        if (index >= 0) resolve(this.frames.splice(index, 1)[0]!);
      };
      this.waiter();
    });
  }

  method(name: AmqpMethod['name'], channel = 0): Promise<AmqpMethod> {
    return this.next(5000, name, (frame) => frame.type === 1 && frame.channel === channel && decodeMethod(frame.payload).name === name).then(
      (frame) => decodeMethod(frame.payload),
    );
  }

  /** Frames received and not yet taken by `next`. */
  get pending(): readonly AmqpFrame[] {
    return this.frames;
  }
}
