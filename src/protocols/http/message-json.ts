import type { IncomingHttpHeaders } from 'node:http';
import type { Delivery } from '../../core/channel.js';
import { BrokerError } from '../../core/errors.js';
import type { HeaderTable, Message, MessageProperties } from '../../core/message/message.js';
import { messageJson } from '../../transport/http/message-json.js';

// messageJson moved to src/transport/http (shared with the management API); re-exported for this adapter.
export { messageJson };

const HEADER_PREFIX = 'x-courier-header-';

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function badHeader(name: string, detail: string): BrokerError {
  return new BrokerError('INVALID_ARGUMENT', `header ${name}: ${detail}`, { header: name });
}

/**
 * Builds the neutral message of an HTTP publish. Messages are persistent unless `X-Courier-Persistent:
 * false`: the 201 reply promises durability, so the default is the durable one.
 */
export function messageFromRequest(exchange: string, routingKey: string, headers: IncomingHttpHeaders, body: Buffer): Message {
  const properties: MessageProperties = {};
  const contentType = single(headers, 'content-type');
  if (contentType !== undefined) properties.contentType = contentType;
  const correlationId = single(headers, 'x-courier-correlation-id');
  if (correlationId !== undefined) properties.correlationId = correlationId;
  const replyTo = single(headers, 'x-courier-reply-to');
  if (replyTo !== undefined) properties.replyTo = replyTo;
  const messageId = single(headers, 'x-courier-message-id');
  if (messageId !== undefined) properties.messageId = messageId;
  const expiration = single(headers, 'x-courier-expiration');
  if (expiration !== undefined) {
    if (!/^\d+$/.test(expiration)) throw badHeader('X-Courier-Expiration', 'milliseconds as a non-negative integer');
    properties.expiration = Number(expiration);
  }
  let persistent = true;
  const persistentHeader = single(headers, 'x-courier-persistent');
  if (persistentHeader !== undefined) {
    if (persistentHeader !== 'true' && persistentHeader !== 'false') throw badHeader('X-Courier-Persistent', 'true or false');
    persistent = persistentHeader === 'true';
  }
  const table: HeaderTable = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith(HEADER_PREFIX) || value === undefined) continue;
    const key = name.slice(HEADER_PREFIX.length);
    if (key !== '') table[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { exchange, routingKey, headers: table, properties, body, persistent };
}

export function deliveryJson(delivery: Delivery): Record<string, unknown> {
  return { ...messageJson(delivery.message), redelivered: delivery.redelivered, deliveryCount: delivery.deliveryCount };
}
