import { BrokerError } from '../../core/errors.js';
import { authenticateBasic } from '../../transport/http/basic-auth.js';
import { receiveMessages, settleMessages, type WaitingPolls } from './consume.js';
import { requestReply, topicEvents, type OpenStreams } from './live.js';
import { openApiDocument } from './openapi.js';
import { problemFor, sendJson, sendProblem } from '../../transport/http/problem.js';
import { publishRequest, publishToExchange, publishToQueue } from './publish.js';
import { ReceiptBook } from './receipts.js';
import { DEFAULT_MAX_BODY_BYTES } from '../../transport/http/request-body.js';
import type { ApiRequest, HttpApiContext, HttpApiRoute, HttpApiRouteContext } from './route-types.js';
import { replayStream } from './stream-replay.js';
import { createWsEndpoint, type HttpWebSocketEndpoint } from './ws-endpoint.js';

export interface HttpApiOptions {
  /**
   * Request bodies above this are refused with 413 (default 1 MiB); also the largest `/ws` WebSocket
   * message (the server's `--http-body-limit`).
   */
  readonly maxBodyBytes?: number;
  /** Interval of the SSE heartbeat comments (default 15 s). */
  readonly heartbeatMs?: number;
}

export interface HttpApi {
  /** The routes for the server's HTTP router; they answer 503 until `attach`. */
  readonly routes: readonly HttpApiRoute[];
  /** The JSON messaging protocol over WebSocket at `/ws`, for the server's upgrade routing. */
  readonly webSocket: HttpWebSocketEndpoint;
  /** Starts serving with the open broker (the router exists before the broker is recovered). */
  attach(context: HttpApiContext): void;
  /** Ends event streams and `/ws` sessions, and returns every unsettled pulled message to its queue. */
  close(): Promise<void>;
}

const REALM = 'Basic realm="courier", charset="UTF-8"';

/**
 * The HTTP messaging API (`/api/...`): publish, pull with receipt handles, server-sent events,
 * request/reply and stream replay over the broker core, with HTTP Basic authentication on every request
 * and RFC 9457 problem details for every error.
 */
export function createHttpApi(options: HttpApiOptions = {}): HttpApi {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  let context: HttpApiContext | undefined;
  let receipts: ReceiptBook | undefined;
  const streams: OpenStreams = new Set();
  const waitingPolls: WaitingPolls = new Set();
  let closed = false;
  const webSocket = createWsEndpoint(() => (closed ? undefined : context), { maxFrameBytes: maxBodyBytes });

  const guarded =
    (method: HttpApiRoute['method'], path: string, handler: (api: ApiRequest, book: ReceiptBook) => void | Promise<void>): HttpApiRoute => ({
      method,
      path,
      handle: async (route: HttpApiRouteContext) => {
        const instance = route.url.pathname;
        try {
          if (!context || !receipts || closed) {
            throw new BrokerError('BROKER_CLOSED', 'the broker is not serving the HTTP API now');
          }
          // The router answers HEAD with the GET route; here that would pull messages or open a stream.
          if (route.request.method === 'HEAD') {
            throw new BrokerError('INVALID_ARGUMENT', `HEAD is not allowed on ${instance}`, { httpStatus: 405 });
          }
          const principal = await authenticateBasic(route.request, context.authenticator);
          await handler({ ...route, principal, broker: context.broker, clock: context.broker.clock }, receipts);
        } catch (error) {
          const problem = problemFor(error, instance);
          if (problem.status === 500) context?.logger.error({ err: error, path: instance }, 'http api request failed');
          const headers: Record<string, string> = {};
          if (problem.status === 401) headers['www-authenticate'] = REALM;
          // The unread rest of an oversize body must not be parsed as the next request.
          if (problem.status === 413) headers['connection'] = 'close';
          if (problem.status === 405) headers['allow'] = method;
          if (problem.code === 'RESOURCE_ALARM') headers['retry-after'] = '1';
          sendProblem(route.response, problem, headers);
        }
      },
    });

  const routes: HttpApiRoute[] = [
    guarded('POST', '/api/topics/:topic/messages', (api) => publishRequest(api, 'amq.topic', api.params['topic'] ?? '', maxBodyBytes)),
    guarded('POST', '/api/exchanges/:exchange/messages', (api) => publishToExchange(api, api.params['exchange'] ?? '', maxBodyBytes)),
    guarded('POST', '/api/queues/:queue/messages', (api) => publishToQueue(api, api.params['queue'] ?? '', maxBodyBytes)),
    guarded('GET', '/api/queues/:queue/messages', (api, book) => receiveMessages(api, api.params['queue'] ?? '', book, waitingPolls)),
    guarded('POST', '/api/queues/:queue/messages/ack', (api, book) => settleMessages(api, api.params['queue'] ?? '', book, 'ack', maxBodyBytes)),
    guarded('POST', '/api/queues/:queue/messages/nack', (api, book) => settleMessages(api, api.params['queue'] ?? '', book, 'nack', maxBodyBytes)),
    guarded('GET', '/api/topics/:pattern/events', (api) => topicEvents(api, api.params['pattern'] ?? '', streams, heartbeatMs)),
    guarded('POST', '/api/topics/:topic/requests', (api) => requestReply(api, api.params['topic'] ?? '', maxBodyBytes)),
    guarded('GET', '/api/streams/:stream/messages', (api) => replayStream(api, api.params['stream'] ?? '')),
  ];
  // The description is public, as RabbitMQ's and most APIs' are: it holds nothing about the broker's state.
  routes.push({ method: 'GET', path: '/api/openapi.json', handle: ({ response }) => sendJson(response, 200, openApiDocument) });

  return {
    routes,
    webSocket,
    attach(attached) {
      context = attached;
      receipts = new ReceiptBook(attached.broker, attached.broker.clock);
    },
    async close() {
      closed = true;
      for (const end of [...streams]) end();
      await webSocket.close();
      await receipts?.close();
      // Their scope connections are closed now: woken, they fail with CHANNEL_CLOSED (503).
      for (const wake of [...waitingPolls]) wake();
    },
  };
}
