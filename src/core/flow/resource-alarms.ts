/**
 * Resource alarms, as RabbitMQ raises them: while one is on, publishers are blocked (each protocol in its
 * own way: AMQP `connection.blocked`, MQTT and STOMP by no longer reading the publisher's socket) and
 * consumers keep draining, so the broker sheds load instead of running out of memory or disk.
 */
import { BrokerError } from '../errors.js';

export type AlarmResource = 'memory' | 'disk';

/** Called when publishing becomes blocked (`true`) or allowed again (`false`). */
export type AlarmListener = (blocked: boolean) => void;

export class ResourceAlarms {
  private readonly active = new Set<AlarmResource>();
  private readonly listeners = new Set<AlarmListener>();

  /** True while any alarm is on: publishers must wait. Read on every publish, so it is a plain getter. */
  get blocked(): boolean {
    return this.active.size > 0;
  }

  /** The alarms that are on, for `connection.blocked`'s reason and the metrics. */
  get resources(): readonly AlarmResource[] {
    return [...this.active];
  }

  has(resource: AlarmResource): boolean {
    return this.active.has(resource);
  }

  /** A human-readable reason, RabbitMQ's wording: "low on memory", "low on disk". */
  get reason(): string {
    return this.resources.map((resource) => `low on ${resource}`).join(', ');
  }

  set(resource: AlarmResource, on: boolean): void {
    const wasBlocked = this.blocked;
    if (on) this.active.add(resource);
    else this.active.delete(resource);
    if (wasBlocked === this.blocked) return;
    // A copy: a listener may unsubscribe (its connection closed) while being told.
    for (const listener of [...this.listeners]) listener(this.blocked);
  }

  /**
   * Calls `callback` once publishing is allowed (at once when no alarm is on). Returns the function
   * that stops waiting, for a publisher that goes away first.
   */
  onceClear(callback: () => void): () => void {
    if (!this.blocked) {
      callback();
      return () => undefined;
    }
    const stop = this.subscribe((blocked) => {
      if (blocked) return;
      stop();
      callback();
    });
    return stop;
  }

  /** Throws RESOURCE_ALARM while an alarm is on: for publishers that cannot be paused (an HTTP request). */
  assertClear(): void {
    if (this.blocked) {
      throw new BrokerError('RESOURCE_ALARM', `publishing is blocked while the broker is ${this.reason}; retry shortly`, {
        resources: this.resources,
      });
    }
  }

  /** Returns the unsubscribe function; connections call it when they close. */
  subscribe(listener: AlarmListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }
}
