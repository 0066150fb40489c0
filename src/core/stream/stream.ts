import { BrokerError } from '../errors.js';
import type { HeaderTable, Message } from '../message/message.js';
import { noopMetrics, silentLogger } from '../null-ports.js';
import type { Clock, Log, Logger, MetricLabels, Metrics, TimerHandle } from '../ports.js';
import { parseStreamArguments, type StreamSettings } from './stream-arguments.js';
import { StreamReaderImpl, type StreamReader, type StreamReaderHost, type StreamReaderOptions } from './stream-reader.js';
import { STREAM_RECORD_MESSAGE, type MessageCodec } from './stream-records.js';

export interface StreamOptions {
  readonly name: string;
  /** The stream's opened log; the stream owns it from now on and closes it in `close()`. */
  readonly log: Log;
  /** Declaration arguments (`x-max-age`, `x-max-length-bytes`, ...); invalid ones throw INVALID_ARGUMENT. */
  readonly arguments: HeaderTable;
  readonly codec: MessageCodec;
  readonly clock: Clock;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
  /** Committed consumer offsets restored from the metadata snapshot: consumer name -> next offset to read. */
  readonly offsets?: Readonly<Record<string, number>>;
  /** Called on every commit so the broker can persist it (metadata snapshot). */
  readonly onOffsetCommit?: (stream: string, consumer: string, offset: number) => void;
  /** How often max-age retention is evaluated; defaults to a tenth of the max age, within 1 s .. 60 s. */
  readonly retentionIntervalMs?: number;
}

export interface StreamStats {
  readonly name: string;
  /** Oldest retained offset. */
  readonly firstOffset: number;
  /** Newest stored offset, undefined when the stream is empty. */
  readonly lastOffset: number | undefined;
  /** Offset the next message gets. */
  readonly endOffset: number;
  /** Approximate: endOffset - firstOffset (records of other kinds count too). */
  readonly messageCount: number;
  readonly sizeBytes: number;
  readonly readerCount: number;
}

const MAX_CONSUMER_NAME_LENGTH = 255;

/**
 * A stream: an append-only log with retention. Readers read without removing; named consumers commit
 * the offset they will resume from.
 *
 * Retention deletes whole segments from the head, never the segment holding the newest record:
 * - max bytes keeps at least the newest `maxBytes` of records, so the log may exceed the limit by up to
 *   one segment (the segment straddling the limit is kept, as Kafka does);
 * - max age deletes segments whose records are all older than the limit.
 * It runs after appends once enough bytes arrived to possibly free a segment, and on a timer for age.
 */
export class Stream {
  readonly name: string;
  private currentSettings: StreamSettings;
  private readonly log: Log;
  private readonly codec: MessageCodec;
  private readonly clock: Clock;
  private readonly metrics: Metrics;
  private readonly logger: Logger;
  private readonly labels: MetricLabels;
  private readonly offsets: Map<string, number>;
  private readonly onOffsetCommit: ((stream: string, consumer: string, offset: number) => void) | undefined;
  private readonly readers = new Set<StreamReaderImpl>();
  /** Caught-up readers to wake after the next appends; swapped with `waking` to avoid allocation. */
  private waiting = new Set<StreamReaderImpl>();
  private waking = new Set<StreamReaderImpl>();
  private readonly readerHost: StreamReaderHost;
  private retentionCheckBytes = 1;
  private retentionIntervalMs = 60_000;
  private readonly fixedRetentionIntervalMs: number | undefined;
  private retentionTimer: TimerHandle | undefined;
  private retentionRun: Promise<void> | undefined;
  private retentionAgain = false;
  private bytesSinceRetention = 0;
  private appendedMessages = 0;
  private appendedBytes = 0;
  private turnScheduled = false;
  /** Record timestamps never go backwards, so the log's time index stays ordered if the clock steps back. */
  private lastTimestamp = 0;
  private closing: Promise<void> | undefined;

