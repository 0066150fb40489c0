import type { HeaderValue, Message } from '../../core/message/message.js';

/** A header value as JSON: bigints as decimal strings, bytes as base64. */
export function jsonHeaderValue(value: HeaderValue): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(jsonHeaderValue);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, jsonHeaderValue(inner)]));
  }
  return value;
}

/**
 * The JSON shape of a message handed to an HTTP client (messaging API and management API alike); the
 * body is base64 (bytes are never parsed).
 */
export function messageJson(message: Message): Record<string, unknown> {
  const { key, ...properties } = message.properties;
  return {
    exchange: message.exchange,
    routingKey: message.routingKey,
    body: Buffer.from(message.body).toString('base64'),
    ...(message.properties.contentType !== undefined ? { contentType: message.properties.contentType } : {}),
    headers: jsonHeaderValue(message.headers),
    properties: key === undefined ? properties : { ...properties, key: Buffer.from(key).toString('base64') },
    persistent: message.persistent,
  };
}
