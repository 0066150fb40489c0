/**
 * Core BrokerError codes -> AMQP 0-9-1 reply codes, with RabbitMQ's reply-text form
 * (`NOT_FOUND - no queue 'x' in vhost '/'`), which clients log and people search for.
 * Soft errors close the channel; hard errors (5xx) close the connection.
 */
import { isBrokerError, type ErrorCode } from '../../core/errors.js';
import { isAmqpCodecError, ReplyCode } from './codec/index.js';

export type ReplyName = keyof typeof ReplyCode;

export interface AmqpReply {
  readonly code: number;
  /** RabbitMQ's text: the reply name, a dash, the explanation. */
  readonly text: string;
  /** True when the error closes the whole connection rather than one channel. */
  readonly hard: boolean;
}

/** Codes not listed (added to the registry later) close the connection with 541 INTERNAL_ERROR. */
const brokerReplies: Readonly<Partial<Record<ErrorCode, ReplyName>>> = {
  INVALID_ARGUMENT: 'PRECONDITION_FAILED',
  INVALID_NAME: 'PRECONDITION_FAILED',
  RESERVED_NAME: 'ACCESS_REFUSED',
  PRECONDITION_FAILED: 'PRECONDITION_FAILED',
  UNKNOWN_DELIVERY_TAG: 'PRECONDITION_FAILED',
  CONSUMER_TAG_IN_USE: 'NOT_ALLOWED',
  UNKNOWN_CONSUMER: 'NOT_FOUND',
  QUEUE_NOT_FOUND: 'NOT_FOUND',
  EXCHANGE_NOT_FOUND: 'NOT_FOUND',
  STREAM_NOT_FOUND: 'NOT_FOUND',
  TOPIC_NOT_FOUND: 'NOT_FOUND',
  TOPIC_EXISTS: 'PRECONDITION_FAILED',
  RESOURCE_LOCKED: 'RESOURCE_LOCKED',
  IN_USE: 'PRECONDITION_FAILED',
  NOT_EMPTY: 'PRECONDITION_FAILED',
  EXCLUSIVE_CONSUMER: 'ACCESS_REFUSED',
  QUEUE_FULL: 'PRECONDITION_FAILED',
  ACCESS_REFUSED: 'ACCESS_REFUSED',
  AUTHENTICATION_FAILED: 'ACCESS_REFUSED',
  STORAGE_IO: 'INTERNAL_ERROR',
  STORAGE_CORRUPT: 'INTERNAL_ERROR',
  METADATA_CORRUPT: 'INTERNAL_ERROR',
  DATA_DIR_LOCKED: 'INTERNAL_ERROR',
  DATA_DIR_UNUSABLE: 'INTERNAL_ERROR',
  LOG_CLOSED: 'INTERNAL_ERROR',
  OFFSET_OUT_OF_RANGE: 'PRECONDITION_FAILED',
  CONFIG_INVALID: 'INTERNAL_ERROR',
  PORT_IN_USE: 'INTERNAL_ERROR',
  BROKER_CLOSED: 'CONNECTION_FORCED',
  CHANNEL_CLOSED: 'CHANNEL_ERROR',
  TIMEOUT: 'INTERNAL_ERROR',
  INTERNAL: 'INTERNAL_ERROR',
};

/** Reply codes that close the connection (the specification's hard errors, plus a forced close). */
export function isHardReply(code: number): boolean {
  return code >= 500 || code === ReplyCode.CONNECTION_FORCED;
}

export function reply(name: ReplyName, explanation: string): AmqpReply {
  const code = ReplyCode[name];
  return { code, text: `${name} - ${explanation}`, hard: isHardReply(code) };
}

/** The reply for any error raised while handling a method: broker, codec, or unexpected. */
export function replyFor(error: unknown): AmqpReply {
  if (isBrokerError(error, 'EXCLUSIVE_CONSUMER') && typeof error.details?.['queue'] === 'string') {
    // RabbitMQ words both cases (an exclusive consumer there, or an exclusive one asked for) alike.
    return reply('ACCESS_REFUSED', `queue '${error.details['queue']}' in vhost '/' in exclusive use`);
  }
  if (isBrokerError(error)) return reply(brokerReplies[error.code] ?? 'INTERNAL_ERROR', error.message);
  if (isAmqpCodecError(error)) return { code: error.replyCode, text: error.replyText, hard: isHardReply(error.replyCode) };
  return reply('INTERNAL_ERROR', 'internal error');
}

/** An AMQP-level error raised by the session itself (not the core): carries its reply directly. */
export class AmqpReplyError extends Error {
  readonly reply: AmqpReply;
  constructor(name: ReplyName, explanation: string) {
    super(explanation);
    this.name = 'AmqpReplyError';
    this.reply = reply(name, explanation);
  }
}

export function replyOf(error: unknown): AmqpReply {
  return error instanceof AmqpReplyError ? error.reply : replyFor(error);
}
