import { pino, type DestinationStream } from 'pino';
import type { Logger } from '../core/ports.js';

export type LogLevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** The core's Logger port plus what services need on top: per-component children and a cheap level check. */
export interface ServiceLogger extends Logger {
  child(bindings: Record<string, unknown>): ServiceLogger;
  isLevelEnabled(level: Exclude<LogLevelName, 'silent'>): boolean;
}

export interface CreateLoggerOptions {
  readonly level: LogLevelName;
  /** Where JSON lines go; stdout (asynchronously, through a buffered writer) when omitted. */
  readonly destination?: DestinationStream;
}

export interface LoggerHandle {
  readonly logger: ServiceLogger;
  /** Writes out buffered lines before a forced process exit, which would otherwise lose them. */
  readonly flushSync: () => void;
}

/**
 * JSON lines (one object per line, ISO time, level as a label) so that log shippers need no pino-specific
 * parsing. Writes to stdout are asynchronous: logging must not block the event loop that serves clients.
 */
export function createLogger(options: CreateLoggerOptions): LoggerHandle {
  const stdout = options.destination === undefined ? pino.destination({ dest: 1, sync: false }) : undefined;
  const destination = options.destination ?? stdout;
  const logger = pino(
    {
      level: options.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  return {
    logger,
    flushSync: () => {
      try {
        stdout?.flushSync();
      } catch {
        // Nothing left to do about lost log lines while the process is being forced down.
      }
    },
  };
}
