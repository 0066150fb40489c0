import type { Socket } from 'node:net';
import { readCourierVersion } from '../server-version.js';
import { DirectReplyRegistry } from './direct-reply-to.js';
import { AmqpSession, type AmqpSessionContext, type AmqpSessionSettings } from './session.js';

/** What the server hands an adapter (structurally the server's ProtocolAdapterContext). */
export interface AmqpAdapterContext extends Omit<AmqpSessionContext, 'replies'> {
  /** Courier's version for connection.start's server properties; read from package.json when absent. */
  readonly serverVersion?: string;
}

export interface AmqpAdapterOptions {
  /** channel-max proposed in connection.tune (default 2047, as RabbitMQ). */
  readonly channelMax?: number;
  /** frame-max proposed in connection.tune (default 131072). */
  readonly frameMax?: number;
  /** Heartbeat proposed in connection.tune, seconds (default 60; 0 disables unless the client asks). */
  readonly heartbeat?: number;
  /** Largest message body accepted (default 128 MiB, RabbitMQ's max_message_size). */
  readonly maxMessageSize?: number;
  /** Connections that do not complete the handshake in time are dropped (default 10 s). */
  readonly handshakeTimeoutMs?: number;
  /** How long a peer has to answer our connection.close (default 2 s). */
  readonly closeTimeoutMs?: number;
}

export interface AmqpAdapter {
  accept(socket: Socket): void;
  close(): Promise<void>;
}

/** The AMQP 0-9-1 adapter: one session per accepted TCP connection. */
export function createAmqpAdapter(context: AmqpAdapterContext, options: AmqpAdapterOptions = {}): AmqpAdapter {
  const settings: AmqpSessionSettings = {
    serverVersion: context.serverVersion ?? readCourierVersion(),
    channelMax: options.channelMax ?? 2047,
    frameMax: options.frameMax ?? 131_072,
    heartbeat: options.heartbeat ?? 60,
    maxMessageSize: options.maxMessageSize ?? 128 * 1024 * 1024,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
    closeTimeoutMs: options.closeTimeoutMs ?? 2_000,
  };
  const sessions = new Set<AmqpSession>();
  const sessionContext: AmqpSessionContext = { ...context, replies: new DirectReplyRegistry() };
  let closing = false;
  return {
    accept(socket: Socket): void {
      if (closing) {
        socket.destroy();
        return;
      }
      socket.setNoDelay(true);
      const session = new AmqpSession(socket, sessionContext, settings);
      sessions.add(session);
      socket.on('data', (chunk: Buffer) => session.receive(chunk));
      socket.on('error', (error) => context.logger.debug({ err: error, protocol: 'amqp' }, 'AMQP socket error'));
      socket.once('close', () => {
        sessions.delete(session);
        session.cleanup();
      });
    },
    async close(): Promise<void> {
      closing = true;
      await Promise.all([...sessions].map((session) => session.shutdown()));
      sessions.clear();
    },
  };
}
