/**
 * Per-queue publisher flow control, in the spirit of RabbitMQ's credit flow: when a queue's ready backlog
 * grows past a high mark while its consumers are taking messages, the publishers that fed it hold back
 * (each protocol by no longer reading their socket) until it drains to a low mark. The broker then spends
 * its single event loop on delivering rather than on taking in a surplus it must buffer, spill to disk
 * and read back, and a fast publisher cannot swell a transient queue's memory.
 *
 * Flow control must not turn a slow consumer into a slow publisher: a broker is there to buffer. A hold
 * that lasts `maxHoldMs` without the queue draining to the low mark shows that its consumers, not the
 * broker, set the pace; the queue then stops holding anyone back until it has drained to the low mark
 * again (its backlog goes to its log meanwhile, as without flow control). A queue without consumers never
 * holds publishers back: its messages wait for a consumer that is offline.
 */
import type { Clock, TimerHandle } from '../ports.js';

export interface FlowLimits {
  /** Ready messages (or bytes) at which publishers start holding back. */
  readonly highMessages: number;
  readonly highBytes: number;
  /** Held publishers go on once the queue is at or below both low marks. */
  readonly lowMessages: number;
  readonly lowBytes: number;
  /** The longest a hold lasts (0 turns flow control off); see the module comment. */
  readonly maxHoldMs: number;
}

/**
 * RabbitMQ's credit flow numbers (400 / 200). The high mark stays under the queue's read-ahead (512), so
 * a backlog held between the marks is delivered from memory, never read back from the log.
 */
export const DEFAULT_FLOW_LIMITS: FlowLimits = {
  highMessages: 400,
  highBytes: 2 * 1024 * 1024,
  lowMessages: 200,
  lowBytes: 1024 * 1024,
  maxHoldMs: 250,
};

/** What a held publisher waits on. */
export interface FlowGate {
  /** The queue the publisher fed: a connection that also consumes from it is never held (it would hold itself). */
  readonly queueName: string;
  /** Calls `callback` once, when the publisher may go on. Returns the function that stops waiting. */
  onceOpen(callback: () => void): () => void;
}

export interface FlowEvents {
  /** A hold began (`held`) or a queue was found consumer-bound (`released-by-timeout`), for metrics and logs. */
  flowChanged(event: 'held' | 'released-by-timeout', queueName: string): void;
}

export class QueueFlow implements FlowGate {
  private waiters: Set<() => void> | undefined;
  private timer: TimerHandle | undefined;
  /** A hold timed out: the consumers set the pace, so nobody is held for this queue until it drains. */
  private consumerBound = false;

  constructor(
    readonly queueName: string,
    private readonly clock: Clock,
    private readonly limits: FlowLimits,
    private readonly events: FlowEvents,
  ) {}

  /** Whether a publisher that just fed the queue should hold back. Called per publish: no allocation. */
  pressing(ready: number, readyBytes: number, consumers: number): boolean {
    const limits = this.limits;
    if (ready < limits.highMessages && readyBytes < limits.highBytes) return false;
    return consumers > 0 && !this.consumerBound && limits.maxHoldMs > 0;
  }

  /** The queue's backlog went down or its consumers changed: opens the gate when it may. */
  relieve(ready: number, readyBytes: number, consumers: number): void {
    const limits = this.limits;
    const drained = ready <= limits.lowMessages && readyBytes <= limits.lowBytes;
    if (drained) this.consumerBound = false;
    if (this.waiters !== undefined && (drained || consumers === 0)) this.open();
  }

  onceOpen(callback: () => void): () => void {
    if (this.waiters === undefined) {
      this.waiters = new Set();
      this.events.flowChanged('held', this.queueName);
      this.timer = this.clock.setTimer(this.limits.maxHoldMs, () => {
        this.timer = undefined;
        this.consumerBound = true;
        this.events.flowChanged('released-by-timeout', this.queueName);
        this.open();
      });
    }
    const waiters = this.waiters;
    waiters.add(callback);
    return () => {
      waiters.delete(callback);
    };
  }

  /** Lets every held publisher go on: the queue drained, lost its consumers, or is closing. */
  open(): void {
    const waiters = this.waiters;
    if (waiters === undefined) return;
    this.waiters = undefined;
    this.timer?.cancel();
    this.timer = undefined;
    for (const waiter of waiters) waiter();
  }

  /** Publishers held for this queue now, for tests and management. */
  get heldCount(): number {
    return this.waiters?.size ?? 0;
  }
}
