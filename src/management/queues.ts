import { BrokerError } from '../core/errors.js';
import { integerParam } from '../transport/http/query.js';
import { sendJson } from '../transport/http/problem.js';
import { messageJson } from '../transport/http/message-json.js';
import { booleanQuery, onlyFields, optionalArguments, optionalBoolean, readJsonBody } from './body.js';
import type { ManagementRequest } from './route-types.js';
import { queueView, streamQueueView } from './views.js';

/** Most messages one peek returns: a look at the head, not an export. */
export const MAX_PEEK = 100;

function queueNotFound(name: string): BrokerError {
  return new BrokerError('QUEUE_NOT_FOUND', `no queue '${name}' in vhost '/'`, { queue: name });
}

function exists(api: ManagementRequest, name: string): boolean {
  return api.broker.getQueue(name) !== undefined || api.broker.getStream(name) !== undefined;
}

function view(api: ManagementRequest, name: string): Record<string, unknown> {
  const queue = api.broker.getQueue(name);
  if (queue) return queueView(queue, api.sampler);
  const stream = api.broker.getStream(name);
  if (stream) return streamQueueView(stream, api.broker.streamArgumentsOf(name) ?? {});
  throw queueNotFound(name);
}

export function listQueues(api: ManagementRequest): void {
  const broker = api.broker;
  const views = [
    ...broker.listQueues().map((queue) => queueView(queue, api.sampler)),
    ...broker.listStreams().map((stream) => streamQueueView(stream, broker.streamArgumentsOf(stream.name) ?? {})),
  ];
  views.sort((a, b) => (String(a['name']) < String(b['name']) ? -1 : 1));
  sendJson(api.response, 200, views);
}

export function getQueue(api: ManagementRequest, name: string): void {
  sendJson(api.response, 200, view(api, name));
}

/**
 * PUT /api/queues/{name}: 201 when created, 204 when an equivalent one exists, 409 when it exists with
 * other settings. `durable` defaults to true (RabbitMQ's management API does the same); `x-queue-type`
 * in the arguments picks classic, quorum or stream.
 */
export async function putQueue(api: ManagementRequest, name: string): Promise<void> {
  const body = await readJsonBody(api, true);
  onlyFields(body, ['durable', 'autoDelete', 'arguments'], 'a queue');
  const durable = optionalBoolean(body, 'durable') ?? true;
  const autoDelete = optionalBoolean(body, 'autoDelete') ?? false;
  const args = optionalArguments(body) ?? {};
  const existed = exists(api, name);
  await api.broker.declareQueue(api.principal, undefined, { name, durable, autoDelete, exclusive: false, arguments: args });
  if (existed) {
    api.response.writeHead(204).end();
    return;
  }
  sendJson(api.response, 201, view(api, name), { location: `/api/queues/${encodeURIComponent(name)}` });
}

export async function deleteQueue(api: ManagementRequest, name: string): Promise<void> {
  if (!exists(api, name)) throw queueNotFound(name);
  await api.broker.deleteQueue(api.principal, undefined, name, {
    ifUnused: booleanQuery(api.url, 'ifUnused'),
    ifEmpty: booleanQuery(api.url, 'ifEmpty'),
  });
  api.response.writeHead(204).end();
}

export async function purgeQueue(api: ManagementRequest, name: string): Promise<void> {
  const purged = await api.broker.purgeQueue(api.principal, undefined, name);
  sendJson(api.response, 200, { purged });
}

/** GET /api/queues/{name}/peek?max=N: the first N ready messages, left where they are. */
export async function peekQueue(api: ManagementRequest, name: string): Promise<void> {
  const max = integerParam(api.url, 'max', 10, 1, MAX_PEEK);
  if (api.broker.getStream(name)) {
    throw new BrokerError('PRECONDITION_FAILED', `'${name}' is a stream: read it with GET /api/streams/${name}/messages, which consumes nothing`, {
      queue: name,
    });
  }
  const queue = api.broker.resolveQueue(api.principal, undefined, name, 'read');
  const peeked = await queue.peek(max);
  const messages = peeked.map((item) => ({
    ...messageJson(item.message),
    redelivered: item.deliveryCount > 0,
    deliveryCount: item.deliveryCount,
  }));
  sendJson(api.response, 200, { messages });
}
