import type { Clock, TimerHandle } from './ports.js';

/** The wall clock. Timers are unref'd so they never keep a process alive on their own. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs: number, callback: () => void): TimerHandle {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

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
