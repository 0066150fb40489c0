/**
 * AMQP basic content properties <-> the core's neutral Message.
 *
 * Mapping: content-type, content-encoding, correlation-id, reply-to, message-id, type, user-id, app-id
 * and priority one to one; headers as the HeaderTable (field tables decode to the same value shapes);
 * delivery-mode 2 <-> `persistent`; timestamp in seconds (AMQP) <-> milliseconds (core); expiration, a
 * string of milliseconds in AMQP, <-> a number. cluster-id is deprecated and dropped, as RabbitMQ does.
 */
import { BrokerError } from '../../core/errors.js';
import type { HeaderTable, Message, MessageProperties } from '../../core/message/message.js';
import type { BasicProperties } from './codec/index.js';

const PERSISTENT = 2;
const EXPIRATION = /^(0|[1-9][0-9]{0,15})$/;

/** Builds the core message of a basic.publish. `body` must already be a copy the message may own. */
export function messageFromPublish(exchange: string, routingKey: string, props: BasicProperties, body: Uint8Array): Message {
  const properties: MessageProperties = {};
  if (props.contentType !== undefined) properties.contentType = props.contentType;
  if (props.contentEncoding !== undefined) properties.contentEncoding = props.contentEncoding;
  if (props.priority !== undefined) properties.priority = props.priority;
  if (props.correlationId !== undefined) properties.correlationId = props.correlationId;
  if (props.replyTo !== undefined) properties.replyTo = props.replyTo;
  if (props.expiration !== undefined) properties.expiration = parseExpiration(props.expiration);
  if (props.messageId !== undefined) properties.messageId = props.messageId;
  if (props.timestamp !== undefined) properties.timestamp = props.timestamp * 1000;
  if (props.type !== undefined) properties.type = props.type;
  if (props.userId !== undefined) properties.userId = props.userId;
  if (props.appId !== undefined) properties.appId = props.appId;
  return {
    exchange,
    routingKey,
    headers: (props.headers as HeaderTable | undefined) ?? {},
    properties,
    body,
    persistent: props.deliveryMode === PERSISTENT,
  };
}

/** RabbitMQ refuses an expiration that is not a non-negative integer string with 406 PRECONDITION_FAILED. */
function parseExpiration(value: string): number {
  if (!EXPIRATION.test(value)) {
    throw new BrokerError('PRECONDITION_FAILED', `invalid expiration '${value}': it must be a non-negative integer`);
  }
  const ms = Number(value);
  if (!Number.isSafeInteger(ms)) throw new BrokerError('PRECONDITION_FAILED', `invalid expiration '${value}'`);
  return ms;
}

/** The content properties a message is delivered with. */
export function propertiesOfMessage(message: Message): BasicProperties {
  const p = message.properties;
  const out: BasicProperties = {};
  if (p.contentType !== undefined) out.contentType = p.contentType;
  if (p.contentEncoding !== undefined) out.contentEncoding = p.contentEncoding;
  if (hasEntries(message.headers)) out.headers = message.headers;
  if (message.persistent) out.deliveryMode = PERSISTENT;
  if (p.priority !== undefined) out.priority = p.priority;
  if (p.correlationId !== undefined) out.correlationId = p.correlationId;
  if (p.replyTo !== undefined) out.replyTo = p.replyTo;
  if (p.expiration !== undefined) out.expiration = String(p.expiration);
  if (p.messageId !== undefined) out.messageId = p.messageId;
  if (p.timestamp !== undefined) out.timestamp = Math.floor(p.timestamp / 1000);
  if (p.type !== undefined) out.type = p.type;
  if (p.userId !== undefined) out.userId = p.userId;
  if (p.appId !== undefined) out.appId = p.appId;
  return out;
}

function hasEntries(table: HeaderTable): boolean {
  for (const key in table) if (Object.hasOwn(table, key)) return true;
  return false;
}
