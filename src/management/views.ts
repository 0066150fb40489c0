import type { Connection } from '../core/connection.js';
import type { HeaderTable } from '../core/message/message.js';
import type { BindingRecord, ExchangeRecord, ServiceRecord, TopicRecord } from '../core/ports.js';
import type { Queue } from '../core/queue/queue.js';
import type { Stream } from '../core/stream/stream.js';
import { jsonHeaderValue } from '../transport/http/message-json.js';
import { roundRate } from './rate-window.js';
import type { ManagementSampler } from './sampler.js';

/** The JSON shapes of the management API (docs/management.md); times are ISO 8601 strings. */

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function argumentsJson(table: HeaderTable): unknown {
  return jsonHeaderValue(table);
}

export function topicView(topic: TopicRecord): Record<string, unknown> {
  return {
    name: topic.name,
    displayName: topic.displayName,
    description: topic.description,
    ...(topic.retention === undefined ? {} : { retention: topic.retention }),
    createdAt: iso(topic.createdAt),
    updatedAt: iso(topic.updatedAt),
  };
}

/** Display name and description are always present in the view (defaults: the name, empty). */
export function serviceView(service: ServiceRecord): Record<string, unknown> {
  return {
    name: service.name,
    displayName: service.displayName ?? service.name,
    description: service.description ?? '',
    produces: service.produces,
    consumes: service.consumes,
  };
}

export function exchangeView(exchange: ExchangeRecord): Record<string, unknown> {
  return {
    name: exchange.name,
    type: exchange.type,
    durable: exchange.durable,
    autoDelete: exchange.autoDelete,
    internal: exchange.internal,
    arguments: argumentsJson(exchange.arguments),
  };
}

export function queueView(queue: Queue, sampler: ManagementSampler): Record<string, unknown> {
  const [publish = 0, deliver = 0, ack = 0] = sampler.queues.ratesOf(queue, 3);
  return {
    name: queue.name,
    type: queue.policy.queueType,
    durable: queue.durable,
    exclusive: queue.record.exclusive,
    autoDelete: queue.record.autoDelete,
    arguments: argumentsJson(queue.record.arguments),
    messagesReady: queue.messageCount,
    messagesUnacked: queue.unackedCount,
    messagesInMemory: queue.messagesInMemory,
    consumers: queue.consumerCount,
    rates: { publish: roundRate(publish), deliver: roundRate(deliver), ack: roundRate(ack) },
  };
}

/** A stream as a queue of type `stream` (they share the queues' namespace, as in RabbitMQ). */
export function streamQueueView(stream: Stream, args: HeaderTable): Record<string, unknown> {
  const stats = stream.stats();
  return {
    name: stream.name,
    type: 'stream',
    durable: true,
    exclusive: false,
    autoDelete: false,
    arguments: argumentsJson(args),
    messagesReady: stats.messageCount,
    messagesUnacked: 0,
    messagesInMemory: 0,
    consumers: stats.readerCount,
    rates: { publish: 0, deliver: 0, ack: 0 },
  };
}

export function streamView(stream: Stream): Record<string, unknown> {
  const stats = stream.stats();
  return {
    name: stream.name,
    sizeBytes: stats.sizeBytes,
    firstOffset: stats.firstOffset,
    lastOffset: stats.lastOffset ?? null,
    messages: stats.messageCount,
    consumerOffsets: stream.committedOffsets(),
  };
}

export function bindingView(binding: BindingRecord): Record<string, unknown> {
  return {
    source: binding.source,
    destination: binding.destination,
    // Streams are a queue type: a binding to one is a binding to a queue.
    destinationKind: binding.destinationKind === 'exchange' ? 'exchange' : 'queue',
    routingKey: binding.routingKey,
    arguments: argumentsJson(binding.arguments),
  };
}

export function connectionView(connection: Connection, sampler: ManagementSampler): Record<string, unknown> {
  const [publish = 0, deliver = 0] = sampler.connections.ratesOf(connection, 2);
  return {
    id: connection.id,
    protocol: connection.info.protocol,
    ...(connection.info.clientId === undefined ? {} : { clientId: connection.info.clientId }),
    user: connection.principal.username,
    remoteAddress: connection.info.remoteAddress,
    connectedAt: iso(connection.connectedAt),
    state: connection.state,
    channels: connection.channelCount,
    rates: { publish: roundRate(publish), deliver: roundRate(deliver) },
  };
}

export function consumerViews(connection: Connection): Record<string, unknown>[] {
  const views: Record<string, unknown>[] = [];
  for (const channel of connection.listChannels()) {
    for (const consumer of channel.listConsumers()) {
      views.push({
        queue: consumer.queue,
        tag: consumer.tag,
        connectionId: connection.id,
        protocol: connection.info.protocol,
        prefetch: consumer.prefetch,
        ackRequired: consumer.ackRequired,
      });
    }
  }
  return views;
}
