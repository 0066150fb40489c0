/**
 * The neutral message: every protocol converts to and from it, never to another protocol.
 * Once stored it is immutable; the body is bytes and is never parsed by the core.
 */
export type HeaderValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | Uint8Array
  | HeaderValue[]
  | HeaderTable;

export interface HeaderTable {
  [name: string]: HeaderValue;
}

export interface MessageProperties {
  contentType?: string;
  contentEncoding?: string;
  messageId?: string;
  correlationId?: string;
  replyTo?: string;
  /** Producer's timestamp, milliseconds since the epoch. */
  timestamp?: number;
  /** Per-message time to live in milliseconds (AMQP `expiration`, MQTT 5 Message Expiry Interval). */
  expiration?: number;
  priority?: number;
  userId?: string;
  appId?: string;
  type?: string;
  /** Message key (Kafka record key, partitioning). */
  key?: Uint8Array;
}

export interface Message {
  /** Exchange the message was published to ('' is the default exchange). */
  exchange: string;
  routingKey: string;
  headers: HeaderTable;
  properties: MessageProperties;
  body: Uint8Array;
  /** Persistent messages in durable queues are confirmed only after the fsync that covers them. */
  persistent: boolean;
}

export function createMessage(init: Partial<Message> & Pick<Message, 'body'>): Message {
  return {
    exchange: init.exchange ?? '',
    routingKey: init.routingKey ?? '',
    headers: init.headers ?? {},
    properties: init.properties ?? {},
    body: init.body,
    persistent: init.persistent ?? false,
  };
}
