/**
 * The interfaces the core needs from the outside. Storage, security and observability implement them;
 * the core never imports an implementation. Keep them narrow and free of file-system assumptions so a
 * replicated implementation (e.g. on NATS JetStream) stays possible.
 */
import type { HeaderTable } from './message/message.js';

// ---------------------------------------------------------------------------------------------------
// Log storage: one append-only log per durable queue and per stream.

/**
 * When appended records become durable.
 * - `always`: group commit; every write batch is followed by one fdatasync before `flush()` resolves.
 * - `interval`: fdatasync at most every `intervalMs`; `flush()` resolves after the sync that covers it.
 * - `never`: `flush()` resolves once the batch is handed to the OS (survives a process crash, not a power loss).
 */
export type FsyncPolicy =
  | { readonly mode: 'always' }
  | { readonly mode: 'interval'; readonly intervalMs: number }
  | { readonly mode: 'never' };

export interface LogOptions {
  readonly fsync: FsyncPolicy;
  /** A segment is rolled once it reaches this size. */
  readonly segmentBytes?: number;
}

/** A stored record. `kind` is chosen by the log's user (the core); the log never interprets payloads. */
export interface LogRecord {
  readonly offset: number;
  readonly kind: number;
  /** Milliseconds since the epoch, given at append. */
  readonly timestamp: number;
  readonly payload: Uint8Array;
}

export interface Log {
  readonly name: string;
  /** Lowest offset still stored (records below it were truncated away). */
  readonly startOffset: number;
  /** Offset the next append gets; the log holds offsets [startOffset, endOffset). */
  readonly endOffset: number;
  /** Bytes the log occupies (records and their framing), for max-bytes retention and metrics. */
  readonly sizeBytes: number;
  /**
   * Bytes the log keeps in process memory, bookkeeping included (an estimate): all of a memory log,
   * only the not yet written batches of a file log. The core bounds transient queues by it.
   */
  readonly memoryBytes: number;
  /**
   * Buffers one record and returns its offset at once. Records appended in one event-loop turn are
   * written together with one write and covered by one sync (group commit). The payload is copied, or
   * at least not retained beyond the write, so the caller may reuse it after the call returns.
   * Throws BrokerError LOG_CLOSED after close.
   */
  append(kind: number, timestamp: number, payload: Uint8Array): number;
  /**
   * Resolves once every record appended before this call is durable according to the fsync policy.
   * Many callers in one batch share one promise. Rejects with STORAGE_IO if the write or sync failed.
   */
  flush(): Promise<void>;
  /**
   * Reads records with offsets >= `from`, in order, at most `maxRecords` and about `maxBytes` of payload
   * (at least one record when one exists). Returns [] at the end of the log. Records appended but not yet
   * written are readable too. A `from` below startOffset starts at startOffset. The returned payloads
   * are owned by the caller.
   */
  read(from: number, maxRecords: number, maxBytes: number): Promise<LogRecord[]>;
  /**
   * Visits every record from `from` to the current end, in order, for recovery and index rebuilding.
   * The payload passed to `visit` is only valid during that call (it may be a view into a read buffer).
   */
  scan(from: number, visit: (record: LogRecord) => void): Promise<void>;
  /** The first offset whose timestamp is >= `timestamp`, or endOffset when there is none. */
  offsetForTimestamp(timestamp: number): Promise<number>;
  /**
   * Deletes whole segments whose records all lie below `offset`. startOffset becomes the base of the
   * first kept segment, so it may stay below `offset`.
   */
  truncateBefore(offset: number): Promise<void>;
  /** Flushes (per the policy, and always writes) what is buffered, then releases the files. */
  close(): Promise<void>;
}

/** Damage found in a log, reported through the store's `onCorruption` option (log line and metric). */
export interface CorruptionReport {
  readonly log: string;
  /** Segment or file concerned, for the operator. */
  readonly location: string;
  readonly offset: number | undefined;
  readonly reason: string;
  /** What the store did about it: truncated a torn tail, or quarantined a damaged range. */
  readonly action: 'truncated' | 'quarantined';
  readonly bytes: number;
}

