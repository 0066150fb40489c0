/**
 * Load-generator processes and how the harness drives them. Each publisher or subscriber is a child
 * process of its own (never the broker's, never the harness's), so its CPU use is its own and two of them
 * can use two cores. Over the fork IPC channel:
 *
 *   harness -> worker: start(config) ... go ... publishers-done
 *   worker -> harness: ready ... done(report)      or error(message) at any time
 *
 * `ready` means connected (and subscribed); `go` starts the measured interval in every worker at once.
 */
import { fork, type ChildProcess } from 'node:child_process';

type ToWorker = { readonly type: 'start'; readonly config: unknown } | { readonly type: 'go' } | { readonly type: 'publishers-done' };
type FromWorker = { readonly type: 'ready' } | { readonly type: 'done'; readonly report: unknown } | { readonly type: 'error'; readonly message: string };

/** What a worker script provides once connected. */
export interface Worker<R> {
  /** Start the measured work. */
  go(): void;
  /** Every publisher has finished: a subscriber stops waiting for messages that will not come. */
  publishersDone(): void;
  /** Resolves with the report once the work is over. */
  readonly result: Promise<R>;
  /** Disconnect cleanly. */
  close(): Promise<void>;
}

/** The monotonic clock load workers time with, in nanoseconds (shared by every process on the machine). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/**
 * A consumer's wait once the publishers are done: calls `onIdle` once `count()` has not moved for
 * `idleMs`, checking every tenth of that (at least every 10 ms). Returns the timer, for the caller to clear.
 */
export function watchUntilIdle(count: () => number, idleMs: number, onIdle: () => void): NodeJS.Timeout {
  let seen = count();
  let quietSince = nowNs();
  return setInterval(() => {
    const now = nowNs();
    if (count() !== seen) {
      seen = count();
      quietSince = now;
    } else if (now - quietSince >= idleMs * 1e6) onIdle();
  }, Math.max(10, Math.floor(idleMs / 10)));
}

/** Child side: runs the worker `setup` builds from the harness's config. */
export function serveWorker<C, R>(setup: (config: C) => Promise<Worker<R>>): void {
  const send = (message: FromWorker): Promise<void> =>
    new Promise((resolve) => {
      if (!process.send) resolve();
      else process.send(message, undefined, {}, () => resolve());
    });
  const die = async (error: unknown): Promise<void> => {
    process.exitCode = 1;
    await send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    if (process.connected) process.disconnect();
  };
  if (!process.send) {
    console.error('this script is a load-generator worker: the benchmark harness forks it');
    process.exit(2);
  }
  let worker: Worker<R> | undefined;
  process.on('message', (raw: ToWorker) => {
    if (raw.type === 'start') {
      setup(raw.config as C).then(
        async (created) => {
          worker = created;
          created.result.then(
            async (report) => {
              await send({ type: 'done', report });
              await created.close();
              if (process.connected) process.disconnect();
            },
            (error: unknown) => void die(error),
          );
          await send({ type: 'ready' });
        },
        (error: unknown) => void die(error),
      );
    } else if (raw.type === 'go') worker?.go();
    else if (raw.type === 'publishers-done') worker?.publishersDone();
  });
}

export interface WorkerOptions {
  /** Start the worker under `ulimit -n` this high (for many connections in one process). */
  readonly fdLimit?: number;
}

/** Harness side: one forked worker. */
export class WorkerProcess<R> {
  readonly ready: Promise<void>;
  readonly done: Promise<R>;
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;

  constructor(script: string, config: unknown, readonly label: string, options: WorkerOptions = {}) {
    this.child =
      options.fdLimit === undefined
        ? fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
        : // A shell wrapper raises the open-files limit (root may raise the hard limit too) and execs node in
          // place, keeping the IPC channel: fork runs `execPath ...execArgv script`, so the script is $0.
          fork(script, [], {
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
            execPath: '/bin/sh',
            execArgv: ['-c', `ulimit -n ${Math.floor(options.fdLimit)} 2>/dev/null || ulimit -n "$(ulimit -H -n)"; exec "${process.execPath}" "$0" "$@"`],
          });
    let markReady!: () => void;
    let markDone!: (report: R) => void;
    let fail!: (error: Error) => void;
    this.ready = new Promise((resolve) => (markReady = resolve));
    const failure = new Promise<never>((_, reject) => (fail = reject));
    failure.catch(() => undefined);
    this.done = Promise.race([new Promise<R>((resolve) => (markDone = resolve)), failure]);
    this.ready = Promise.race([this.ready, failure]);
    this.done.catch(() => undefined);
    this.ready.catch(() => undefined);
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.child.on('message', (raw: FromWorker) => {
      if (raw.type === 'ready') markReady();
      else if (raw.type === 'done') markDone(raw.report as R);
      else fail(new Error(`${label}: ${raw.message}`));
    });
    this.child.once('error', (error) => fail(new Error(`${label}: ${error.message}`)));
    void this.exited.then(() => fail(new Error(`${label}: exited (code ${this.child.exitCode ?? '-'}, signal ${this.child.signalCode ?? '-'}) before reporting`)));
    this.send({ type: 'start', config });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  go(): void {
    this.send({ type: 'go' });
  }

  publishersDone(): void {
    this.send({ type: 'publishers-done' });
  }

  /** Ends the worker by its pid (SIGKILL) unless it has exited already; resolves once it is gone. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  private send(message: ToWorker): void {
    // A worker that reported and disconnected meanwhile (EPIPE) has nothing left to be told; without the
    // callback that failure would be an 'error' event failing the run.
    if (this.child.connected) this.child.send(message, (error) => void error);
  }
}
