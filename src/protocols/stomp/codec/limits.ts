/**
 * What one frame may hold ([STOMP 1.2] "Size Limits": a server may limit these and answers a frame over
 * them with ERROR and a close). Defaults are generous for real clients and small enough that a hostile
 * peer cannot make one connection buffer without bound.
 */
export interface StompLimits {
  /** Command, headers and body together, in octets. */
  readonly maxFrameBytes: number;
  /** Header lines in one frame. */
  readonly maxHeaders: number;
  /** Octets of one command or header line, escapes included, EOL excluded. */
  readonly maxHeaderLineBytes: number;
}

export const defaultStompLimits: StompLimits = {
  maxFrameBytes: 16 * 1024 * 1024,
  maxHeaders: 1000,
  maxHeaderLineBytes: 64 * 1024,
};
