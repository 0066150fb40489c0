/**
 * Runs Courier in-process with only its MQTT listener (port 0, temp data dir) for tests that drive it
 * with the real `mqtt` npm client over loopback. Waits are bounded and event-driven, never sleeps.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, connectAsync, type IClientOptions, type IConnackPacket, type IPublishPacket, type MqttClient } from 'mqtt';
import { generate, parser, type Packet } from 'mqtt-packet';
import type { Clock } from '../../src/core/ports.js';
import type { MqttLimits } from '../../src/protocols/mqtt/index.js';
import { createMqttAdapterFactory } from '../../src/protocols/mqtt/index.js';
import { startServer, type ServerHandle } from '../../src/server/server.js';
import type { ServerConfig } from '../../src/server/settings.js';
import { testServerConfig } from '../support/server-config.js';
import { until, WAIT_MS } from '../support/until.js';

export { until, WAIT_MS };


export interface MqttTestServer {
  readonly server: ServerHandle;
  readonly port: number;
  /** The HTTP listener's port (MQTT over WebSocket at /mqtt) when started with `webSocket: true`, else 0. */
  readonly httpPort: number;
  readonly dataDir: string;
  /**
   * Stops the server (clean shutdown) and starts a new one on the same data directory and port;
   * `whileStopped` runs in between (e.g. to move a ManualClock while the broker is down).
   */
  restart(whileStopped?: () => void): Promise<void>;
  close(): Promise<void>;
}

export interface MqttTestServerOptions {
  readonly limits?: Partial<MqttLimits>;
  /** A ManualClock makes expiry and delays testable without waiting (sockets still use real time). */
  readonly clock?: Clock;
  /** Also start the HTTP listener, which serves MQTT over WebSocket at /mqtt. */
  readonly webSocket?: boolean;
}

function configFor(dataDir: string, mqttPort: number, httpPort: number | null): ServerConfig {
  return testServerConfig(dataDir, { mqttPort, httpPort, fsync: { mode: 'never' } });
}

export async function startMqttServer(options: MqttTestServerOptions = {}): Promise<MqttTestServer> {
  const root = await mkdtemp(join(tmpdir(), 'courier-mqtt-'));
  const dataDir = join(root, 'data');
  const factory = createMqttAdapterFactory(options.limits ?? {});
  const start = (port: number, httpPort: number | null): Promise<ServerHandle> =>
    startServer(configFor(dataDir, port, httpPort), { protocolAdapters: [factory], ...(options.clock ? { clock: options.clock } : {}) });
  let server = await start(0, options.webSocket ? 0 : null);
  const port = server.addresses.mqtt!.port;
  const httpPort = server.addresses.http?.port ?? 0;
  const handle: MqttTestServer = {
    get server() {
      return server;
    },
    port,
    httpPort,
    dataDir,
    async restart(whileStopped) {
      await server.close();
      whileStopped?.();
      server = await start(port, options.webSocket ? httpPort : null);
    },
    async close() {
      try {
        await server.close();
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    },
  };
  return handle;
}

/** Connects the real client; no automatic reconnects, so every connection in a test is deliberate. */
export async function connectClient(port: number, options: IClientOptions = {}): Promise<MqttClient> {
  return connectAsync(`mqtt://127.0.0.1:${port}`, {
    reconnectPeriod: 0,
    connectTimeout: WAIT_MS,
    protocolVersion: 4,
    ...options,
  });
}

/**
 * Connects with an Inbox attached before the CONNACK, so messages a resumed session sends right after it
 * are not missed; resolves with the CONNACK.
 */
export async function connectWithInbox(
  port: number,
  options: IClientOptions = {},
): Promise<{ client: MqttClient; inbox: Inbox; connack: IConnackPacket }> {
  const client = connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: WAIT_MS, protocolVersion: 4, ...options });
  const inbox = new Inbox(client);
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  return { client, inbox, connack };
}

/** Connects and expects a refusal; resolves with the error the client reports. */
export async function connectRefused(port: number, options: IClientOptions): Promise<Error & { code?: number }> {
  try {
    const client = await connectClient(port, options);
    await client.endAsync(true);
  } catch (error) {
    return error as Error & { code?: number };
  }
  assert.fail('the connection was accepted');
}

