import { isUtf8 } from 'node:buffer';
import { BrokerError } from '../../core/errors.js';
import type { HeaderTable, Message, MessageProperties } from '../../core/message/message.js';

/**
 * The requests of the `/ws` JSON protocol (docs/protocols/http.md): one JSON object per WebSocket
 * message, named by `op`. Parsing is pure and strict: a wrong type, a missing field or an unknown field
 * is an INVALID_ARGUMENT naming the field, so a typo never passes silently.
 */

/** Echoed on the reply to a request; a request without one gets a reply only when it fails. */
export type RequestId = string | number;

export type AckMode = 'auto' | 'client';

export type WsRequest =
  | {
      readonly op: 'publish';
      readonly id: RequestId | undefined;
      /** Publishing to a queue checks that it exists first (a topic or an exchange route or drop). */
      readonly queue: string | undefined;
      readonly message: Message;
    }
  | {
      readonly op: 'subscribe';
      readonly id: RequestId | undefined;
      readonly subscription: string;
      readonly source: { readonly topic: string } | { readonly queue: string };
      readonly ack: AckMode;
      readonly prefetch: number;
    }
  | { readonly op: 'unsubscribe'; readonly id: RequestId | undefined; readonly subscription: string }
  | { readonly op: 'ack'; readonly id: RequestId | undefined; readonly deliveryId: number }
  | { readonly op: 'nack'; readonly id: RequestId | undefined; readonly deliveryId: number; readonly requeue: boolean };

/** Unacked deliveries a client-ack subscription may hold when the request names no prefetch. */
export const DEFAULT_PREFETCH = 100;
const MAX_PREFETCH = 65_535;
const MAX_ID_LENGTH = 256;
const MAX_SUBSCRIPTION_LENGTH = 256;

const OPS = ['publish', 'subscribe', 'unsubscribe', 'ack', 'nack'] as const;
const FIELDS: Readonly<Record<(typeof OPS)[number], readonly string[]>> = {
  publish: [
    'topic',
    'exchange',
    'routingKey',
    'queue',
    'body',
    'encoding',
    'contentType',
    'headers',
    'persistent',
    'correlationId',
    'replyTo',
    'messageId',
    'expiration',
  ],
  subscribe: ['subscription', 'topic', 'queue', 'ack', 'prefetch'],
  unsubscribe: ['subscription'],
  ack: ['deliveryId'],
  nack: ['deliveryId', 'requeue'],
};

function invalid(message: string, field?: string): BrokerError {
  return new BrokerError('INVALID_ARGUMENT', message, field === undefined ? {} : { field });
}

