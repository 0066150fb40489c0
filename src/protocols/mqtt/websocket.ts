/**
 * MQTT over WebSocket (`ws://HOST:PORT/mqtt`, subprotocol `mqtt`, or `mqttv3.1` for 3.1 clients), as
 * Mosquitto and RabbitMQ's Web MQTT serve it: binary messages carry the MQTT byte stream, one packet, several
 * or part of one; the session's decoder reassembles them exactly as on TCP.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocketServer } from 'ws';
import type { MqttTransport } from './session.js';

export const MQTT_WEBSOCKET_PATH = '/mqtt';

/** Subprotocols offered by MQTT clients, best first. */
const SUBPROTOCOLS = ['mqtt', 'mqttv3.1'];

/** Room for a fixed header and remaining length on top of the largest packet's size. */
const FIXED_HEADER_BYTES = 5;

export interface MqttWebSocketEndpoint {
  /** Takes an HTTP upgrade request for the endpoint's path. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Ends the sessions (the adapter's shutdown), then closes what is left. */
  close(): Promise<void>;
}

/** What the endpoint needs of the adapter (kept narrow: the adapter module imports this one). */
export interface MqttStreamAcceptor {
  acceptStream(stream: MqttTransport, remoteAddress: string): void;
  close(): Promise<void>;
}

export function createMqttWebSocketEndpoint(adapter: MqttStreamAcceptor, maxPacketBytes: number): MqttWebSocketEndpoint {
  const server = new WebSocketServer({
    noServer: true,
    // The decoder enforces the packet limit; this only bounds what one WebSocket message may buffer.
    maxPayload: maxPacketBytes + FIXED_HEADER_BYTES,
    handleProtocols: (offered) => SUBPROTOCOLS.find((protocol) => offered.has(protocol)) ?? false,
  });
  return {
    handleUpgrade(request, socket, head) {
      server.handleUpgrade(request, socket, head, (ws) => {
        // The session listens for the stream's errors (a peer that vanished) itself.
        adapter.acceptStream(createWebSocketStream(ws), request.socket.remoteAddress ?? '');
      });
    },
    async close() {
      await adapter.close();
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
