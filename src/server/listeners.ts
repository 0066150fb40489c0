import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Broker } from '../core/broker.js';
import type { Logger, Authenticator } from '../core/ports.js';
import type { ListenAddress } from '../transport/bind.js';
import { TcpListener } from '../transport/tcp-listener.js';
import { flagOf, settingByKey, type ListenerPortKey, type ServerConfig } from './settings.js';

export const protocolNames = ['mqtt', 'amqp', 'stomp', 'kafka'] as const;
export type ProtocolName = (typeof protocolNames)[number];

/** The setting that holds each protocol's port: adding a protocol means a row here and one in the settings. */
export const protocolPortSetting: Readonly<Record<ProtocolName, ListenerPortKey>> = {
  mqtt: 'mqttPort',
  amqp: 'amqpPort',
  stomp: 'stompPort',
  kafka: 'kafkaPort',
};

export interface ProtocolAdapterContext {
  readonly broker: Broker;
  readonly logger: Logger;
  /** Checks client credentials (guest/guest from loopback by default). */
  readonly authenticator: Authenticator;
  /** Courier's version, for the server identification each protocol sends. */
  readonly serverVersion?: string;
}

/**
 * What a protocol adapter (src/protocols/<name>/) gives the server: it takes accepted connections and runs
 * one session per connection. Adapters never see the listener, so TLS or WebSocket transports can feed
 * the same adapter later.
 */
export interface ProtocolAdapter {
  /** Takes ownership of a connected socket. */
  accept(socket: Socket): void;
  /** Ends open sessions politely (protocol-level close); the listener destroys whatever remains afterwards. */
  close(): Promise<void>;
}

/** A protocol served over WebSocket on the HTTP listener (RabbitMQ's Web STOMP / Web MQTT). */
export interface WebSocketEndpoint {
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Ends its sessions politely, then closes what remains. */
  close(): Promise<void>;
}

export interface ProtocolAdapterFactory {
  readonly protocol: ProtocolName;
  create(context: ProtocolAdapterContext): ProtocolAdapter;
  /** Optional: the protocol over WebSocket at `path` of the HTTP listener (e.g. STOMP at /stomp). */
  readonly webSocket?: { readonly path: string; create(context: ProtocolAdapterContext): WebSocketEndpoint };
}

export interface RunningProtocolListener {
  readonly protocol: ProtocolName;
  readonly address: ListenAddress;
  stopAccepting(): void;
  /** Closes the adapter's sessions, then the listener. */
  close(): Promise<void>;
}

export type ProtocolListenerPlan =
  | { readonly protocol: ProtocolName; readonly status: 'start'; readonly port: number; readonly factory: ProtocolAdapterFactory }
  | { readonly protocol: ProtocolName; readonly status: 'disabled' | 'not-built' };

/** Which listeners start: a port of null disables one; a protocol without an adapter yet is absent. */
export function planProtocolListeners(
  config: ServerConfig,
  factories: readonly ProtocolAdapterFactory[],
): ProtocolListenerPlan[] {
  return protocolNames.map((protocol) => {
    const port = config[protocolPortSetting[protocol]];
    if (port === null) return { protocol, status: 'disabled' };
    const factory = factories.find((candidate) => candidate.protocol === protocol);
    if (!factory) return { protocol, status: 'not-built' };
    return { protocol, status: 'start', port, factory };
  });
}

export async function startProtocolListener(
  plan: Extract<ProtocolListenerPlan, { status: 'start' }>,
  bind: string,
  context: ProtocolAdapterContext,
): Promise<RunningProtocolListener> {
  const adapter = plan.factory.create(context);
  let listener: TcpListener;
  try {
    listener = await TcpListener.open({
      host: bind,
      port: plan.port,
      portSetting: flagOf(settingByKey(protocolPortSetting[plan.protocol])),
      hostSetting: flagOf(settingByKey('bind')),
      onConnection: (socket) => adapter.accept(socket),
      onError: (error) => context.logger.error({ err: error, protocol: plan.protocol }, 'listener error'),
    });
  } catch (error) {
    await adapter.close();
    throw error;
  }
  return {
    protocol: plan.protocol,
    address: listener.address,
    stopAccepting: () => listener.stopAccepting(),
    close: async () => {
      listener.stopAccepting();
      try {
        await adapter.close();
      } finally {
        await listener.close();
      }
    },
  };
}
