import type { CliIo } from './cli-io.js';

export const ExitCode = {
  ok: 0,
  /** Startup or runtime failure: data dir, lock, port, storage. */
  failure: 1,
  /** The command line or the configuration is wrong. */
  usage: 2,
} as const;

export interface Command {
  readonly name: string;
  /** One line for `courier --help`. */
  readonly summary: string;
  /** Returns the exit code; throws BrokerError for failures main() reports as one line. */
  run(args: readonly string[], io: CliIo): Promise<number>;
  /** The text of `courier <name> --help`. */
  help(): string;
}
