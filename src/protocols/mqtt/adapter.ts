/**
 * The MQTT protocol adapter: one MqttSession per accepted connection, sharing a registry of client
 * identifiers (session takeover, persistent session state, delayed wills).
 */
import type { Socket } from 'node:net';
import type { Broker } from '../../core/broker.js';
import type { Authenticator, Logger } from '../../core/ports.js';
import { SessionRegistry } from './session-registry.js';
import { MqttSession, type MqttLimits } from './session.js';

/**
 * What the server gives the adapter; the same shape as the server's ProtocolAdapterContext, declared here
 * because protocols do not import the server (DESIGN.md §5: imports point one way).
 */
export interface MqttAdapterContext {
  readonly broker: Broker;
  readonly logger: Logger;
  readonly authenticator: Authenticator;
}

export interface MqttAdapter {
  accept(socket: Socket): void;
  close(): Promise<void>;
}

export interface MqttAdapterFactory {
  readonly protocol: 'mqtt';
  create(context: MqttAdapterContext): MqttAdapter;
}

export const defaultMqttLimits: MqttLimits = {
  maxPacketBytes: 16 * 1024 * 1024,
  inflightWindow: 100,
  maxQueuedMessages: 100_000,
  connectTimeoutMs: 10_000,
  maxPendingPublishes: 1024,
};

class MqttProtocolAdapter implements MqttAdapter {
  private readonly sessions = new Set<MqttSession>();
  private readonly registry: SessionRegistry<MqttSession>;
  private closing = false;

  constructor(
    private readonly context: MqttAdapterContext,
    private readonly limits: MqttLimits,
  ) {
    this.registry = new SessionRegistry(context.broker.clock);
  }

  accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const session = new MqttSession(socket, {
      broker: this.context.broker,
      logger: this.context.logger,
      authenticator: this.context.authenticator,
      registry: this.registry,
      limits: this.limits,
    });
    this.sessions.add(session);
    void session.ended.then(() => this.sessions.delete(session));
  }

  async close(): Promise<void> {
    this.closing = true;
    this.registry.cancelAllWills();
    await Promise.all([...this.sessions].map((session) => session.shutdown()));
  }
}

/** A factory with other limits than the defaults (tests, embedding). */
export function createMqttAdapterFactory(limits: Partial<MqttLimits> = {}): MqttAdapterFactory {
  const merged: MqttLimits = { ...defaultMqttLimits, ...limits };
  return {
    protocol: 'mqtt',
    create: (context) => new MqttProtocolAdapter(context, merged),
  };
}

export const mqttAdapterFactory: MqttAdapterFactory = createMqttAdapterFactory();
