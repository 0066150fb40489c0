/**
 * Everything a command touches outside its arguments. main() gets the real process; tests pass their own,
 * so commands never reach for globals.
 */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Calls `handler` on SIGINT and SIGTERM until the returned function is called. */
  onShutdownSignal(handler: (signal: NodeJS.Signals) => void): () => void;
  /** Ends the process now, whatever is still running (a second signal during shutdown). */
  forceExit(code: number): void;
  /** All of standard input (`courier publish <topic> -`); absent where there is none. */
  readStdin?(): Promise<Uint8Array>;
}

const shutdownSignals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    onShutdownSignal(handler) {
      for (const signal of shutdownSignals) process.on(signal, handler);
      return () => {
        for (const signal of shutdownSignals) process.off(signal, handler);
      };
    },
    forceExit: (code) => process.exit(code),
    async readStdin() {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
  };
}
