/**
 * A broker process the harness started: its output goes to a log file in its work dir, it is stopped by
 * its pid (SIGTERM, then SIGKILL after a grace period), and `waitForPort` polls a TCP port until it
 * accepts, failing early if the process dies first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { connect } from 'node:net';

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface StartOptions {
  readonly label: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly logFile: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export class ManagedProcess {
  readonly exited: Promise<ProcessExit>;
  private exitInfo: ProcessExit | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly label: string,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
      child.once('error', () => {
        this.exitInfo ??= { code: null, signal: null };
        resolve(this.exitInfo);
      });
    });
  }

  static async start(options: StartOptions): Promise<ManagedProcess> {
    const log = createWriteStream(options.logFile, { flags: 'a' });
    await once(log, 'open');
    const child = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', log, log],
    });
    const started = new ManagedProcess(child, options.label, options.logFile);
    void started.exited.then(() => log.end());
    if (child.pid === undefined) {
      const error = await once(child, 'error').then(([value]) => value as Error);
      throw new Error(`${options.label}: could not start ${options.command}: ${error.message}`);
    }
    return started;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** SIGTERM to this pid, SIGKILL if it is still there after `graceMs`. */
  async stop(graceMs = 10_000): Promise<ProcessExit> {
    if (this.exitInfo) return this.exitInfo;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }
}

/** Resolves once `host:port` accepts a TCP connection; rejects after `timeoutMs` or when `process` exits. */
export async function waitForPort(host: string, port: number, timeoutMs: number, process?: ManagedProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (process?.hasExited) {
      const exit = await process.exited;
      throw new Error(`${process.label} exited (code ${exit.code ?? '-'}, signal ${exit.signal ?? '-'}) before ${host}:${port} accepted; see ${process.logFile}`);
    }
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (accepted) return;
    if (Date.now() >= deadline) throw new Error(`${host}:${port} did not accept within ${timeoutMs} ms${process ? ` (${process.label}, log ${process.logFile})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Resolves once nothing accepts on `host:port` any more (a previous broker let go of it). */
export async function waitForPortFree(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (!accepted) return;
    if (Date.now() >= deadline) throw new Error(`${host}:${port} is still taken after ${timeoutMs} ms: another process listens there`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
