import { BrokerError } from '../core/errors.js';
import { authenticateBasic } from '../transport/http/basic-auth.js';
import { problemFor, sendJson, sendProblem } from '../transport/http/problem.js';
import { DEFAULT_MAX_BODY_BYTES } from '../transport/http/request-body.js';
import { createBinding, deleteBinding, listBindings } from './bindings.js';
import { closeConnection, getStream, listConnections, listConsumers, listStreams, overview } from './connections.js';
import { deleteExchange, getExchange, listExchanges, putExchange } from './exchanges.js';
import { withManagementPaths, type OpenApiDocument } from './openapi.js';
import { deleteQueue, getQueue, listQueues, peekQueue, purgeQueue, putQueue } from './queues.js';
import { redrive } from './redrive.js';
import type { ManagementContext, ManagementRequest, ManagementRoute, ManagementRouteContext } from './route-types.js';
import { DEFAULT_SAMPLE_INTERVAL_MS, ManagementSampler } from './sampler.js';
import { deleteService, getService, listServices, putService } from './services.js';
import { createTopic, deleteTopic, getTopic, listTopics, updateTopic } from './topics.js';

export interface ManagementApiOptions {
  /** Request bodies above this are refused with 413 (default 1 MiB). */
  readonly maxBodyBytes?: number;
  /** How often counters are sampled into rates (default 5 s). */
  readonly sampleIntervalMs?: number;
  /**
   * The OpenAPI document of the other HTTP routes: the management API serves it at /api/openapi.json
   * with its own paths added, so there is one document for the whole HTTP port.
   */
  readonly openApi?: OpenApiDocument;
}

export interface ManagementApi {
  /** Routes for the server's HTTP router; they answer 503 until `attach`. Put them before other /api routes. */
  readonly routes: readonly ManagementRoute[];
  attach(context: ManagementContext): void;
  /** Stops sampling; requests answer 503 from then on. */
  close(): void;
}

const REALM = 'Basic realm="courier", charset="UTF-8"';

interface Attached {
  readonly context: ManagementContext;
  readonly sampler: ManagementSampler;
  readonly startedAt: number;
}

/**
 * The REST management API (docs/management.md): overview, topics, services, exchanges, queues, bindings, streams,
 * connections and consumers, with create / delete / purge / peek / redrive / close actions. Same HTTP Basic
 * authentication and RFC 9457 problem details as the HTTP messaging API.
 */
export function createManagementApi(options: ManagementApiOptions = {}): ManagementApi {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  let attached: Attached | undefined;
  let closed = false;

  const guarded = (method: ManagementRoute['method'], path: string, handler: (api: ManagementRequest) => void | Promise<void>): ManagementRoute => ({
    method,
    path,
    handle: async (route: ManagementRouteContext) => {
      const instance = route.url.pathname;
      try {
        if (!attached || closed) throw new BrokerError('BROKER_CLOSED', 'the broker is not serving the management API now');
        const { context, sampler, startedAt } = attached;
        const principal = await authenticateBasic(route.request, context.authenticator);
        await handler({
          ...route,
          principal,
          broker: context.broker,
          sampler,
          version: context.serverVersion ?? 'unknown',
          startedAt,
          maxBodyBytes,
        });
      } catch (error) {
        const problem = problemFor(error, instance);
        if (problem.status === 500) attached?.context.logger.error({ err: error, path: instance }, 'management api request failed');
        const headers: Record<string, string> = {};
        if (problem.status === 401) headers['www-authenticate'] = REALM;
        // The unread rest of an oversize body must not be parsed as the next request.
        if (problem.status === 413) headers['connection'] = 'close';
        sendProblem(route.response, problem, headers);
      }
    },
  });
  const param = (api: ManagementRequest, name: string): string => api.params[name] ?? '';

  const routes: ManagementRoute[] = [
    guarded('GET', '/api/overview', overview),
    guarded('GET', '/api/topics', listTopics),
    guarded('POST', '/api/topics', createTopic),
    guarded('GET', '/api/topics/:name', (api) => getTopic(api, param(api, 'name'))),
    guarded('PATCH', '/api/topics/:name', (api) => updateTopic(api, param(api, 'name'))),
    guarded('DELETE', '/api/topics/:name', (api) => deleteTopic(api, param(api, 'name'))),
    guarded('GET', '/api/services', listServices),
    guarded('GET', '/api/services/:name', (api) => getService(api, param(api, 'name'))),
    guarded('PUT', '/api/services/:name', (api) => putService(api, param(api, 'name'))),
    guarded('DELETE', '/api/services/:name', (api) => deleteService(api, param(api, 'name'))),
    guarded('GET', '/api/exchanges', listExchanges),
    guarded('GET', '/api/exchanges/:name', (api) => getExchange(api, param(api, 'name'))),
    guarded('PUT', '/api/exchanges/:name', (api) => putExchange(api, param(api, 'name'))),
    guarded('DELETE', '/api/exchanges/:name', (api) => deleteExchange(api, param(api, 'name'))),
    guarded('GET', '/api/queues', listQueues),
    guarded('GET', '/api/queues/:name', (api) => getQueue(api, param(api, 'name'))),
    guarded('PUT', '/api/queues/:name', (api) => putQueue(api, param(api, 'name'))),
    guarded('DELETE', '/api/queues/:name', (api) => deleteQueue(api, param(api, 'name'))),
    guarded('POST', '/api/queues/:name/purge', (api) => purgeQueue(api, param(api, 'name'))),
    guarded('GET', '/api/queues/:name/peek', (api) => peekQueue(api, param(api, 'name'))),
    guarded('POST', '/api/queues/:name/redrive', (api) => redrive(api, param(api, 'name'))),
    guarded('GET', '/api/bindings', listBindings),
    guarded('POST', '/api/bindings', createBinding),
    guarded('DELETE', '/api/bindings', deleteBinding),
    guarded('GET', '/api/streams', listStreams),
    guarded('GET', '/api/streams/:name', (api) => getStream(api, param(api, 'name'))),
    guarded('GET', '/api/connections', listConnections),
    guarded('DELETE', '/api/connections/:id', (api) => closeConnection(api, param(api, 'id'))),
    guarded('GET', '/api/consumers', listConsumers),
  ];
  if (options.openApi) {
    // Public like the messaging API's description: it holds nothing about the broker's state.
    const document = withManagementPaths(options.openApi);
    routes.push({ method: 'GET', path: '/api/openapi.json', handle: ({ response }) => sendJson(response, 200, document) });
  }

  return {
    routes,
    attach(context) {
      const sampler = new ManagementSampler(context.broker, options.sampleIntervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS);
      sampler.start();
      attached = { context, sampler, startedAt: context.broker.clock.now() };
    },
    close() {
      closed = true;
      attached?.sampler.stop();
    },
  };
}