  constructor(options: StreamOptions) {
    this.currentSettings = parseStreamArguments(options.arguments);
    this.fixedRetentionIntervalMs = options.retentionIntervalMs;
    this.name = options.name;
    this.log = options.log;
    this.codec = options.codec;
    this.clock = options.clock;
    this.metrics = options.metrics ?? noopMetrics;
    this.logger = options.logger ?? silentLogger;
    this.labels = { stream: options.name };
    this.offsets = new Map(Object.entries(options.offsets ?? {}));
    this.onOffsetCommit = options.onOffsetCommit;
    this.readerHost = {
      log: this.log,
      codec: this.codec,
      waitForAppend: (reader) => this.waiting.add(reader),
      readerClosed: (reader) => this.readerClosed(reader),
    };
    this.applySettings();
  }

  get settings(): StreamSettings {
    return this.currentSettings;
  }

  /**
   * Applies new retention arguments in place (a topic's retention changed): readers keep reading, and
   * the new limits apply from now on. The segment size applies to segments rolled afterwards only.
   * Throws INVALID_ARGUMENT like the constructor, leaving the old settings in force.
   */
  reconfigure(args: HeaderTable): void {
    this.currentSettings = parseStreamArguments(args);
    this.retentionTimer?.cancel();
    this.retentionTimer = undefined;
    this.applySettings();
  }

  private applySettings(): void {
    // A segment can only become deletable once about a segment's worth of bytes arrived; checking a
    // few times per segment keeps the overshoot small without evaluating per message.
    const granularity = Math.min(this.settings.segmentBytes ?? Infinity, this.settings.maxBytes ?? Infinity, 64 * 1024 * 1024);
    this.retentionCheckBytes = Math.max(1, Math.floor(granularity / 4));
    const maxAge = this.settings.maxAgeMs;
    this.retentionIntervalMs =
      this.fixedRetentionIntervalMs ?? (maxAge === undefined ? 60_000 : Math.min(60_000, Math.max(1000, Math.floor(maxAge / 10))));
    if (maxAge !== undefined) this.armRetentionTimer();
    // A recovered log may already be over its limits.
    if (maxAge !== undefined || this.settings.maxBytes !== undefined) this.requestRetention();
  }

  // -------------------------------------------------------------------------------------------------
  // Writing

  /**
   * Buffers one message and returns its offset. `encoded`, when given, must be `codec.encode(message)`:
   * a message routed to many destinations is encoded once. Call `flush()` before confirming.
   */
  append(message: Message, encoded?: Uint8Array): number {
    if (this.closing) throw new BrokerError('LOG_CLOSED', `stream '${this.name}' is closed`, { stream: this.name });
    const payload = encoded ?? this.codec.encode(message);
    let timestamp = this.clock.now();
    if (timestamp < this.lastTimestamp) timestamp = this.lastTimestamp;
    else this.lastTimestamp = timestamp;
    const offset = this.log.append(STREAM_RECORD_MESSAGE, timestamp, payload);
    this.appendedMessages += 1;
    this.appendedBytes += payload.length;
    this.bytesSinceRetention += payload.length;
    if (!this.turnScheduled) {
      this.turnScheduled = true;
      queueMicrotask(this.afterAppends);
    }
    return offset;
  }

  /** Resolves once every message appended before the call is durable (per the log's fsync policy). */
  flush(): Promise<void> {
    return this.log.flush();
  }

  /** Runs once per event-loop turn with appends: wakes caught-up readers, reports, checks retention. */
  private readonly afterAppends = (): void => {
    this.turnScheduled = false;
    this.metrics.count('courier_stream_appended_messages_total', this.appendedMessages, this.labels);
    this.metrics.count('courier_stream_appended_bytes_total', this.appendedBytes, this.labels);
    this.appendedMessages = 0;
    this.appendedBytes = 0;
    if (this.waiting.size > 0) {
      const woken = this.waiting;
      this.waiting = this.waking;
      this.waking = woken;
      for (const reader of woken) reader.wake();
      woken.clear();
    }
    const maxBytes = this.settings.maxBytes;
    if (maxBytes !== undefined && this.bytesSinceRetention >= this.retentionCheckBytes && this.log.sizeBytes > maxBytes) {
      this.requestRetention();
    }
  };

