import { BrokerError, isBrokerError } from '../errors.js';
import type { Log, LogRecord } from '../ports.js';
import { STREAM_RECORD_MESSAGE, type MessageCodec, type StreamDelivery } from './stream-records.js';

/**
 * Where a reader starts.
 * - `first`: the oldest retained message.
 * - `last`: the newest stored message (RabbitMQ starts at the last chunk; our chunk is one record).
 * - `next`: only messages appended after the reader attached.
 * - `{ offset }`: that offset; below the retained range it starts at the oldest retained message, past
 *   the end it behaves as `next`.
 * - `{ timestamp }`: the first message stored at or after that time (ms since the epoch); `next` when none.
 * - `{ consumer }`: the offset committed for that consumer name, or `first` when none was committed.
 */
export type StreamStart =
  | 'first'
  | 'last'
  | 'next'
  | { readonly offset: number }
  | { readonly timestamp: number }
  | { readonly consumer: string };

export interface StreamReaderOptions {
  readonly start: StreamStart;
  /**
   * How many messages may be pushed before the owner grants more with `credit(n)` (a prefetch owner
   * grants one per acknowledgement). `Infinity` for no limit.
   */
  readonly window: number;
  /** Called synchronously for each message, in offset order. */
  readonly onMessage: (delivery: StreamDelivery) => void;
  /** The reader failed (a read error or an undecodable record) and is now closed. */
  readonly onError?: (error: BrokerError) => void;
  /** Bounds of one read-ahead batch from the log: what a reader holds in memory at most. */
  readonly readAheadRecords?: number;
  readonly readAheadBytes?: number;
}

export interface StreamReader {
  /** The consumer name it resumed for, when it started with `{ consumer }`. */
  readonly consumer: string | undefined;
  /** Offset of the next record it will look at; undefined while a timestamp start is being resolved. */
  readonly position: number | undefined;
  /** Messages it may still push before more credit is granted. */
  readonly availableCredit: number;
  readonly closed: boolean;
  /** Resolves once the start position is known (at once, except for a timestamp start). */
  readonly attached: Promise<void>;
  /** Grants `count` more messages (a positive integer). */
  credit(count: number): void;
  close(): void;
}

/** What a reader needs from its stream. */
export interface StreamReaderHost {
  readonly log: Log;
  readonly codec: MessageCodec;
  /** The reader has caught up: call `wake()` after the next append. */
  waitForAppend(reader: StreamReaderImpl): void;
  readerClosed(reader: StreamReaderImpl): void;
}

const DEFAULT_READ_AHEAD_RECORDS = 256;
const DEFAULT_READ_AHEAD_BYTES = 1024 * 1024;
const NO_RECORDS: LogRecord[] = [];

type ReaderState = 'resolving' | 'open' | 'closed';

/**
 * Pushes a stream's messages to one owner without removing them. It reads bounded batches from the log
 * (never the whole backlog) and, once caught up, waits to be woken by the next append: no polling.
 */
export class StreamReaderImpl implements StreamReader {
  readonly consumer: string | undefined;
  readonly attached: Promise<void>;
  private readonly host: StreamReaderHost;
  private readonly onMessage: (delivery: StreamDelivery) => void;
  private readonly onError: ((error: BrokerError) => void) | undefined;
  private readonly readAheadRecords: number;
  private readonly readAheadBytes: number;
  private state: ReaderState = 'resolving';
  private next = 0;
  private creditLeft: number;
  private buffer: LogRecord[] = NO_RECORDS;
  private bufferIndex = 0;
  private reading = false;
  private waiting = false;
  private pumping = false;
  private resolveAttached: () => void = () => {};

  constructor(host: StreamReaderHost, options: StreamReaderOptions, consumer: string | undefined) {
    this.host = host;
    this.consumer = consumer;
    this.onMessage = options.onMessage;
    this.onError = options.onError;
    this.creditLeft = options.window;
    this.readAheadRecords = options.readAheadRecords ?? DEFAULT_READ_AHEAD_RECORDS;
    this.readAheadBytes = options.readAheadBytes ?? DEFAULT_READ_AHEAD_BYTES;
    this.attached = new Promise<void>((resolve) => {
      this.resolveAttached = resolve;
    });
  }

