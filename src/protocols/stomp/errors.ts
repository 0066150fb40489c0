import { isBrokerError, type ErrorCode } from '../../core/errors.js';
import { isStompCodecError, type StompCodecErrorCode } from './codec/codec-error.js';

/**
 * A STOMP protocol error: what the ERROR frame says. `message` is the short header (RabbitMQ's wording,
 * which clients and people search for), `detail` the body.
 */
export class StompProtocolError extends Error {
  constructor(
    readonly summary: string,
    readonly detail: string,
    /** Extra ERROR headers (e.g. `version` for a version mismatch). */
    readonly headers: readonly (readonly [string, string])[] = [],
  ) {
    super(`${summary}: ${detail}`);
    this.name = 'StompProtocolError';
  }
}

export interface ErrorFrameContent {
  /** The ERROR frame's `message` header. */
  readonly message: string;
  /** The ERROR frame's body. */
  readonly detail: string;
  /** The core's error code, when a BrokerError caused it (sent as `courier-error-code`). */
  readonly code?: ErrorCode;
}

/** Core error codes -> the ERROR `message` header (RabbitMQ's AMQP-derived names for the same conditions). */
const brokerErrorMessages: Partial<Record<ErrorCode, string>> = {
  QUEUE_NOT_FOUND: 'not_found',
  EXCHANGE_NOT_FOUND: 'not_found',
  STREAM_NOT_FOUND: 'not_found',
  TOPIC_NOT_FOUND: 'not_found',
  ACCESS_REFUSED: 'access_refused',
  RESERVED_NAME: 'access_refused',
  AUTHENTICATION_FAILED: 'Bad CONNECT',
  PRECONDITION_FAILED: 'precondition_failed',
  INVALID_ARGUMENT: 'precondition_failed',
  INVALID_NAME: 'precondition_failed',
  IN_USE: 'precondition_failed',
  NOT_EMPTY: 'precondition_failed',
  UNKNOWN_DELIVERY_TAG: 'precondition_failed',
  CONSUMER_TAG_IN_USE: 'precondition_failed',
  RESOURCE_LOCKED: 'resource_locked',
  EXCLUSIVE_CONSUMER: 'resource_locked',
  QUEUE_FULL: 'Message rejected',
  BROKER_CLOSED: 'Server shutdown',
};

const codecErrorMessages: Record<StompCodecErrorCode, string> = {
  FRAME_TOO_LARGE: 'Frame too large',
  TOO_MANY_HEADERS: 'Too many headers',
  HEADER_TOO_LONG: 'Header too long',
  MALFORMED_HEADER: 'Malformed frame',
  INVALID_ESCAPE: 'Malformed frame',
  INVALID_CONTENT_LENGTH: 'Invalid content-length',
  MISSING_NUL: 'Malformed frame',
};

/** What to put in the ERROR frame for any failure of a session. */
export function errorFrameContent(error: unknown): ErrorFrameContent {
  if (error instanceof StompProtocolError) return { message: error.summary, detail: error.detail };
  if (isStompCodecError(error)) return { message: codecErrorMessages[error.code], detail: error.message };
  if (isBrokerError(error)) {
    const message = brokerErrorMessages[error.code] ?? 'internal_error';
    // RabbitMQ's body form: "NOT_FOUND - no queue 'x' in vhost '/'".
    return { message, detail: `${error.code} - ${error.message}`, code: error.code };
  }
  return { message: 'internal_error', detail: 'an unexpected internal error; the server log has details' };
}

export function missingHeader(command: string, header: string): StompProtocolError {
  return new StompProtocolError('Missing header', `${command} frame is missing the required header '${header}'`);
}

export function invalidHeader(header: string, value: string, expected: string): StompProtocolError {
  return new StompProtocolError('Invalid header', `header '${header}' has value '${value}', expected ${expected}`);
}
