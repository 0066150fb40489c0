/** The JSON shapes of the REST management API the console reads (docs/management.md). */

export interface Rates {
  readonly publish: number;
  readonly deliver: number;
  readonly ack?: number;
}

export interface Overview {
  readonly version: string;
  readonly uptimeSeconds: number;
  readonly rates: Rates;
  readonly totals: {
    readonly published: number;
    readonly delivered: number;
    readonly acked: number;
    readonly messagesReady: number;
    readonly messagesUnacked: number;
    readonly queues: number;
    readonly exchanges: number;
    readonly topics: number;
    readonly streams: number;
    readonly connections: number;
    readonly consumers: number;
  };
}

export interface Topic {
  readonly name: string;
  readonly displayName: string;
  readonly description: string;
  readonly retention?: { readonly maxAgeMs?: number; readonly maxBytes?: number };
  readonly createdAt: string;
}

/** GET /api/services: who produces and consumes which topic (declared by topology as code). */
export interface Service {
  readonly name: string;
  readonly displayName: string;
  readonly description: string;
  readonly produces: readonly string[];
  readonly consumes: readonly string[];
}

export interface Queue {
  readonly name: string;
  readonly type: string;
  readonly durable: boolean;
  readonly exclusive: boolean;
  readonly autoDelete: boolean;
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly messagesReady: number;
  readonly messagesUnacked: number;
  readonly consumers: number;
  readonly rates: Rates;
}

export interface Exchange {
  readonly name: string;
  readonly type: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly internal: boolean;
}

export interface Binding {
  readonly source: string;
  readonly destination: string;
  readonly destinationKind: string;
  readonly routingKey: string;
}

export interface ConnectionInfo {
  readonly id: string | number;
  readonly protocol: string;
  readonly clientId?: string;
  readonly user: string;
  readonly remoteAddress: string;
  readonly connectedAt: string;
  readonly channels: number;
  readonly rates: Rates;
}

export interface PeekedMessage {
  readonly exchange: string;
  readonly routingKey: string;
  readonly body: string;
  readonly contentType?: string;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly persistent: boolean;
  readonly redelivered: boolean;
  readonly deliveryCount: number;
}
