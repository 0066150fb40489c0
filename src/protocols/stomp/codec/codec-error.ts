/**
 * Errors of the STOMP codec. They stay inside the STOMP adapter (the session turns each into an ERROR
 * frame and a close), so they are not core BrokerErrors; the fuzz test checks that random input only
 * ever produces frames or these.
 */
export type StompCodecErrorCode =
  /** The frame (command, headers and body) is over the configured maximum. */
  | 'FRAME_TOO_LARGE'
  /** More header lines than the configured maximum. */
  | 'TOO_MANY_HEADERS'
  /** A command or header line longer than the configured maximum. */
  | 'HEADER_TOO_LONG'
  /** A header line without ':'. */
  | 'MALFORMED_HEADER'
  /** An escape sequence the negotiated version does not define ([STOMP 1.2] "Value Encoding": fatal). */
  | 'INVALID_ESCAPE'
  /** A content-length that is not a decimal octet count. */
  | 'INVALID_CONTENT_LENGTH'
  /** The octet after a content-length body is not NUL. */
  | 'MISSING_NUL';

export class StompCodecError extends Error {
  readonly code: StompCodecErrorCode;

  constructor(code: StompCodecErrorCode, message: string) {
    super(message);
    this.name = 'StompCodecError';
    this.code = code;
  }
}

export function isStompCodecError(error: unknown, code?: StompCodecErrorCode): error is StompCodecError {
  return error instanceof StompCodecError && (code === undefined || error.code === code);
}