export interface ReceivedMessage {
  readonly topic: string;
  readonly text: string;
  readonly packet: IPublishPacket;
}

/** Records a client's messages; `waitFor(n)` resolves once n have arrived (bounded). */
export class Inbox {
  readonly messages: ReceivedMessage[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.messages.push({ topic, text: payload.toString('utf8'), packet });
      for (const waiter of this.waiters) waiter();
    });
  }

  get texts(): string[] {
    return this.messages.map((message) => message.text);
  }

  /** Resolves once a message with this payload text arrived (bounded). */
  async waitForText(text: string, timeoutMs = WAIT_MS): Promise<ReceivedMessage[]> {
    await until(() => this.texts.includes(text), `a message '${text}' (got: ${this.texts.join(', ')})`, timeoutMs, this.waiters);
    return this.messages;
  }

  async waitFor(count: number, timeoutMs = WAIT_MS): Promise<ReceivedMessage[]> {
    await until(() => this.messages.length >= count, `${count} messages (got ${this.messages.length}: ${this.texts.join(', ')})`, timeoutMs, this.waiters);
    return this.messages;
  }
}


/** Resolves once no connection of this client identifier is left on the server (its session ended). */
export function sessionGone(broker: MqttTestServer, clientId: string): Promise<void> {
  return until(
    () => !broker.server.broker.listConnections().some((connection) => connection.info.clientId === clientId),
    `the session of ${clientId} to end`,
  );
}

/** Resolves when the client's connection closes (server side or not). */
export function closed(client: MqttClient): Promise<void> {
  if (!client.connected && client.disconnected) return Promise.resolve();
  return new Promise((resolve) => client.once('close', () => resolve()));
}

/** A raw TCP connection for bytes the real client would never send. */
export class RawConnection {
  private received = Buffer.alloc(0);
  private ended = false;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.notify();
    });
    socket.on('close', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('error', () => {});
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = tcpConnect({ host: '127.0.0.1', port }, () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  send(bytes: Buffer | number[]): void {
    this.socket.write(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes));
  }

  get bytes(): Buffer {
    return this.received;
  }

  /** Waits until the server closed the connection; returns everything it sent. */
  async closedByServer(): Promise<Buffer> {
    await until(() => this.ended, 'the server to close the connection', WAIT_MS, this.waiters);
    return this.received;
  }

  async waitForBytes(count: number): Promise<Buffer> {
    await until(() => this.received.length >= count, `${count} bytes from the server`, WAIT_MS, this.waiters);
    return this.received;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private notify(): void {
    for (const waiter of this.waiters) waiter();
  }
}

export interface RawConnectOptions {
  readonly clientId?: string;
  readonly level?: number;
  readonly protocolName?: string;
  /** Connect flags byte; default 0x02 (clean session). */
  readonly flags?: number;
  readonly keepAliveSeconds?: number;
}

/** A 3.1.1-shaped CONNECT packet by hand, for levels and flags the real client refuses to send. */
export function rawConnect(options: RawConnectOptions = {}): Buffer {
  const name = Buffer.from(options.protocolName ?? 'MQTT');
  const id = Buffer.from(options.clientId ?? 'raw-client');
  const keepAlive = options.keepAliveSeconds ?? 60;
  const body = Buffer.concat([
    Buffer.from([0, name.length]),
    name,
    Buffer.from([options.level ?? 4, options.flags ?? 0x02, keepAlive >> 8, keepAlive & 0xff, id.length >> 8, id.length & 0xff]),
    id,
  ]);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}

/** Encodes a packet with mqtt-packet (the codec the real client uses). */
export function encode(packet: Packet, protocolVersion: 4 | 5 = 4): Buffer {
  return generate(packet, { protocolVersion });
}

/** Decodes what a server sent, for a client of `protocolVersion`. */
export function decodeAll(bytes: Buffer, protocolVersion: 4 | 5 = 4): Packet[] {
  const decoder = parser({ protocolVersion });
  const packets: Packet[] = [];
  decoder.on('packet', (packet: Packet) => packets.push(packet));
  decoder.on('error', (error: unknown) => {
    throw error;
  });
  decoder.parse(bytes);
  return packets;
}