/** Decodes one WebSocket message into a JSON object; binary messages must hold UTF-8 JSON too. */
export function parseFrame(data: Buffer, isBinary: boolean): Record<string, unknown> {
  // Text messages were checked for UTF-8 by the WebSocket layer (RFC 6455 §8.1 closes with 1007).
  if (isBinary && !isUtf8(data)) throw invalid('a binary WebSocket message must hold UTF-8 JSON');
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch {
    throw invalid('the message is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid('the message must be a JSON object');
  return value as Record<string, unknown>;
}

/** The request's `id`, checked first so that every later error can carry it. */
export function requestIdOf(frame: Record<string, unknown>): RequestId | undefined {
  const id = frame['id'];
  if (id === undefined) return undefined;
  if (typeof id === 'string' && id.length <= MAX_ID_LENGTH) return id;
  if (typeof id === 'number' && Number.isFinite(id)) return id;
  throw invalid(`id must be a string of at most ${MAX_ID_LENGTH} characters or a number`, 'id');
}

export function toRequest(frame: Record<string, unknown>): WsRequest {
  const id = requestIdOf(frame);
  const op = frame['op'];
  if (op === undefined) throw invalid('missing field op', 'op');
  if (typeof op !== 'string' || !(OPS as readonly string[]).includes(op)) {
    throw invalid(`unknown op ${JSON.stringify(op)}; expected one of ${OPS.join(', ')}`, 'op');
  }
  const known = FIELDS[op as (typeof OPS)[number]];
  for (const field of Object.keys(frame)) {
    if (field !== 'op' && field !== 'id' && !known.includes(field)) throw invalid(`unknown field ${field} for op ${op}`, field);
  }
  switch (op as (typeof OPS)[number]) {
    case 'publish':
      return publishRequest(frame, id);
    case 'subscribe':
      return subscribeRequest(frame, id);
    case 'unsubscribe':
      return { op: 'unsubscribe', id, subscription: subscriptionOf(frame) };
    case 'ack':
      return { op: 'ack', id, deliveryId: deliveryIdOf(frame) };
    case 'nack':
      return { op: 'nack', id, deliveryId: deliveryIdOf(frame), requeue: optionalBoolean(frame, 'requeue') ?? true };
  }
}

function optionalString(frame: Record<string, unknown>, field: string): string | undefined {
  const value = frame[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`${field} must be a string`, field);
  return value;
}

function optionalBoolean(frame: Record<string, unknown>, field: string): boolean | undefined {
  const value = frame[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw invalid(`${field} must be true or false`, field);
  return value;
}

function integerIn(frame: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  const value = frame[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(`${field} must be an integer from ${min} to ${max}`, field);
  }
  return value;
}

function subscriptionOf(frame: Record<string, unknown>): string {
  const subscription = optionalString(frame, 'subscription');
  if (subscription === undefined) throw invalid('missing field subscription', 'subscription');
  if (subscription.length === 0 || subscription.length > MAX_SUBSCRIPTION_LENGTH) {
    throw invalid(`subscription must be 1 to ${MAX_SUBSCRIPTION_LENGTH} characters`, 'subscription');
  }
  return subscription;
}

function deliveryIdOf(frame: Record<string, unknown>): number {
  const deliveryId = integerIn(frame, 'deliveryId', 1, Number.MAX_SAFE_INTEGER);
  if (deliveryId === undefined) throw invalid('missing field deliveryId', 'deliveryId');
  return deliveryId;
}

/** Exactly one of the named fields is present; returns its name. */
function exactlyOne<const F extends string>(frame: Record<string, unknown>, fields: readonly F[]): F {
  const present = fields.filter((field) => frame[field] !== undefined);
  if (present.length !== 1) {
    throw invalid(`give exactly one of ${fields.join(', ')}${present.length > 1 ? ` (got ${present.join(', ')})` : ''}`, fields[0]);
  }
  return present[0]!;
}

function subscribeRequest(frame: Record<string, unknown>, id: RequestId | undefined): WsRequest {
  const subscription = subscriptionOf(frame);
  const kind = exactlyOne(frame, ['topic', 'queue'] as const);
  const name = optionalString(frame, kind) ?? '';
  if (name === '') throw invalid(`${kind} must not be empty`, kind);
  const ack = frame['ack'] ?? 'auto';
  if (ack !== 'auto' && ack !== 'client') throw invalid('ack must be auto or client', 'ack');
  const prefetch = integerIn(frame, 'prefetch', 0, MAX_PREFETCH) ?? DEFAULT_PREFETCH;
  return { op: 'subscribe', id, subscription, source: kind === 'topic' ? { topic: name } : { queue: name }, ack, prefetch };
}

function headersOf(frame: Record<string, unknown>): HeaderTable {
  const value = frame['headers'];
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid('headers must be an object', 'headers');
  const headers: HeaderTable = {};
  for (const [name, header] of Object.entries(value as Record<string, unknown>)) {
    if (typeof header === 'string' || typeof header === 'boolean' || (typeof header === 'number' && Number.isFinite(header))) {
      headers[name] = header;
    } else {
      throw invalid(`header ${name} must be a string, a number or a boolean`, 'headers');
    }
  }
  return headers;
}

function bodyOf(frame: Record<string, unknown>): Buffer {
  const body = optionalString(frame, 'body') ?? '';
  const encoding = frame['encoding'] ?? 'utf8';
  if (encoding === 'utf8') return Buffer.from(body, 'utf8');
  if (encoding !== 'base64') throw invalid('encoding must be utf8 or base64', 'encoding');
  // Buffer.from skips what is not base64; a strict check tells the client its body would be damaged.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 === 1) throw invalid('body is not valid base64', 'body');
  return Buffer.from(body, 'base64');
}

function publishRequest(frame: Record<string, unknown>, id: RequestId | undefined): WsRequest {
  const kind = exactlyOne(frame, ['topic', 'exchange', 'queue'] as const);
  const name = optionalString(frame, kind) ?? '';
  const routingKey = optionalString(frame, 'routingKey');
  if (routingKey !== undefined && kind !== 'exchange') throw invalid('routingKey goes with exchange only', 'routingKey');
  if (kind === 'queue' && name === '') throw invalid('queue must not be empty', 'queue');
  const properties: MessageProperties = {};
  const contentType = optionalString(frame, 'contentType');
  if (contentType !== undefined) properties.contentType = contentType;
  const correlationId = optionalString(frame, 'correlationId');
  if (correlationId !== undefined) properties.correlationId = correlationId;
  const replyTo = optionalString(frame, 'replyTo');
  if (replyTo !== undefined) properties.replyTo = replyTo;
  const messageId = optionalString(frame, 'messageId');
  if (messageId !== undefined) properties.messageId = messageId;
  const expiration = integerIn(frame, 'expiration', 0, Number.MAX_SAFE_INTEGER);
  if (expiration !== undefined) properties.expiration = expiration;
  const message: Message = {
    exchange: kind === 'topic' ? 'amq.topic' : kind === 'exchange' ? name : '',
    routingKey: kind === 'exchange' ? (routingKey ?? '') : name,
    headers: headersOf(frame),
    properties,
    body: bodyOf(frame),
    // As over HTTP: the receipt promises durability, so the default is the durable one.
    persistent: optionalBoolean(frame, 'persistent') ?? true,
  };
  return { op: 'publish', id, queue: kind === 'queue' ? name : undefined, message };
}
