import type { Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createStompAdapter, type StompAdapterContext, type StompAdapterOptions } from './adapter.js';
import { createStompWebSocketEndpoint } from './websocket.js';

export { createStompAdapter, type StompAdapter, type StompAdapterContext, type StompAdapterOptions } from './adapter.js';
export type { StompWire } from './session.js';
export { createStompWebSocketEndpoint, type StompWebSocketEndpoint } from './websocket.js';

/** The WebSocket path RabbitMQ's Web STOMP and Courier's defaults use. */
export const STOMP_WEBSOCKET_PATH = '/stomp';

/** A factory for the server's adapter list (structurally the server's ProtocolAdapterFactory). */
export interface StompAdapterFactory {
  readonly protocol: 'stomp';
  create(context: StompAdapterContext): { accept(socket: Socket): void; close(): Promise<void> };
  /** STOMP over WebSocket on the HTTP listener. */
  readonly webSocket: {
    readonly path: string;
    create(context: StompAdapterContext): {
      handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
      close(): Promise<void>;
    };
  };
}

export function createStompAdapterFactory(options: StompAdapterOptions = {}): StompAdapterFactory {
  return {
    protocol: 'stomp',
    create: (context) => createStompAdapter(context, options),
    webSocket: { path: STOMP_WEBSOCKET_PATH, create: (context) => createStompWebSocketEndpoint(context, options) },
  };
}

/** The STOMP adapter with default limits and timings, as `courier serve` runs it. */
export const stompAdapterFactory: StompAdapterFactory = createStompAdapterFactory();
