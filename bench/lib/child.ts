/**
 * Measurements that run in a child process of their own, so the memory they report is that process's
 * alone and SIGKILL is a real crash. Parent and child speak over the fork IPC channel: the child sends one
 * `result` (or `error`) message; the parent may then wait for its exit or kill it.
 */
import { fork, type ChildProcess } from 'node:child_process';

interface ResultMessage {
  readonly type: 'result';
  readonly data: unknown;
}

interface ErrorMessage {
  readonly type: 'error';
  readonly message: string;
}

type ChildMessage = ResultMessage | ErrorMessage;

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ChildOptions {
  /** Extra node flags (e.g. --expose-gc). */
  readonly execArgv?: readonly string[];
  /** The child is killed and the wait rejected after this long. */
  readonly timeoutMs: number;
}

export class ChildRun<T> {
  readonly result: Promise<T>;
  readonly exit: Promise<ChildExit>;
  private readonly child: ChildProcess;
  private readonly timer: NodeJS.Timeout;

  constructor(script: string, args: readonly string[], label: string, options: ChildOptions) {
    this.child = fork(script, [...args], { execArgv: [...(options.execArgv ?? [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.exit = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    this.result = new Promise<T>((resolve, reject) => {
      this.child.on('message', (raw) => {
        const message = raw as ChildMessage;
        if (message.type === 'result') resolve(message.data as T);
        else reject(new Error(`${label}: ${message.message}`));
      });
      this.child.once('error', (error) => reject(new Error(`${label}: ${error.message}`)));
      void this.exit.then(({ code, signal }) =>
        reject(new Error(`${label}: exited (code ${code ?? '-'}, signal ${signal ?? '-'}) before reporting a result`)),
      );
    });
    // Nobody may await `result` when the exit wins; avoid an unhandled rejection in that case.
    this.result.catch(() => undefined);
    this.timer = setTimeout(() => {
      this.child.kill('SIGKILL');
    }, options.timeoutMs);
    this.timer.unref();
    void this.exit.then(() => clearTimeout(this.timer));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Kills the child with `signal` and resolves once it is gone. */
  async kill(signal: NodeJS.Signals): Promise<ChildExit> {
    this.child.kill(signal);
    return this.exit;
  }
}

/** Runs a child to completion: its result, provided it then exits with status 0. */
export async function runChild<T>(script: string, args: readonly string[], label: string, options: ChildOptions): Promise<T> {
  const run = new ChildRun<T>(script, args, label, options);
  const result = await run.result;
  const exit = await run.exit;
  if (exit.code !== 0) throw new Error(`${label}: exited with code ${exit.code ?? '-'} (signal ${exit.signal ?? '-'})`);
  return result;
}

/** Child side: runs `work`, reports its value or error to the parent. */
export async function reportToParent(work: () => Promise<unknown>): Promise<void> {
  const send = process.send?.bind(process);
  if (!send) throw new Error('this mode runs only as a child of the benchmark');
  let message: ChildMessage;
  try {
    message = { type: 'result', data: await work() };
  } catch (error) {
    message = { type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    process.exitCode = 1;
  }
  await new Promise<void>((resolve) => send(message, undefined, {}, () => resolve()));
}
