import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Authenticator, Principal } from '../../core/ports.js';
import { BrokerError } from '../../core/errors.js';
import { authenticateBasic } from '../../transport/http/basic-auth.js';
import { problemFor } from '../../transport/http/problem.js';
import type { HttpApiContext } from './route-types.js';
import { WsSession } from './ws-session.js';

/** The path of the JSON messaging protocol on the HTTP listener. */
export const HTTP_WEBSOCKET_PATH = '/ws';

export interface WsEndpointOptions {
  /** Largest WebSocket message; a bigger one closes the socket with 1009 (RFC 6455 §7.4.1). */
  readonly maxFrameBytes: number;
  /** Socket bytes queued before deliveries pause (default 1 MiB, as STOMP over WebSocket). */
  readonly highWaterBytes?: number;
  /** Interval of the server's WebSocket pings; a client that missed the previous one is dropped (default 30 s). */
  readonly heartbeatMs?: number;
}

export interface HttpWebSocketEndpoint {
  readonly path: string;
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Ends every session (an error frame BROKER_CLOSED, close 1001), then closes what remains. */
  close(): Promise<void>;
  /** Open sessions. */
  readonly sessionCount: number;
}

const REALM = 'Basic realm="courier", charset="UTF-8"';

/**
 * Credentials of an upgrade request: HTTP Basic when the request has an Authorization header, as the REST
 * API; without one, an ANONYMOUS login, which the authenticator maps to guest from loopback only (a
 * browser's WebSocket cannot send the header, as with STOMP and MQTT over WebSocket).
 */
function authenticateUpgrade(request: IncomingMessage, authenticator: Authenticator): Promise<Principal> {
  if (request.headers.authorization !== undefined) return authenticateBasic(request, authenticator);
  return authenticator.authenticate({
    mechanism: 'ANONYMOUS',
    username: '',
    password: '',
    remoteAddress: request.socket.remoteAddress ?? '',
    protocol: 'http',
  });
}

/** Answers an upgrade that is not accepted with problem details, as the REST API would. */
function refuse(socket: Duplex, error: unknown): void {
  if (socket.destroyed) return;
  const problem = problemFor(error, HTTP_WEBSOCKET_PATH);
  const body = JSON.stringify({ type: 'about:blank', title: STATUS_CODES[problem.status] ?? 'Error', ...problem });
  const headers = [
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? 'Error'}`,
    'Content-Type: application/problem+json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...(problem.status === 401 ? [`WWW-Authenticate: ${REALM}`] : []),
  ];
  socket.end(`${headers.join('\r\n')}\r\n\r\n${body}`);
}

function asBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * The `/ws` endpoint: authenticates the upgrade, then runs one WsSession per socket. The context is
 * looked up per upgrade, so the endpoint exists before the broker is open (it answers 503 until then).
 */
export function createWsEndpoint(contextOf: () => HttpApiContext | undefined, options: WsEndpointOptions): HttpWebSocketEndpoint {
  const sessionOptions = { maxFrameBytes: options.maxFrameBytes, highWaterBytes: options.highWaterBytes ?? 1024 * 1024, maxOutstanding: 256 };
  const heartbeatMs = options.heartbeatMs ?? 30_000;
  const server = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes, perMessageDeflate: false });
  const sessions = new Map<WebSocket, WsSession>();
  const alive = new WeakSet<WebSocket>();
  let heartbeat: { cancel(): void } | undefined;
  let closed = false;

  const beat = (context: HttpApiContext): void => {
    heartbeat = undefined;
    for (const ws of sessions.keys()) {
      if (!alive.has(ws)) {
        ws.terminate();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
    if (sessions.size > 0 && !closed) heartbeat = context.broker.clock.setTimer(heartbeatMs, () => beat(context));
  };

  const start = (ws: WebSocket, principal: Principal, request: IncomingMessage, context: HttpApiContext): void => {
    if (closed) {
      ws.close(1001, 'server shutting down');
      return;
    }
    let session: WsSession;
    try {
      const connection = context.broker.connect(principal, { protocol: 'ws', remoteAddress: request.socket.remoteAddress ?? '' });
      session = new WsSession(ws, connection, context.broker, context.logger, sessionOptions);
    } catch (error) {
      context.logger.warn({ err: error, protocol: 'ws' }, 'a /ws session could not start');
      ws.close(1011, 'the broker refused the connection');
      return;
    }
    sessions.set(ws, session);
    alive.add(ws);
    ws.on('pong', () => alive.add(ws));
    ws.on('message', (data: RawData, isBinary: boolean) => session.receive(asBuffer(data), isBinary));
    // Oversize messages (1009) and invalid UTF-8 in text messages (1007) end here; ws closes the socket.
    ws.on('error', (error) => context.logger.debug({ err: error, protocol: 'ws' }, '/ws socket error'));
    ws.once('close', () => {
      sessions.delete(ws);
      session.closed();
    });
    heartbeat ??= context.broker.clock.setTimer(heartbeatMs, () => beat(context));
  };

  return {
    path: HTTP_WEBSOCKET_PATH,
    get sessionCount() {
      return sessions.size;
    },
    handleUpgrade(request, socket, head) {
      const context = contextOf();
      if (!context || closed) {
        refuse(socket, new BrokerError('BROKER_CLOSED', 'the broker is not serving /ws now'));
        return;
      }
      // A client that goes away during authentication must not crash the process.
      socket.on('error', () => socket.destroy());
      authenticateUpgrade(request, context.authenticator).then(
        (principal) => {
          if (socket.destroyed) return;
          if (closed) {
            refuse(socket, new BrokerError('BROKER_CLOSED', 'the broker is not serving /ws now'));
            return;
          }
          server.handleUpgrade(request, socket, head, (ws) => start(ws, principal, request, context));
        },
        (error: unknown) => refuse(socket, error),
      );
    },
    async close() {
      closed = true;
      heartbeat?.cancel();
      heartbeat = undefined;
      const ending = [...sessions.values()].map((session) => session.end('BROKER_CLOSED', 'server shutting down'));
      await Promise.allSettled(ending);
      for (const ws of server.clients) ws.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