  // -------------------------------------------------------------------------------------------------
  // Reading

  /** Opens a reader; see `StreamStart` for where it begins. Throws INVALID_ARGUMENT for bad options. */
  openReader(options: StreamReaderOptions): StreamReader {
    this.assertOpen();
    const { start, window } = options;
    if (!(window === Infinity || (Number.isSafeInteger(window) && window >= 0))) {
      throw new BrokerError('INVALID_ARGUMENT', `stream reader window must be an integer >= 0 or Infinity, got ${window}`, {
        argument: 'window',
      });
    }
    checkPositive('readAheadRecords', options.readAheadRecords);
    checkPositive('readAheadBytes', options.readAheadBytes);
    const log = this.log;
    let offset: number | undefined;
    let consumer: string | undefined;
    if (start === 'first') offset = log.startOffset;
    else if (start === 'next') offset = log.endOffset;
    else if (start === 'last') offset = log.endOffset > log.startOffset ? log.endOffset - 1 : log.endOffset;
    else if ('offset' in start) offset = checkOffset('offset', start.offset);
    else if ('consumer' in start) {
      consumer = validateConsumerName(start.consumer);
      offset = this.offsets.get(consumer) ?? log.startOffset;
    } else if (!Number.isFinite(start.timestamp)) {
      throw new BrokerError('INVALID_ARGUMENT', `stream reader start timestamp must be a number of ms, got ${start.timestamp}`, {
        argument: 'timestamp',
      });
    }
    const reader = new StreamReaderImpl(this.readerHost, options, consumer);
    this.readers.add(reader);
    this.metrics.gauge('courier_stream_readers', this.readers.size, this.labels);
    if (offset !== undefined) {
      reader.attach(offset);
    } else if (typeof start === 'object' && 'timestamp' in start) {
      log.offsetForTimestamp(start.timestamp).then(
        (found) => reader.attach(found),
        (error: unknown) => reader.fail(error),
      );
    }
    return reader;
  }

  private readerClosed(reader: StreamReaderImpl): void {
    this.readers.delete(reader);
    this.waiting.delete(reader);
    this.metrics.gauge('courier_stream_readers', this.readers.size, this.labels);
  }

  // -------------------------------------------------------------------------------------------------
  // Consumer offsets

  /**
   * Stores the offset `consumer` resumes from (the next offset to read, i.e. the last processed + 1).
   * Moving it backwards is allowed (a replay). The broker persists it through `onOffsetCommit`.
   */
  commitOffset(consumer: string, offset: number): void {
    this.assertOpen();
    validateConsumerName(consumer);
    checkOffset('offset', offset);
    this.offsets.set(consumer, offset);
    this.onOffsetCommit?.(this.name, consumer, offset);
  }

  committedOffset(consumer: string): number | undefined {
    return this.offsets.get(consumer);
  }

  /** A copy of every committed offset, for the metadata snapshot. */
  committedOffsets(): Record<string, number> {
    return Object.fromEntries(this.offsets);
  }

  // -------------------------------------------------------------------------------------------------
  // Retention

  /** Evaluates retention now; resolves when that evaluation (and any already running) is done. */
  enforceRetention(): Promise<void> {
    this.requestRetention();
    return this.retentionRun ?? Promise.resolve();
  }

  private requestRetention(): void {
    if (this.closing) return;
    if (this.retentionRun) {
      this.retentionAgain = true;
      return;
    }
    this.retentionRun = this.runRetention();
  }

