import type { Broker } from '../core/broker.js';
import { everyInterval } from '../core/clock.js';
import type { Connection } from '../core/connection.js';
import type { TimerHandle } from '../core/ports.js';
import type { Queue } from '../core/queue/queue.js';
import { RateWindow } from './rate-window.js';

/** How often the counters are sampled by default: RabbitMQ's management samples every 5 s too. */
export const DEFAULT_SAMPLE_INTERVAL_MS = 5000;

/**
 * Samples the core's running totals (per queue, per connection, broker-wide) every interval on the
 * broker's clock, so the hot paths only bump integers and the rates are computed here, off them.
 */
export class ManagementSampler {
  /** [publish, deliver, ack] per second. */
  readonly queues = new RateWindow<Queue>();
  /** [publish, deliver] per second. */
  readonly connections = new RateWindow<Connection>();
  /** [publish, deliver, ack] per second, for the whole broker. */
  readonly overall = new RateWindow<Broker>();
  private timer: TimerHandle | undefined;

  constructor(
    private readonly broker: Broker,
    private readonly intervalMs: number = DEFAULT_SAMPLE_INTERVAL_MS,
  ) {}

  start(): void {
    this.sampleNow();
    this.timer = everyInterval(this.broker.clock, this.intervalMs, () => {
      if (this.broker.isClosing) this.stop();
      else this.sampleNow();
    });
  }

  sampleNow(): void {
    const broker = this.broker;
    const now = broker.clock.now();
    this.queues.sample(
      now,
      broker.listQueues().map((queue) => [queue, [queue.counters.published, queue.counters.delivered, queue.counters.acked]] as const),
    );
    this.connections.sample(
      now,
      broker.listConnections().map((connection) => [connection, [connection.counters.published, connection.counters.delivered]] as const),
    );
    const totals = broker.messageTotals();
    this.overall.sample(now, [[broker, [totals.published, totals.delivered, totals.acked]]]);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
