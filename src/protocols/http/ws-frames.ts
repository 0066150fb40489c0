import { isUtf8 } from 'node:buffer';
import type { Delivery } from '../../core/channel.js';
import { isBrokerError } from '../../core/errors.js';
import { jsonHeaderValue } from '../../transport/http/message-json.js';
import { statusForCode } from '../../transport/http/problem.js';
import type { RequestId } from './ws-requests.js';

/** What the server sends on `/ws` (docs/protocols/http.md lists every field). */

export function connectedFrame(user: string, maxFrameBytes: number): string {
  return JSON.stringify({ op: 'connected', user, maxFrameBytes });
}

export function receiptFrame(id: RequestId, fields: Record<string, unknown> = {}): string {
  return JSON.stringify({ op: 'receipt', id, ...fields });
}

/**
 * An error frame with the core's error code and the HTTP status the same error gets from the REST API.
 * Errors that are not BrokerErrors say nothing about their cause (the broker log has it).
 */
export function errorFrame(error: unknown, id: RequestId | undefined, extra: Record<string, unknown> = {}): string {
  const known = isBrokerError(error);
  const code = known ? error.code : 'INTERNAL';
  const status = known ? statusForCode(error.code) : 500;
  const message = known && status !== 500 ? error.message : 'the request failed; the broker log has details';
  return JSON.stringify({ op: 'error', ...(id === undefined ? {} : { id }), code, status, message, ...extra });
}

/**
 * A delivery. A body that is valid UTF-8 goes as a string (`encoding: "utf8"`), any other as base64
 * (`encoding: "base64"`): both give back the exact bytes. `deliveryId` only for client-ack subscriptions.
 */
export function messageFrame(subscription: string, delivery: Delivery, clientAck: boolean): string {
  const { message } = delivery;
  const body = Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength);
  const text = isUtf8(body);
  const { key, ...properties } = message.properties;
  return JSON.stringify({
    op: 'message',
    subscription,
    ...(clientAck ? { deliveryId: delivery.deliveryTag } : {}),
    exchange: message.exchange,
    routingKey: message.routingKey,
    body: body.toString(text ? 'utf8' : 'base64'),
    encoding: text ? 'utf8' : 'base64',
    ...(properties.contentType !== undefined ? { contentType: properties.contentType } : {}),
    headers: jsonHeaderValue(message.headers),
    properties: key === undefined ? properties : { ...properties, key: Buffer.from(key).toString('base64') },
    persistent: message.persistent,
    redelivered: delivery.redelivered,
    deliveryCount: delivery.deliveryCount,
  });
}