export interface LogStore {
  /** Opens (creating when missing) the log with this name and recovers it. */
  open(name: string, options: LogOptions): Promise<Log>;
  /** Closes (if open) and deletes the log and all its files. Missing logs are ignored. */
  remove(name: string): Promise<void>;
  /** Names of the logs that exist. */
  list(): Promise<string[]>;
  /** Closes every open log. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------
// Metadata: exchanges, queues, bindings, topics, streams and stream consumer offsets.

export interface MetadataSnapshot {
  readonly version: 1;
  readonly exchanges: readonly ExchangeRecord[];
  readonly queues: readonly QueueRecord[];
  readonly streams: readonly StreamRecord[];
  readonly bindings: readonly BindingRecord[];
  readonly topics: readonly TopicRecord[];
  /** Declared services (topology as code). Missing in files written before services existed: none. */
  readonly services?: readonly ServiceRecord[];
  /** stream name -> consumer name -> next offset to read */
  readonly streamOffsets: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export type ExchangeType = 'direct' | 'fanout' | 'topic' | 'headers';

export interface ExchangeRecord {
  readonly name: string;
  readonly type: ExchangeType;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly internal: boolean;
  readonly arguments: HeaderTable;
}

export interface QueueRecord {
  readonly name: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  /** Exclusive queues are never durable in the snapshot sense; kept for completeness. */
  readonly exclusive: boolean;
  readonly arguments: HeaderTable;
}

export interface StreamRecord {
  readonly name: string;
  readonly arguments: HeaderTable;
}

export type BindingDestinationKind = 'queue' | 'exchange' | 'stream';

export interface BindingRecord {
  readonly source: string;
  readonly destination: string;
  readonly destinationKind: BindingDestinationKind;
  readonly routingKey: string;
  readonly arguments: HeaderTable;
}

export interface TopicRecord {
  readonly name: string;
  readonly displayName: string;
  readonly description: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Retention of the topic's stream, when it keeps history. */
  readonly retention?: { readonly maxAgeMs?: number; readonly maxBytes?: number };
}

/** A service of the system and the topics it produces and consumes (documentation and topology; routes nothing). */
export interface ServiceRecord {
  readonly name: string;
  readonly displayName?: string;
  readonly description?: string;
  /** Topic names, sorted, without duplicates. */
  readonly produces: readonly string[];
  readonly consumes: readonly string[];
}

export function emptySnapshot(): MetadataSnapshot {
  return { version: 1, exchanges: [], queues: [], streams: [], bindings: [], topics: [], streamOffsets: {} };
}

export interface MetadataStore {
  /**
   * Loads the last saved snapshot, or an empty one when none was ever saved.
   * Throws BrokerError METADATA_CORRUPT when the stored data is damaged: never an empty broker instead.
   */
  load(): Promise<MetadataSnapshot>;
  /** Replaces the snapshot atomically; durable when the promise resolves. Concurrent saves are serialized. */
  save(snapshot: MetadataSnapshot): Promise<void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------
// Security

export interface Principal {
  readonly username: string;
  readonly tags: readonly string[];
}

export type Permission = 'configure' | 'write' | 'read';

export interface ResourceRef {
  readonly kind: 'exchange' | 'queue' | 'stream' | 'topic' | 'service';
  readonly name: string;
  /** For write to a topic exchange and read (bind) checks: the routing key involved. */
  readonly routingKey?: string;
}

/** Decides configure / write / read on a resource (RabbitMQ's model). Called on every operation: keep it fast. */
export interface Authorizer {
  authorize(principal: Principal, permission: Permission, resource: ResourceRef): boolean;
}

export interface Credentials {
  readonly mechanism: 'PLAIN' | 'AMQPLAIN' | 'ANONYMOUS' | 'EXTERNAL';
  readonly username: string;
  readonly password: string;
  readonly remoteAddress: string;
  readonly protocol: string;
}

export interface Authenticator {
  /** Resolves the principal or rejects with BrokerError AUTHENTICATION_FAILED. */
  authenticate(credentials: Credentials): Promise<Principal>;
}

// ---------------------------------------------------------------------------------------------------
// Time and observation

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `callback` once after `delayMs`; timers must not keep the process alive. */
  setTimer(delayMs: number, callback: () => void): TimerHandle;
}

export type MetricLabels = Readonly<Record<string, string>>;

/** What the core reports. Implementations aggregate (Prometheus); the default does nothing. */
export interface Metrics {
  /** Adds `value` (default 1) to a monotonically increasing counter. */
  count(name: string, value?: number, labels?: MetricLabels): void;
  /** Sets a gauge. */
  gauge(name: string, value: number, labels?: MetricLabels): void;
  /** Records one observation in a histogram (durations in seconds). */
  observe(name: string, value: number, labels?: MetricLabels): void;
}

/** Structured logging, pino-compatible: fields first, then the message. */
export interface Logger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}
