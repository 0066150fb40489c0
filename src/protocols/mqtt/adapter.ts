/**
 * The MQTT protocol adapter: one MqttSession per accepted connection, sharing a registry of client
 * identifiers (session takeover, persistent session state, delayed wills).
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Broker } from '../../core/broker.js';
import type { Authenticator, Logger } from '../../core/ports.js';
import { SessionRegistry } from './session-registry.js';
import { SESSION_STORE_NAME, SessionStore } from './session-store.js';
import { MqttSession, type MqttLimits, type MqttTransport } from './session.js';
import { SysTopicsPublisher, type MqttStats } from './sys-topics.js';
import { createMqttWebSocketEndpoint, MQTT_WEBSOCKET_PATH, type MqttWebSocketEndpoint } from './websocket.js';
import { publishWillMessage } from './wills.js';

/**
 * What the server gives the adapter; the same shape as the server's ProtocolAdapterContext, declared here
 * because protocols do not import the server (DESIGN.md §5: imports point one way).
 */
export interface MqttAdapterContext {
  readonly broker: Broker;
  readonly logger: Logger;
  readonly authenticator: Authenticator;
  /** Courier's version (the server passes it), for `$SYS/broker/version`. */
  readonly serverVersion?: string;
}

export interface MqttAdapter {
  accept(socket: Socket): void;
  /** Runs a session over another transport (a WebSocket's byte stream). */
  acceptStream(stream: MqttTransport, remoteAddress: string): void;
  close(): Promise<void>;
}

export interface MqttAdapterFactory {
  readonly protocol: 'mqtt';
  create(context: MqttAdapterContext): MqttAdapter;
  /** MQTT over WebSocket on the HTTP listener (`/mqtt`), sharing the TCP adapter's sessions. */
  readonly webSocket: {
    readonly path: string;
    create(context: MqttAdapterContext): {
      handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
      close(): Promise<void>;
    };
  };
}

export const defaultMqttLimits: MqttLimits = {
  maxPacketBytes: 16 * 1024 * 1024,
  inflightWindow: 100,
  maxQueuedMessages: 100_000,
  connectTimeoutMs: 10_000,
  maxPendingPublishes: 1024,
  receiveMaximum: 1024,
  topicAliasMaximum: 10,
  maxKeepAliveSeconds: 0,
  sysIntervalMs: 10_000,
};

export interface MqttAdapterInfo {
  /** The value of `$SYS/broker/version`. */
  readonly version?: string;
}

class MqttProtocolAdapter implements MqttAdapter {
  private readonly sessions = new Set<MqttSession>();
  private readonly registry: SessionRegistry<MqttSession>;
  private readonly stats: MqttStats = { packetsReceived: 0, packetsSent: 0 };
  private readonly sys: SysTopicsPublisher | undefined;
  private closing = false;
  private sysStarted = false;
  private closed: Promise<void> | undefined;

  constructor(
    private readonly context: MqttAdapterContext,
    private readonly limits: MqttLimits,
    info: MqttAdapterInfo,
  ) {
    const { broker, logger } = context;
    this.registry = new SessionRegistry(broker.clock, logger, new SessionStore(broker.keyedStore(SESSION_STORE_NAME)));
    // Stored QoS 2 state and delayed wills are loaded now, not with the first client: a will whose delay
    // ended while the broker was down is published at startup.
    void this.registry.restore((will) => publishWillMessage(broker, logger, will.clientId, will.principal, will.message));
    if (limits.sysIntervalMs > 0) {
      this.sys = new SysTopicsPublisher({
        broker: context.broker,
        logger: context.logger,
        stats: this.stats,
        intervalMs: limits.sysIntervalMs,
        version: `courier ${info.version ?? context.serverVersion ?? 'unknown'}`,
        connectedClients: () => this.connectedClients(),
      });
    }
  }

  private connectedClients(): number {
    let count = 0;
    for (const session of this.sessions) if (session.isConnected) count += 1;
    return count;
  }

  accept(socket: Socket): void {
    this.acceptStream(socket, socket.remoteAddress ?? '');
  }

  acceptStream(stream: MqttTransport, remoteAddress: string): void {
    if (this.closing) {
      stream.destroy();
      return;
    }
    if (!this.sysStarted) {
      // Started by the first client rather than with the adapter: a server nobody speaks MQTT to
      // (the WebSocket endpoint exists whenever HTTP is on) publishes and stores nothing.
      this.sysStarted = true;
      this.sys?.start();
    }
    const session = new MqttSession(
      stream,
      {
        broker: this.context.broker,
        logger: this.context.logger,
        authenticator: this.context.authenticator,
        registry: this.registry,
        limits: this.limits,
        stats: this.stats,
      },
      remoteAddress,
    );
    this.sessions.add(session);
    void session.ended.then(() => this.sessions.delete(session));
  }

  close(): Promise<void> {
    // The TCP listener and the WebSocket endpoint both close the adapter they share: once is enough.
    this.closed ??= this.closeSessions();
    return this.closed;
  }

  private async closeSessions(): Promise<void> {
    this.closing = true;
    this.sys?.stop();
    this.registry.cancelAllWills();
    await Promise.all([...this.sessions].map((session) => session.shutdown()));
  }
}

/** A factory with other limits than the defaults (tests, embedding). */
export function createMqttAdapterFactory(limits: Partial<MqttLimits> = {}, info: MqttAdapterInfo = {}): MqttAdapterFactory {
  const merged: MqttLimits = { ...defaultMqttLimits, ...limits };
  // TCP and WebSocket clients of one server share one adapter, so a client identifier is one session
  // whichever transport it arrives on (takeover works across them).
  const adapters = new WeakMap<MqttAdapterContext, MqttProtocolAdapter>();
  const adapterFor = (context: MqttAdapterContext): MqttProtocolAdapter => {
    let adapter = adapters.get(context);
    if (!adapter) {
      adapter = new MqttProtocolAdapter(context, merged, info);
      adapters.set(context, adapter);
    }
    return adapter;
  };
  return {
    protocol: 'mqtt',
    create: adapterFor,
    webSocket: {
      path: MQTT_WEBSOCKET_PATH,
      create: (context): MqttWebSocketEndpoint => createMqttWebSocketEndpoint(adapterFor(context), merged.maxPacketBytes),
    },
  };
}

export const mqttAdapterFactory: MqttAdapterFactory = createMqttAdapterFactory();
