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

/**
 * A scalar header value as text (strings as they are; numbers, bigints and booleans spelled out), for
 * protocols whose headers are strings (MQTT user properties, STOMP headers). Bytes, null, arrays and
 * tables have no single text form: undefined, and each protocol decides what to do with them.
 */
export function scalarHeaderText(value: HeaderValue): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(value);
    default:
      return undefined;
  }
}

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
