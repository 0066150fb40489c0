/**
 * A pipelined producer: keeps up to `window` operations unconfirmed and issues at most `chunk` per
 * event-loop turn, as many concurrent publishers would. Operations whose confirmation is the same promise
 * were covered by one write (and, with fsync always, one fdatasync): counting distinct consecutive promises
 * gives the number of group commits without instrumenting the log.
 */

export interface PipelineOptions {
  /** Most operations issued and not yet confirmed. */
  readonly window: number;
  /** Most operations issued in one event-loop turn. */
  readonly chunk: number;
  /** Stop issuing after this many operations... */
  readonly total?: number;
  /** ...or after this many seconds, whichever comes first. */
  readonly seconds?: number;
  /** Starts operation number `sequence` and returns the promise that confirms it. */
  readonly issue: (sequence: number) => Promise<void>;
  /** Called once per turn; cheap checks only (RSS sampling). */
  readonly onTurn?: () => void;
}

export interface PipelineResult {
  readonly completed: number;
  /** From the first issue to the last confirmation. */
  readonly seconds: number;
  /** Distinct confirmation promises: writes (fsync never) or group commits (fsync always). */
  readonly commits: number;
}

export function runPipeline(options: PipelineOptions): Promise<PipelineResult> {
  const total = options.total ?? Number.POSITIVE_INFINITY;
  const deadline = options.seconds === undefined ? Number.POSITIVE_INFINITY : performance.now() + options.seconds * 1000;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let issued = 0;
    let completed = 0;
    let inflight = 0;
    let commits = 0;
    let lastSeen: Promise<void> | undefined;
    let stopped = false;
    let failed = false;
    let scheduled = false;
    let finishedAt = started;

    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const confirmed = (count: number): void => {
      completed += count;
      inflight -= count;
      finishedAt = performance.now();
      if (stopped && inflight === 0) {
        if (!failed) resolve({ completed, seconds: (finishedAt - started) / 1000, commits });
        return;
      }
      schedule();
    };
    const attach = (promise: Promise<void>, count: number): void => {
      promise.then(() => confirmed(count), fail);
    };
    const turn = (): void => {
      scheduled = false;
      if (failed) return;
      options.onTurn?.();
      if (!stopped && (issued >= total || performance.now() >= deadline)) stopped = true;
      if (stopped) {
        if (inflight === 0) resolve({ completed, seconds: (finishedAt - started) / 1000, commits });
        return;
      }
      const count = Math.min(options.chunk, options.window - inflight, total - issued);
      let group: Promise<void> | undefined;
      let groupSize = 0;
      try {
        for (let i = 0; i < count; i++) {
          const promise = options.issue(issued);
          issued += 1;
          inflight += 1;
          if (promise !== group) {
            if (group) attach(group, groupSize);
            group = promise;
            groupSize = 0;
            if (promise !== lastSeen) {
              commits += 1;
              lastSeen = promise;
            }
          }
          groupSize += 1;
        }
      } catch (error) {
        fail(error);
        return;
      }
      if (group) attach(group, groupSize);
      if (inflight < options.window) schedule();
    };
    const schedule = (): void => {
      if (scheduled || failed) return;
      scheduled = true;
      setImmediate(turn);
    };
    schedule();
  });
}
