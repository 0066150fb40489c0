import type { FlowLimits } from './flow/queue-flow.js';
import type {
  Authorizer,
  Clock,
  FsyncPolicy,
  Logger,
  LogStore,
  MetadataStore,
  Metrics,
} from './ports.js';

export interface BrokerOptions {
  /** Logs of durable queues and of streams. */
  readonly logStore: LogStore;
  /** Logs of transient queues (kept in memory). */
  readonly transientLogStore: LogStore;
  readonly metadataStore: MetadataStore;
  readonly authorizer?: Authorizer;
  readonly clock?: Clock;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
  /** Default fsync policy of durable queues and streams. */
  readonly fsync?: FsyncPolicy;
  readonly segmentBytes?: number;
  /**
   * Bytes transient queues may hold in memory before the memory alarm blocks publishers (DESIGN §4:
   * transient messages stay in memory, bounded). Default 256 MiB.
   */
  readonly transientMemoryLimitBytes?: number;
  /** Per-queue publisher flow control (flow/queue-flow.ts); `maxHoldMs: 0` turns it off. */
  readonly publisherFlow?: FlowLimits;
}
