/**
 * The one registry of broker errors. Codes are stable strings (used in logs, HTTP problem details,
 * STOMP ERROR frames) with a stable number; protocol adapters map codes to their wire codes in their own
 * `errors.ts`. `docs/errors.md` is checked against this registry by a test: add a row there for each new code.
 */
export const errorRegistry = {
  // 1xxx: bad input from a client or an operator
  INVALID_ARGUMENT: { number: 1000, summary: 'An argument has a wrong type or value.' },
  INVALID_NAME: { number: 1001, summary: 'A queue, exchange, stream or topic name is not allowed.' },
  RESERVED_NAME: { number: 1002, summary: 'The name is reserved for the broker (for example the amq. prefix).' },
  PRECONDITION_FAILED: {
    number: 1003,
    summary: 'The entity exists with other settings, or the operation conflicts with its state.',
  },
  UNKNOWN_DELIVERY_TAG: { number: 1004, summary: 'The delivery tag names no unacknowledged delivery of this channel.' },
  CONSUMER_TAG_IN_USE: { number: 1005, summary: 'The consumer tag is already used on this channel.' },
  UNKNOWN_CONSUMER: { number: 1006, summary: 'No consumer with this tag on this channel.' },
  // 2xxx: the entity is missing, busy or locked
  QUEUE_NOT_FOUND: { number: 2000, summary: 'No queue with this name.' },
  EXCHANGE_NOT_FOUND: { number: 2001, summary: 'No exchange with this name.' },
  STREAM_NOT_FOUND: { number: 2002, summary: 'No stream with this name.' },
  TOPIC_NOT_FOUND: { number: 2003, summary: 'No topic with this name.' },
  TOPIC_EXISTS: { number: 2004, summary: 'A topic with this name exists already.' },
  RESOURCE_LOCKED: { number: 2005, summary: 'The queue is exclusive to another connection.' },
  IN_USE: { number: 2006, summary: 'The queue or exchange is in use (if-unused was requested).' },
  NOT_EMPTY: { number: 2007, summary: 'The queue holds messages (if-empty was requested).' },
  EXCLUSIVE_CONSUMER: { number: 2008, summary: 'The queue has an exclusive consumer, or exclusivity cannot be granted.' },
  QUEUE_FULL: { number: 2009, summary: 'The queue is at its max length or max bytes and refuses publishes.' },
  CONNECTION_NOT_FOUND: { number: 2010, summary: 'No connection with this id.' },
  BINDING_NOT_FOUND: { number: 2011, summary: 'No binding with this source, destination, routing key and arguments.' },
  SERVICE_NOT_FOUND: { number: 2012, summary: 'No service with this name.' },
  // 3xxx: security
  ACCESS_REFUSED: { number: 3000, summary: 'The principal lacks the permission for this operation.' },
  AUTHENTICATION_FAILED: { number: 3001, summary: 'The credentials were refused.' },
  // 4xxx: storage
  STORAGE_IO: { number: 4000, summary: 'A read or write of the data directory failed.' },
  STORAGE_CORRUPT: { number: 4001, summary: 'A log record failed its checksum or is malformed.' },
  METADATA_CORRUPT: { number: 4002, summary: 'The metadata file is damaged; the broker refuses to start empty.' },
  DATA_DIR_LOCKED: { number: 4003, summary: 'Another broker process holds the data directory.' },
  DATA_DIR_UNUSABLE: { number: 4004, summary: 'The data directory cannot be created, read or written.' },
  LOG_CLOSED: { number: 4005, summary: 'The log was closed while an operation was pending.' },
  OFFSET_OUT_OF_RANGE: { number: 4006, summary: 'The offset is outside the stored range of the log.' },
  // 5xxx: server and lifecycle
  CONFIG_INVALID: { number: 5000, summary: 'The configuration (flags, environment or file) is invalid.' },
  PORT_IN_USE: { number: 5001, summary: 'A listener could not bind its port.' },
  BROKER_CLOSED: { number: 5002, summary: 'The broker is shutting down or closed.' },
  CHANNEL_CLOSED: { number: 5003, summary: 'The channel or connection is closed.' },
  TIMEOUT: { number: 5004, summary: 'The operation did not complete in time (for example no reply to a request).' },
  RESOURCE_ALARM: { number: 5005, summary: 'Publishing is blocked while a memory or disk alarm is on; retry once it clears.' },
  INTERNAL: { number: 5999, summary: 'An unexpected internal error; the log has details.' },
} as const satisfies Record<string, { number: number; summary: string }>;

export type ErrorCode = keyof typeof errorRegistry;

/** Every error that crosses a module boundary is a BrokerError with a code from the registry. */
export class BrokerError extends Error {
  readonly code: ErrorCode;
  readonly number: number;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BrokerError';
    this.code = code;
    this.number = errorRegistry[code].number;
    this.details = details;
  }
}

export function isBrokerError(error: unknown, code?: ErrorCode): error is BrokerError {
  return error instanceof BrokerError && (code === undefined || error.code === code);
}
