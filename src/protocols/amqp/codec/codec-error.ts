/**
 * Errors of the AMQP 0-9-1 codec. Each carries the AMQP reply code the session puts into the
 * `connection.close` it sends (all codec errors are connection errors: once framing is in doubt the
 * connection has lost sync with its peer). These stay inside the AMQP adapter, so they are not core
 * BrokerErrors; the session maps them to a close, and to BrokerError only if one must cross a module.
 */

/**
 * The hard-error reply codes the codec raises, with RabbitMQ's names (which its reply texts start with).
 * They repeat constants of the specification; a test checks them against the generated definitions.
 */
export const CodecReplyCode = {
  FRAME_ERROR: 501,
  SYNTAX_ERROR: 502,
  COMMAND_INVALID: 503,
  CHANNEL_ERROR: 504,
  UNEXPECTED_FRAME: 505,
  RESOURCE_ERROR: 506,
  NOT_ALLOWED: 530,
  NOT_IMPLEMENTED: 540,
  INTERNAL_ERROR: 541,
} as const;

export type CodecReplyName = keyof typeof CodecReplyCode;

export class AmqpCodecError extends Error {
  readonly replyName: CodecReplyName;
  readonly replyCode: number;
  /** Class and method whose frame could not be decoded (0 when unknown), for `connection.close`. */
  readonly classId: number;
  readonly methodId: number;

  constructor(replyName: CodecReplyName, message: string, classId = 0, methodId = 0) {
    super(message);
    this.name = 'AmqpCodecError';
    this.replyName = replyName;
    this.replyCode = CodecReplyCode[replyName];
    this.classId = classId;
    this.methodId = methodId;
  }

  /** RabbitMQ's reply-text form: `FRAME_ERROR - <explanation>`. */
  get replyText(): string {
    return `${this.replyName} - ${this.message}`;
  }

  /** The same error attributed to the method being decoded when it was raised. */
  inMethod(classId: number, methodId: number): AmqpCodecError {
    if (this.classId !== 0 || this.methodId !== 0) return this;
    return new AmqpCodecError(this.replyName, this.message, classId, methodId);
  }
}

export function isAmqpCodecError(error: unknown, replyName?: CodecReplyName): error is AmqpCodecError {
  return error instanceof AmqpCodecError && (replyName === undefined || error.replyName === replyName);
}

/** Bytes that do not parse as what they claim to be (RabbitMQ: `frame_error`, "cannot decode"). */
export function frameError(message: string): AmqpCodecError {
  return new AmqpCodecError('FRAME_ERROR', message);
}

/** Well-framed bytes carrying an illegal value, such as an unknown field-table type tag. */
export function syntaxError(message: string): AmqpCodecError {
  return new AmqpCodecError('SYNTAX_ERROR', message);
}

/**
 * A value the encoder cannot put on the wire (a short string over 255 bytes, an integer out of range,
 * a frame over frame-max). This is a fault of the caller, not of the peer, hence INTERNAL_ERROR.
 */
export function encodeError(message: string): AmqpCodecError {
  return new AmqpCodecError('INTERNAL_ERROR', message);
}