  private async runRetention(): Promise<void> {
    try {
      do {
        this.retentionAgain = false;
        this.bytesSinceRetention = 0;
        try {
          await this.applyRetention();
        } catch (error) {
          this.metrics.count('courier_stream_retention_errors_total', 1, this.labels);
          this.logger.error({ stream: this.name, err: error }, 'stream retention failed');
        }
      } while (this.retentionAgain && !this.closing);
    } finally {
      // Cleared in the same turn as the last check of retentionAgain, so no request falls in between.
      this.retentionRun = undefined;
    }
  }

  private async applyRetention(): Promise<void> {
    const log = this.log;
    const { maxAgeMs, maxBytes } = this.settings;
    let keepFrom = log.startOffset;
    if (maxAgeMs !== undefined) {
      keepFrom = Math.max(keepFrom, await log.offsetForTimestamp(this.clock.now() - maxAgeMs));
    }
    const count = log.endOffset - log.startOffset;
    if (maxBytes !== undefined && log.sizeBytes > maxBytes && count > 0) {
      // The log knows its size, not each record's: estimate with the average record size, rounding
      // down so that no record within the newest maxBytes is deleted.
      const averageBytes = log.sizeBytes / count;
      keepFrom = Math.max(keepFrom, log.startOffset + Math.floor((log.sizeBytes - maxBytes) / averageBytes));
    }
    // Never delete the newest record: the active segment stays, and `last` always has a message.
    keepFrom = Math.min(keepFrom, log.endOffset - 1);
    if (keepFrom <= log.startOffset || this.closing) return;
    const before = log.startOffset;
    await log.truncateBefore(keepFrom);
    const deleted = log.startOffset - before;
    if (deleted > 0) {
      this.metrics.count('courier_stream_retention_deleted_records_total', deleted, this.labels);
      this.metrics.gauge('courier_stream_size_bytes', log.sizeBytes, this.labels);
      this.logger.debug({ stream: this.name, deleted, firstOffset: log.startOffset }, 'stream retention deleted segments');
    }
  }

  private armRetentionTimer(): void {
    this.retentionTimer = this.clock.setTimer(this.retentionIntervalMs, () => {
      if (this.closing) return;
      this.requestRetention();
      this.armRetentionTimer();
    });
  }

  // -------------------------------------------------------------------------------------------------
  // Lifecycle

  stats(): StreamStats {
    const log = this.log;
    return {
      name: this.name,
      firstOffset: log.startOffset,
      lastOffset: log.endOffset > log.startOffset ? log.endOffset - 1 : undefined,
      endOffset: log.endOffset,
      messageCount: log.endOffset - log.startOffset,
      sizeBytes: log.sizeBytes,
      readerCount: this.readers.size,
    };
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Closes every reader, waits for retention in progress, then flushes and closes the log. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.retentionTimer?.cancel();
    this.retentionTimer = undefined;
    for (const reader of [...this.readers]) reader.close();
    await this.retentionRun;
    await this.log.close();
  }

  private assertOpen(): void {
    if (this.closing) throw new BrokerError('LOG_CLOSED', `stream '${this.name}' is closed`, { stream: this.name });
  }
}

function validateConsumerName(consumer: string): string {
  if (typeof consumer !== 'string' || consumer.length === 0 || consumer.length > MAX_CONSUMER_NAME_LENGTH) {
    throw new BrokerError(
      'INVALID_ARGUMENT',
      `stream consumer name must be 1 to ${MAX_CONSUMER_NAME_LENGTH} characters, got ${JSON.stringify(consumer)}`,
      { argument: 'consumer' },
    );
  }
  return consumer;
}

function checkOffset(argument: string, offset: number): number {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new BrokerError('INVALID_ARGUMENT', `stream ${argument} must be an integer >= 0, got ${offset}`, { argument });
  }
  return offset;
}

function checkPositive(argument: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) {
    throw new BrokerError('INVALID_ARGUMENT', `stream reader ${argument} must be a positive integer, got ${value}`, {
      argument,
    });
  }
}
