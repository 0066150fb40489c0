import { BrokerError } from '../core/errors.js';
import { sendJson } from '../transport/http/problem.js';
import { roundRate } from './rate-window.js';
import type { ManagementRequest } from './route-types.js';
import { connectionView, consumerViews, streamView } from './views.js';

export function listConnections(api: ManagementRequest): void {
  sendJson(api.response, 200, api.broker.listConnections().map((connection) => connectionView(connection, api.sampler)));
}

/**
 * DELETE /api/connections/{id}: the connection's adapter tells the client as its protocol does (AMQP
 * connection.close 320, MQTT 5 DISCONNECT 0x98, STOMP ERROR) and closes it. 204 once asked.
 */
export async function closeConnection(api: ManagementRequest, id: string): Promise<void> {
  const connection = /^\d+$/.test(id) ? api.broker.listConnections().find((candidate) => candidate.id === Number(id)) : undefined;
  if (!connection) throw new BrokerError('CONNECTION_NOT_FOUND', `no connection with id '${id}'`, { connection: id });
  api.broker.logger.info({ connection: connection.id, protocol: connection.info.protocol, by: api.principal.username }, 'closing a connection on request');
  await connection.requestClose(`closed by ${api.principal.username} through the management API`);
  api.response.writeHead(204).end();
}

export function listConsumers(api: ManagementRequest): void {
  sendJson(api.response, 200, api.broker.listConnections().flatMap(consumerViews));
}

export function listStreams(api: ManagementRequest): void {
  sendJson(api.response, 200, api.broker.listStreams().map(streamView));
}

export function getStream(api: ManagementRequest, name: string): void {
  const stream = api.broker.getStream(name);
  if (!stream) throw new BrokerError('STREAM_NOT_FOUND', `no stream '${name}' in vhost '/'`, { stream: name });
  sendJson(api.response, 200, streamView(stream));
}

/** GET /api/overview: version, uptime, broker-wide rates over the last sample window, and totals. */
export function overview(api: ManagementRequest): void {
  const broker = api.broker;
  const totals = broker.messageTotals();
  const [publish = 0, deliver = 0, ack = 0] = api.sampler.overall.ratesOf(broker, 3);
  let messagesReady = 0;
  let messagesUnacked = 0;
  const queues = broker.listQueues();
  for (const queue of queues) {
    messagesReady += queue.messageCount;
    messagesUnacked += queue.unackedCount;
  }
  const connections = broker.listConnections();
  let consumers = 0;
  for (const connection of connections) for (const channel of connection.listChannels()) consumers += channel.consumerCount;
  sendJson(api.response, 200, {
    version: api.version,
    uptimeSeconds: Math.max(0, Math.floor((broker.clock.now() - api.startedAt) / 1000)),
    rates: { publish: roundRate(publish), deliver: roundRate(deliver), ack: roundRate(ack) },
    totals: {
      published: totals.published,
      delivered: totals.delivered,
      acked: totals.acked,
      messagesReady,
      messagesUnacked,
      queues: queues.length,
      exchanges: broker.listExchanges().length,
      topics: broker.topics.size,
      streams: broker.listStreams().length,
      connections: connections.length,
      consumers,
    },
  });
}
