/**
 * Child processes for tests that need a real process (crash tests, the CLI): stdout is read line by line,
 * waits are on lines or on exit with a bounded timeout (never on sleeps), and every child is killed by its pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class LineChild {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<ChildExit>;
  private partial = '';
  private readonly listeners: ((line: string) => void)[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(child: ChildProcess) {
    // A failed spawn emits 'error' besides leaving pid undefined; the throw below reports it.
    child.once('error', () => undefined);
    if (child.pid === undefined) throw new Error('the child process did not start');
    this.child = child;
    this.pid = child.pid;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.onStdout(chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        if (this.partial !== '') this.emit(this.partial);
        this.partial = '';
        resolve({ code, signal });
        this.notify();
      });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Calls `listener` for every stdout line, those already read first. */
  onLine(listener: (line: string) => void): void {
    for (const line of this.lines) listener(line);
    this.listeners.push(listener);
  }

  /** Resolves once `condition` holds (checked after every line); rejects if the child exits first or time runs out. */
  waitUntil(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      const check = (): void => {
        if (condition()) finish(resolve);
        else if (!this.running) finish(() => reject(new Error(`the child exited before ${what}\n${this.describe()}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out waiting for ${what}\n${this.describe()}`))), timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  async waitForExit(timeoutMs = 20_000): Promise<ChildExit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the child did not exit in time\n${this.describe()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends `signal` to the child's pid if it still runs. */
  kill(signal: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(this.pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }

  /** SIGKILL and wait until the process is gone (reaped), so its pid and files are free. */
  async killHard(): Promise<ChildExit> {
    this.kill('SIGKILL');
    return this.waitForExit();
  }

  private describe(): string {
    const tail = this.lines.slice(-5).map((line) => (line.length > 200 ? `${line.slice(0, 200)}...` : line));
    return `pid ${this.pid}; last stdout lines: ${JSON.stringify(tail)}; stderr: ${JSON.stringify(this.stderr.slice(-2000))}`;
  }

  private onStdout(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.emit(line);
    this.notify();
  }

  private emit(line: string): void {
    this.lines.push(line);
    for (const listener of this.listeners) listener(line);
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** Starts children and kills whichever still run, by pid, in `after` / `finally`. */
export class ChildProcesses {
  private readonly started = new Set<LineChild>();

  /** Runs a Node.js script with the current Node binary; stdin is closed, stdout and stderr are piped. */
  node(script: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): LineChild {
    const child = spawn(process.execPath, [script, ...args], {
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const running = new LineChild(child);
    this.started.add(running);
    return running;
  }

  async killAll(): Promise<void> {
    const children = [...this.started];
    this.started.clear();
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map((child) => child.exited));
  }
}
