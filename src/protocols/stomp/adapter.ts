import type { Socket } from 'node:net';
import type { Broker } from '../../core/broker.js';
import type { Authenticator, Logger } from '../../core/ports.js';
import { defaultStompLimits, type StompLimits } from './codec/limits.js';
import { readCourierVersion } from '../server-version.js';
import { StompSession, type StompSessionSettings, type StompWire } from './session.js';

/** What the server hands an adapter (structurally the server's ProtocolAdapterContext). */
export interface StompAdapterContext {
  readonly broker: Broker;
  readonly logger: Logger;
  readonly authenticator: Authenticator;
  /** Courier's version for CONNECTED's `server` header; read from package.json when absent. */
  readonly serverVersion?: string;
}

export interface StompAdapterOptions {
  readonly limits?: Partial<StompLimits>;
  /** Heart-beat intervals a client asks for are raised to at least this (default 100 ms). */
  readonly heartBeatMinimumMs?: number;
  /** Connections that send no CONNECT within this are closed (default 10 s, as RabbitMQ's handshake timeout). */
  readonly connectTimeoutMs?: number;
  /** After an ERROR, how long the peer has to read it before the socket is destroyed (default 2 s). */
  readonly lingerMs?: number;
}

/** The events of one transport connection, fed to its session. */
export interface StompConnectionHandle {
  receive(chunk: Uint8Array): void;
  /** The wire has room again after `write` returned false. */
  drained(): void;
  /** The transport is gone. */
  closed(): void;
}

export interface StompAdapter {
  accept(socket: Socket): void;
  /** Runs a session over a transport other than TCP (a WebSocket). */
  acceptWire(wire: StompWire): StompConnectionHandle;
  close(): Promise<void>;
}

/**
 * The STOMP adapter: one session per accepted connection. TCP sockets come from the server's listener;
 * other transports (WebSocket) feed sessions through `acceptWire`.
 */
export function createStompAdapter(context: StompAdapterContext, options: StompAdapterOptions = {}): StompAdapter {
  const settings = sessionSettings(context, options);
  const sessions = new Set<StompSession>();
  let closing = false;

  const acceptWire = (wire: StompWire): StompConnectionHandle => {
    const session = new StompSession(wire, context, settings);
    if (closing) void session.shutdown();
    else sessions.add(session);
    return {
      receive: (chunk) => session.receive(chunk),
      drained: () => session.drained(),
      closed: () => {
        sessions.delete(session);
        session.wireClosed();
      },
    };
  };

  return {
    acceptWire,
    accept(socket: Socket): void {
      if (closing) {
        socket.destroy();
        return;
      }
      const connection = acceptWire(tcpWire(socket));
      socket.on('data', (chunk: Buffer) => connection.receive(chunk));
      socket.on('drain', () => connection.drained());
      socket.on('error', (error) => context.logger.debug({ err: error, protocol: 'stomp' }, 'STOMP socket error'));
      socket.once('close', () => connection.closed());
    },
    async close(): Promise<void> {
      closing = true;
      await Promise.all([...sessions].map((session) => session.shutdown()));
      sessions.clear();
    },
  };
}

function sessionSettings(context: StompAdapterContext, options: StompAdapterOptions): StompSessionSettings {
  return {
    serverName:
      context.serverVersion !== undefined
        ? `Courier/${context.serverVersion}`
        : readCourierVersion().then((version) => `Courier/${version}`),
    limits: { ...defaultStompLimits, ...options.limits },
    heartBeatMinimumMs: options.heartBeatMinimumMs ?? 100,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    lingerMs: options.lingerMs ?? 2_000,
  };
}

/**
 * A socket as a session's wire. Frames written in one event-loop turn go out in one write (cork until
 * the next tick), which matters when many MESSAGE frames are delivered at once.
 */
function tcpWire(socket: Socket): StompWire {
  let corked = false;
  const uncork = (): void => {
    corked = false;
    socket.uncork();
  };
  return {
    remoteAddress: socket.remoteAddress ?? '',
    write(bytes) {
      if (socket.destroyed || socket.writableEnded) return true;
      if (!corked) {
        corked = true;
        socket.cork();
        process.nextTick(uncork);
      }
      return socket.write(bytes);
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    end() {
      if (socket.destroyed) return;
      socket.end();
      // Keep reading (and dropping) what the peer still sends: unread input would make the close a reset,
      // which can destroy the ERROR frame before the peer reads it.
      socket.resume();
    },
    destroy: () => socket.destroy(),
  };
}
