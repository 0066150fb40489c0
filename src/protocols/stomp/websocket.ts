import { Buffer, isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { createStompAdapter, type StompAdapterContext, type StompAdapterOptions } from './adapter.js';
import { defaultStompLimits } from './codec/limits.js';
import type { StompWire } from './session.js';

/** STOMP over WebSocket subprotocols, best first (what stomp.js and RabbitMQ's Web STOMP offer). */
const SUBPROTOCOLS = ['v12.stomp', 'v11.stomp', 'v10.stomp'];

/** Above this many octets queued on a WebSocket the session pauses deliveries; below half it resumes. */
const HIGH_WATER_BYTES = 1024 * 1024;

export interface StompWebSocketEndpoint {
  /** Takes an HTTP upgrade request for the endpoint's path. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Ends the sessions (ERROR "Server shutdown"), then closes what is left. */
  close(): Promise<void>;
}

/**
 * STOMP over WebSocket (`ws://HOST:PORT/stomp`), as RabbitMQ's Web STOMP plugin serves it: each WebSocket
 * message carries STOMP bytes (one frame, several, or part of one: the same parser as TCP reassembles
 * them), and frames go out as text messages when they are UTF-8, else as binary ones.
 */
export function createStompWebSocketEndpoint(context: StompAdapterContext, options: StompAdapterOptions = {}): StompWebSocketEndpoint {
  const adapter = createStompAdapter(context, options);
  const limits = { ...defaultStompLimits, ...options.limits };
  const server = new WebSocketServer({
    noServer: true,
    // The STOMP parser enforces the frame limits; this only bounds what one WebSocket message may buffer.
    maxPayload: limits.maxFrameBytes + limits.maxHeaderLineBytes,
    handleProtocols: (offered) => SUBPROTOCOLS.find((protocol) => offered.has(protocol)) ?? false,
  });
  return {
    handleUpgrade(request, socket, head) {
      server.handleUpgrade(request, socket, head, (ws) => {
        const wire = webSocketWire(ws, request.socket.remoteAddress ?? '', () => connection.drained());
        const connection = adapter.acceptWire(wire);
        ws.on('message', (data: RawData) => connection.receive(asBytes(data)));
        ws.on('error', (error) => context.logger.debug({ err: error, protocol: 'stomp', transport: 'websocket' }, 'STOMP WebSocket error'));
        ws.once('close', () => connection.closed());
      });
    },
    async close() {
      await adapter.close();
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function asBytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function webSocketWire(ws: WebSocket, remoteAddress: string, drained: () => void): StompWire {
  let queued = 0;
  let blocked = false;
  return {
    remoteAddress,
    write(bytes) {
      if (ws.readyState !== ws.OPEN) return true;
      const size = bytes.byteLength;
      queued += size;
      ws.send(bytes, { binary: !isUtf8(bytes) }, () => {
        queued -= size;
        if (blocked && queued < HIGH_WATER_BYTES / 2) {
          blocked = false;
          drained();
        }
      });
      if (queued < HIGH_WATER_BYTES) return true;
      blocked = true;
      return false;
    },
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    end() {
      if (ws.readyState === ws.OPEN) ws.close(1000);
    },
    destroy: () => ws.terminate(),
  };
}