  get position(): number | undefined {
    return this.state === 'resolving' ? undefined : this.next;
  }

  get availableCredit(): number {
    return this.creditLeft;
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Sets the start position, clamped to the retained range (past the end means `next`), and starts pushing. */
  attach(offset: number): void {
    if (this.state !== 'resolving') return;
    const log = this.host.log;
    this.next = Math.min(Math.max(offset, log.startOffset), log.endOffset);
    this.state = 'open';
    this.resolveAttached();
    this.pump();
  }

  credit(count: number): void {
    if (!Number.isSafeInteger(count) || count <= 0) {
      throw new BrokerError('INVALID_ARGUMENT', `stream reader credit must be a positive integer, got ${count}`, {
        argument: 'credit',
      });
    }
    if (this.state === 'closed') return;
    this.creditLeft += count;
    this.pump();
  }

  /** Called by the stream after an append once this reader asked to wait. */
  wake(): void {
    this.waiting = false;
    this.pump();
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.buffer = NO_RECORDS;
    this.bufferIndex = 0;
    this.resolveAttached();
    this.host.readerClosed(this);
  }

  /** Closes the reader and tells its owner why. */
  fail(error: unknown): void {
    if (this.state === 'closed') return;
    this.close();
    const brokerError = isBrokerError(error)
      ? error
      : new BrokerError('INTERNAL', 'stream reader failed', { stream: this.host.log.name }, { cause: error });
    this.onError?.(brokerError);
  }

  private pump(): void {
    // The owner may grant credit or close from inside onMessage: the running loop picks that up.
    if (this.pumping || this.state !== 'open') return;
    this.pumping = true;
    try {
      while (this.creditLeft > 0 && this.state === 'open') {
        if (this.bufferIndex < this.buffer.length) {
          this.deliver(this.buffer[this.bufferIndex++]!);
          continue;
        }
        this.buffer = NO_RECORDS;
        this.bufferIndex = 0;
        if (this.reading || this.waiting) break;
        if (this.next >= this.host.log.endOffset) {
          this.waiting = true;
          this.host.waitForAppend(this);
          break;
        }
        this.readBatch();
        break;
      }
    } finally {
      this.pumping = false;
    }
  }

  private deliver(record: LogRecord): void {
    this.next = record.offset + 1;
    if (record.kind !== STREAM_RECORD_MESSAGE) return;
    let delivery: StreamDelivery;
    try {
      delivery = { offset: record.offset, timestamp: record.timestamp, message: this.host.codec.decode(record.payload) };
    } catch (error) {
      this.fail(
        new BrokerError(
          'STORAGE_CORRUPT',
          `stream '${this.host.log.name}': the message at offset ${record.offset} cannot be decoded`,
          { stream: this.host.log.name, offset: record.offset },
          { cause: error },
        ),
      );
      return;
    }
    this.creditLeft -= 1;
    try {
      this.onMessage(delivery);
    } catch (error) {
      this.fail(error);
    }
  }

  private readBatch(): void {
    this.reading = true;
    const from = this.next;
    this.host.log.read(from, this.readAheadRecords, this.readAheadBytes).then(
      (records) => {
        this.reading = false;
        if (this.state !== 'open') return;
        if (records.length === 0) {
          // Nothing at `from` although the log reported more: retention moved the start past it, or
          // the records are not readable yet. Either way the next append wakes the reader.
          const log = this.host.log;
          if (from < log.startOffset) this.next = log.startOffset;
          else this.waiting = true;
          if (this.waiting) this.host.waitForAppend(this);
          else this.pump();
          return;
        }
        this.buffer = records;
        this.bufferIndex = 0;
        this.pump();
      },
      (error: unknown) => {
        this.reading = false;
        if (this.state !== 'open') return;
        const log = this.host.log;
        // Retention deleted the segment under this read: continue from the new start.
        if (isBrokerError(error, 'OFFSET_OUT_OF_RANGE') && from < log.startOffset) {
          this.next = log.startOffset;
          this.pump();
          return;
        }
        this.fail(error);
      },
    );
  }
}
