import type { Clock, TimerHandle } from './ports.js';

/** The longest delay Node's timers hold (about 24.8 days): a longer one would fire after 1 ms. */
const MAX_TIMER_MS = 0x7fffffff;

/**
 * The wall clock. Timers are unref'd so they never keep a process alive on their own; longer delays
 * than a Node timer holds (x-expires, MQTT Session Expiry and Will Delay Intervals of weeks) are run as
 * a chain of timers.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs: number, callback: () => void): TimerHandle {
    let timer: ReturnType<typeof setTimeout>;
    const arm = (remaining: number): void => {
      const step = Math.min(Math.max(0, remaining), MAX_TIMER_MS);
      timer = setTimeout(() => (remaining > MAX_TIMER_MS ? arm(remaining - MAX_TIMER_MS) : callback()), step);
      timer.unref();
    };
    arm(delayMs);
    return { cancel: () => clearTimeout(timer) };
  },
};

/**
 * Calls `tick` every `intervalMs` on `clock` until the returned handle is cancelled (also from inside
 * `tick`). Each tick is armed after the previous one ran, so a slow tick delays the next, never stacks.
 */
export function everyInterval(clock: Clock, intervalMs: number, tick: () => void): TimerHandle {
  let current: TimerHandle | undefined;
  let cancelled = false;
  const arm = (): void => {
    current = clock.setTimer(intervalMs, () => {
      tick();
      if (!cancelled) arm();
    });
  };
  arm();
  return {
    cancel: () => {
      cancelled = true;
      current?.cancel();
    },
  };
}

/**
 * A clock that only moves when told to: for TTL and expiry tests, and for simulations.
 * `advance` runs due timers in deadline order.
 */
export class ManualClock implements Clock {
  private current: number;
  private readonly timers = new Set<{ due: number; seq: number; callback: () => void }>();
  private seq = 0;

  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(delayMs: number, callback: () => void): TimerHandle {
    const timer = { due: this.current + Math.max(0, delayMs), seq: this.seq++, callback };
    this.timers.add(timer);
    return { cancel: () => this.timers.delete(timer) };
  }

  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let next: { due: number; seq: number; callback: () => void } | undefined;
      for (const timer of this.timers) {
        if (timer.due <= target && (!next || timer.due < next.due || (timer.due === next.due && timer.seq < next.seq))) {
          next = timer;
        }
      }
      if (!next) break;
      this.timers.delete(next);
      this.current = Math.max(this.current, next.due);
      next.callback();
    }
    this.current = target;
  }
}
