import { Buffer } from 'node:buffer';
import { scalarHeaderText, type HeaderTable, type HeaderValue, type Message, type MessageProperties } from '../../core/message/message.js';
import type { StompHeaders } from './codec/frame.js';
import type { FrameWriter } from './codec/serializer.js';
import { invalidHeader } from './errors.js';

/**
 * STOMP headers <-> the neutral message. STOMP headers are strings; the mapped ones become message
 * properties (RabbitMQ's STOMP <-> AMQP mapping), every other header is carried as a string header and
 * comes back as itself on MESSAGE. What only the wire or the session uses is not carried.
 */

/** Headers of SEND that drive the protocol or a queue declaration, never stored with the message. */
const sendOnlyHeaders = new Set(['destination', 'receipt', 'transaction', 'content-length', 'durable', 'auto-delete', 'exclusive']);

/** Headers mapped to properties (both ways); a custom header of one of these names would be ambiguous. */
const propertyHeaders = new Set([
  'content-type',
  'content-encoding',
  'persistent',
  'priority',
  'correlation-id',
  'reply-to',
  'expiration',
  'expires',
  'amqp-message-id',
  'message-id',
  'timestamp',
  'type',
  'user-id',
  'app-id',
]);

/** Headers the session writes on MESSAGE itself: a stored header of the same name is not repeated. */
const messageFrameHeaders = new Set([...propertyHeaders, 'subscription', 'destination', 'ack', 'redelivered', 'content-length']);

const UNSIGNED = /^[0-9]+$/;

function unsigned(headers: StompHeaders, name: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const text = headers.get(name);
  if (text === undefined) return undefined;
  const value = UNSIGNED.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value > max) throw invalidHeader(name, text, `an integer from 0 to ${max}`);
  return value;
}

export interface SendTarget {
  readonly exchange: string;
  readonly routingKey: string;
}

/**
 * The core message for a SEND. `replyTo` replaces the header when the session rewrote it (a
 * `/temp-queue/` becomes the `/reply-queue/` of the session's private queue). `now` turns an absolute
 * `expires` into a time to live. Throws StompProtocolError for a malformed mapped header.
 */
export function messageFromSend(
  headers: StompHeaders,
  body: Uint8Array,
  target: SendTarget,
  now: number,
  replyTo: string | undefined,
): Message {
  const properties: MessageProperties = {};
  const custom: HeaderTable = {};
  for (const [name, value] of headers) {
    if (sendOnlyHeaders.has(name) || propertyHeaders.has(name)) continue;
    custom[name] = value;
  }
  const contentType = headers.get('content-type');
  if (contentType !== undefined) properties.contentType = contentType;
  const contentEncoding = headers.get('content-encoding');
  if (contentEncoding !== undefined) properties.contentEncoding = contentEncoding;
  const correlationId = headers.get('correlation-id');
  if (correlationId !== undefined) properties.correlationId = correlationId;
  const reply = replyTo ?? headers.get('reply-to');
  if (reply !== undefined) properties.replyTo = reply;
  // RabbitMQ carries the AMQP message id as amqp-message-id; plain message-id is accepted on SEND too.
  const messageId = headers.get('amqp-message-id') ?? headers.get('message-id');
  if (messageId !== undefined) properties.messageId = messageId;
  const type = headers.get('type');
  if (type !== undefined) properties.type = type;
  const userId = headers.get('user-id');
  if (userId !== undefined) properties.userId = userId;
  const appId = headers.get('app-id');
  if (appId !== undefined) properties.appId = appId;
  const priority = unsigned(headers, 'priority', 255);
  if (priority !== undefined) properties.priority = priority;
  const timestamp = unsigned(headers, 'timestamp');
  if (timestamp !== undefined) properties.timestamp = timestamp;
  // `expiration`: a TTL in ms (RabbitMQ); `expires`: an absolute time in ms (ActiveMQ's header). Both: the sooner.
  const expiration = unsigned(headers, 'expiration');
  const expires = unsigned(headers, 'expires');
  // ActiveMQ's convention: expires:0 means "never".
  const untilExpires = expires === undefined || expires === 0 ? undefined : Math.max(0, expires - now);
  const ttl = expiration === undefined ? untilExpires : untilExpires === undefined ? expiration : Math.min(expiration, untilExpires);
  if (ttl !== undefined) properties.expiration = ttl;
  return {
    exchange: target.exchange,
    routingKey: target.routingKey,
    headers: custom,
    properties,
    body,
    persistent: headers.get('persistent') === 'true',
  };
}

function headerText(value: HeaderValue): string | undefined {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  // Arrays and tables (x-death...) and null have no STOMP form.
  return scalarHeaderText(value);
}

/** Writes a message's properties and headers (after the session's own MESSAGE headers). */
export function writeMessageHeaders(writer: FrameWriter, message: Message): void {
  const p = message.properties;
  writer.header('content-length', String(message.body.byteLength));
  if (p.contentType !== undefined) writer.header('content-type', p.contentType);
  if (p.contentEncoding !== undefined) writer.header('content-encoding', p.contentEncoding);
  if (message.persistent) writer.header('persistent', 'true');
  if (p.priority !== undefined) writer.header('priority', String(p.priority));
  if (p.correlationId !== undefined) writer.header('correlation-id', p.correlationId);
  if (p.replyTo !== undefined) writer.header('reply-to', p.replyTo);
  if (p.expiration !== undefined) writer.header('expiration', String(p.expiration));
  if (p.messageId !== undefined) writer.header('amqp-message-id', p.messageId);
  if (p.timestamp !== undefined) writer.header('timestamp', String(p.timestamp));
  if (p.type !== undefined) writer.header('type', p.type);
  if (p.userId !== undefined) writer.header('user-id', p.userId);
  if (p.appId !== undefined) writer.header('app-id', p.appId);
  for (const name in message.headers) {
    if (messageFrameHeaders.has(name)) continue;
    const text = headerText(message.headers[name]!);
    if (text !== undefined) writer.header(name, text);
  }
}
