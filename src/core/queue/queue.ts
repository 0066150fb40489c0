import { BrokerError } from '../errors.js';
import type { Message } from '../message/message.js';
import type { Clock, Log, Logger, MetricLabels, Metrics, QueueRecord, TimerHandle } from '../ports.js';
import { QueueFlow, type FlowEvents, type FlowLimits } from '../flow/queue-flow.js';
import { OffsetRangeSet } from './offset-range-set.js';
import type { QueuePolicy } from './queue-policy.js';
import { encodeNumbers, encodeSettled, forEachNumber, isMessageKind, RecordKind } from './queue-records.js';

/** A message of a queue that is in memory: at the head (read ahead), delivered and unacked, or returned. */
export interface QueuedMessage {
  readonly offset: number;
  readonly message: Message;
  readonly bodySize: number;
  readonly enqueuedAt: number;
  /** Absolute expiry time in ms, Infinity when the message never expires. */
  readonly expiresAt: number;
  /** How many times it was handed to a consumer (this delivery included, once delivered). */
  deliveryCount: number;
}

export type DeadLetterReason = 'rejected' | 'expired' | 'maxlen' | 'delivery_limit';

/** What a queue sees of a consumer: the channel layer implements it. */
export interface QueueConsumer {
  readonly tag: string;
  readonly priority: number;
  readonly exclusive: boolean;
  /** Settle at delivery (auto-ack): the queue keeps no unacked entry. */
  readonly noAck: boolean;
  /** False while the consumer's prefetch / credit window is full or its channel is paused. */
  canAccept(): boolean;
  deliver(queue: Queue, item: QueuedMessage, redelivered: boolean): void;
  /** The queue went away (deleted): the consumer is cancelled by the server. */
  cancelledByServer(queue: Queue): void;
}

/** What a queue needs from the broker around it. */
export interface QueueHost {
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly logger: Logger;
  decode(encoded: Uint8Array): Message;
  bodyLength(encoded: Uint8Array): number;
  /** Re-publishes a dead message to the queue's dead-letter exchange (the host adds x-death). */
  deadLetter(queue: Queue, message: Message, reason: DeadLetterReason): void;
  /** The last consumer left (auto-delete) or the queue stayed unused for x-expires. */
  queueUnused(queue: Queue, why: 'auto-delete' | 'expired'): void;
  /** Publisher flow control (see flow/queue-flow.ts). */
  readonly flowLimits: FlowLimits;
  readonly flowEvents: FlowEvents;
}

export type EnqueueOutcome = 'accepted' | 'rejected';

/** Running totals of a queue since it was opened, sampled by management into rates. */
export interface QueueCounters {
  published: number;
  delivered: number;
  acked: number;
}

/** A ready message as a peek shows it: nothing about it changes by being looked at. */
export interface PeekedMessage {
  readonly offset: number;
  readonly message: Message;
  readonly enqueuedAt: number;
  readonly deliveryCount: number;
}

/** Read ahead this many messages from the log: enough to keep consumers busy, small enough to bound memory. */
const READ_AHEAD_MESSAGES = 512;
const READ_AHEAD_BYTES = 4 * 1024 * 1024;
/**
 * Without consumers a queue keeps only a few heads in memory (their expiry and max-length drops need
 * them): thousands of queues waiting for offline consumers hold their backlogs on disk, not in memory.
 */
const IDLE_READ_AHEAD_MESSAGES = 16;
const IDLE_READ_AHEAD_BYTES = 64 * 1024;
/** A pull (basic.get, an HTTP fetch) reads this many at a time when the head is not in memory. */
const PULL_READ_MESSAGES = 64;
/** Taken slots at the buffer's front that are cut off in one go (see `takeHead`). */
const BUFFER_COMPACT_AT = 1024;
/** A drained queue's log is truncated this long after the last settlement, not at every one. */
const IDLE_TRUNCATE_MS = 1000;
/** Deliveries in one pump pass before yielding to the event loop. */
const DELIVERIES_PER_PASS = 1024;
/** Ask the log to delete settled segments once the settled head moved this far (cheap when nothing is freed). */
const TRUNCATE_EVERY_RECORDS = 256;

/**
 * A queue: FIFO store where each message goes to one consumer at a time.
 *
 * Messages live in the queue's log; memory holds only a bounded read-ahead window of the head, the
 * messages out with consumers (unacked) and those returned to the queue. Settlement (ack, dead-letter,
 * drop, purge) and deliveries are recorded in the same log, coalesced to one record each per event-loop
 * turn, so a restart recovers the queue from one scan.
 */
export class Queue {
  readonly record: QueueRecord;
  readonly policy: QueuePolicy;
  /** The connection that owns an exclusive queue. */
  readonly owner: object | undefined;
  /** Bumped in place on the hot paths (no allocation); read by management's rate sampler. */
  readonly counters: QueueCounters = { published: 0, delivered: 0, acked: 0 };
  /** What publishers feeding this queue hold back on while it is congested (see `pressesPublishers`). */
  readonly flow: QueueFlow;

  private readonly log: Log;
  private readonly host: QueueHost;
  /** Metric labels, made once: deliveries and acks must not allocate them per message. */
  private readonly labels: MetricLabels;
  private readonly deadLetterLabelsByReason = new Map<DeadLetterReason, MetricLabels>();
  private readonly settled = new OffsetRangeSet();
  /** Delivery counts of unsettled messages recovered from the log but not yet read back. */
  private readonly recoveredDeliveries = new Map<number, number>();
  /** Next log offset to read into the head buffer. */
  private cursor: number;
  /**
   * Messages read ahead, in offset order, never delivered since (re)start; those before `bufferHead` are
   * taken (their slots cleared, and compacted away now and then, see `takeHead`).
   */
  private buffer: (QueuedMessage | undefined)[] = [];
  private bufferHead = 0;
  private bufferedBytes = 0;
  /** Messages that went back to the queue, in offset order; they precede everything in `buffer`. */
  private returned: QueuedMessage[] = [];
  private readonly unacked = new Map<number, QueuedMessage>();
  private consumers: QueueConsumer[] = [];
  private roundRobin = 0;
  private ready = 0;
  private readyBytesTotal = 0;
  /** Heads dropped for max-length while not yet in memory: dropped as soon as they are read. */
  private pendingHeadDrops = 0;
  /** The read from the log in flight, if any; one at a time keeps the head buffer in offset order. */
  private loading: Promise<void> | undefined;
  /** Bumped by purge and delete so reads started before them are discarded. */
  private generation = 0;
  private idleTruncationTimer: TimerHandle | undefined;
  /** Bumped when the read-ahead is given back (the last consumer left): a read in flight then keeps nothing. */
  private readEpoch = 0;
  private pumping = false;
  private pumpAgain = false;
  private yieldedPump = false;
  private pendingSettled: number[] = [];
  private pendingDelivered: number[] = [];
  private stateFlushScheduled = false;
  private lastTruncatedAt = 0;
  /** Segment deletion in progress; close waits for it, so no deletion runs on after the log is closed (or reopened). */
  private truncation: Promise<void> | undefined;
  private expiryTimer: TimerHandle | undefined;
  private expiryTimerAt = Infinity;
  private unusedTimer: TimerHandle | undefined;
  private hadConsumer = false;
  /** Broker shutdown: no more deliveries, expiries or dead-lettering; returned messages just stay. */
  private stopping = false;
  private closed = false;
  /** Pulls waiting for a ready message (long polls); made on first use, so queues nobody polls allocate nothing. */
  private readyWaiters: Set<() => void> | undefined;

  private constructor(record: QueueRecord, policy: QueuePolicy, log: Log, host: QueueHost, owner: object | undefined) {
    this.record = record;
    this.policy = policy;
    this.log = log;
    this.host = host;
    this.owner = owner;
    this.labels = { queue: record.name };
    this.flow = new QueueFlow(record.name, host.clock, host.flowLimits, host.flowEvents);
    this.cursor = log.startOffset;
    this.lastTruncatedAt = log.startOffset;
  }

  /** Opens a queue over its log, recovering messages, settlement and delivery counts from it. */
  static async open(
    record: QueueRecord,
    policy: QueuePolicy,
    log: Log,
    host: QueueHost,
    owner?: object,
  ): Promise<Queue> {
    const queue = new Queue(record, policy, log, host, owner);
    await queue.recover();
    queue.armUnusedTimer();
    queue.pump();
    return queue;
  }

  get name(): string {
    return this.record.name;
  }

  get durable(): boolean {
    return this.record.durable;
  }

  /** Messages ready for delivery (not out with a consumer). */
  get messageCount(): number {
    return this.ready;
  }

  get readyBytes(): number {
    return this.readyBytesTotal;
  }

  /**
   * Messages held in process memory (read ahead, returned, or out with consumers), RabbitMQ's
   * `messages_ram`: the rest of the backlog is only in the log.
   */
  get messagesInMemory(): number {
    return this.buffer.length - this.bufferHead + this.returned.length + this.unacked.size;
  }

  get unackedCount(): number {
    return this.unacked.size;
  }

  get consumerCount(): number {
    return this.consumers.length;
  }

  get storedBytes(): number {
    return this.log.sizeBytes;
  }

  /** What the queue's log keeps in process memory (all of it for a transient queue not spilled to disk). */
  get memoryBytes(): number {
    return this.log.memoryBytes;
  }

  listConsumers(): readonly QueueConsumer[] {
    return this.consumers;
  }

  /** The consumer that gets the messages of a single-active-consumer queue. */
  get activeConsumer(): QueueConsumer | undefined {
    return this.policy.singleActiveConsumer ? this.consumers[0] : undefined;
  }

  // -------------------------------------------------------------------------------------------------
  // Publishing

  /**
   * Appends a message. `persistent` messages of a durable queue survive restarts; the caller awaits
   * `flush()` before confirming them. Returns 'rejected' when an overflow policy refuses it.
   */
  enqueue(message: Message, encoded: Uint8Array, persistent: boolean): EnqueueOutcome {
    this.assertOpen();
    const bodySize = message.body.byteLength;
    if (this.policy.overflow !== 'drop-head' && this.wouldOverflow(bodySize)) {
      if (this.policy.overflow === 'reject-publish-dlx') this.host.deadLetter(this, message, 'maxlen');
      this.host.metrics.count('courier_queue_rejected_total', 1, this.labels);
      return 'rejected';
    }
    const now = this.host.clock.now();
    const kind = persistent && this.record.durable ? RecordKind.persistentMessage : RecordKind.transientMessage;
    const offset = this.log.append(kind, now, encoded);
    this.ready += 1;
    this.readyBytesTotal += bodySize;
    this.counters.published += 1;
    if (!this.loading && this.cursor === offset && this.bufferHasRoom()) {
      // The head buffer has caught up with the log: keep the message instead of reading it back.
      this.cursor = offset + 1;
      this.pushBuffer(this.makeItem(offset, message, bodySize, now, 0));
    }
    if (this.policy.overflow === 'drop-head') this.dropHeadsOverLimit();
    this.pump();
    return 'accepted';
  }

  /**
   * Hands a message straight to the consumer when nothing would be kept of it: a transient queue with
   * nothing ahead of the message and one consumer that settles at delivery (MQTT QoS 0, AMQP no-ack,
   * STOMP ack:auto) with room. It is then neither encoded nor appended to the log, which is most of what
   * a QoS 0 fan-out costs. Returns false when the message must be enqueued as usual.
   */
  deliverDirect(message: Message): boolean {
    if (this.record.durable || this.closed || this.stopping || this.pumping || this.consumers.length !== 1) return false;
    if (this.ready !== 0 || this.returned.length > 0 || this.bufferHead !== this.buffer.length || this.loading || this.pendingHeadDrops > 0) {
      return false;
    }
    const consumer = this.consumers[0]!;
    if (!consumer.noAck || !consumer.canAccept()) return false;
    const now = this.host.clock.now();
    // No offset: a no-ack delivery is settled as it goes out, so nothing ever refers to one.
    const item = this.makeItem(-1, message, message.body.byteLength, now, 1);
    if (item.expiresAt < now) return false; // expired on arrival: the usual path dead-letters it
    this.counters.published += 1;
    this.counters.delivered += 1;
    this.host.metrics.count('courier_messages_delivered_total', 1, this.labels);
    consumer.deliver(this, item, false);
    return true;
  }

  /**
   * Whether the publisher that just enqueued should hold back on `flow` until it opens: the backlog is
   * past the high mark while consumers are taking messages. Checked after each enqueue.
   */
  get pressesPublishers(): boolean {
    return this.flow.pressing(this.ready, this.readyBytesTotal, this.consumers.length);
  }

  /** Resolves once what was appended so far is durable per the log's fsync policy. */
  flush(): Promise<void> {
    return this.log.flush();
  }

  private wouldOverflow(bodySize: number): boolean {
    const { maxLength, maxLengthBytes } = this.policy;
    if (maxLength !== undefined && this.ready >= maxLength) return true;
    return maxLengthBytes !== undefined && this.readyBytesTotal + bodySize > maxLengthBytes;
  }

  private isOverLimit(): boolean {
    const { maxLength, maxLengthBytes } = this.policy;
    if (maxLength !== undefined && this.ready > maxLength) return true;
    return maxLengthBytes !== undefined && this.readyBytesTotal > maxLengthBytes;
  }

  private dropHeadsOverLimit(): void {
    while (this.ready > 0 && this.isOverLimit()) {
      const head = this.takeHead();
      if (head) {
        this.deadLetterAndSettle(head, 'maxlen');
      } else {
        // The head is still on disk; count it out now so later publishes see the right length.
        this.pendingHeadDrops += 1;
        this.ready -= 1;
        if (this.policy.maxLength === undefined) break; // bytes unknown until read: settle later
      }
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Consumers

  addConsumer(consumer: QueueConsumer): void {
    this.assertOpen();
    const first = this.consumers[0];
    if (first?.exclusive) {
      throw new BrokerError(
        'EXCLUSIVE_CONSUMER',
        `queue '${this.name}' in exclusive use`,
        { queue: this.name },
      );
    }
    if (consumer.exclusive && this.consumers.length > 0) {
      throw new BrokerError(
        'EXCLUSIVE_CONSUMER',
        `cannot obtain exclusive access to queue '${this.name}': it has consumers`,
        { queue: this.name },
      );
    }
    // Higher priority first; equal priorities keep their arrival order (single active consumer relies on it).
    let index = this.consumers.length;
    if (!this.policy.singleActiveConsumer) {
      while (index > 0 && this.consumers[index - 1]!.priority < consumer.priority) index -= 1;
    }
    this.consumers.splice(index, 0, consumer);
    this.hadConsumer = true;
    this.cancelUnusedTimer();
    this.pump();
  }

  removeConsumer(consumer: QueueConsumer): void {
    const index = this.consumers.indexOf(consumer);
    if (index < 0) return;
    this.consumers.splice(index, 1);
    if (this.consumers.length === 0) {
      this.trimReadAhead();
      if (this.record.autoDelete && this.hadConsumer) {
        this.host.queueUnused(this, 'auto-delete');
        return;
      }
      this.armUnusedTimer();
    }
    this.pump();
  }

  /** A declare, get or consume counts as use for x-expires. */
  touch(): void {
    if (this.consumers.length === 0) this.armUnusedTimer();
  }

  private pickConsumer(): QueueConsumer | undefined {
    const consumers = this.consumers;
    if (consumers.length === 0) return undefined;
    if (this.policy.singleActiveConsumer) {
      const active = consumers[0]!;
      return active.canAccept() ? active : undefined;
    }
    // Round-robin within the highest priority that has room.
    let groupStart = 0;
    while (groupStart < consumers.length) {
      const priority = consumers[groupStart]!.priority;
      let groupEnd = groupStart + 1;
      while (groupEnd < consumers.length && consumers[groupEnd]!.priority === priority) groupEnd += 1;
      const size = groupEnd - groupStart;
      for (let i = 0; i < size; i++) {
        const candidate = consumers[groupStart + ((this.roundRobin + i) % size)]!;
        if (candidate.canAccept()) {
          this.roundRobin = (this.roundRobin + i + 1) % size;
          return candidate;
        }
      }
      groupStart = groupEnd;
    }
    return undefined;
  }

  /**
   * Delivers ready messages to consumers with room, expires dead heads, and keeps the read-ahead filled.
   * Re-entrant calls (a consumer acking inside its delivery callback) are folded into the running pass.
   */
  pump(): void {
    if (this.closed || this.stopping) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        this.dropPendingHeads();
        // A head dropped for max-length-bytes while on disk had an unknown size: check the limit again.
        if (this.policy.overflow === 'drop-head' && this.pendingHeadDrops === 0 && this.isOverLimit()) {
          this.dropHeadsOverLimit();
        }
        // Read only once a head with an expiry needs it: most messages have none, and pump runs per publish.
        let now = -1;
        let delivered = 0;
        for (;;) {
          if (delivered >= DELIVERIES_PER_PASS) {
            // Yield to the event loop: a consumer that requeues synchronously, or a deep backlog with
            // fast consumers, must not starve every other client.
            this.scheduleYieldedPump();
            break;
          }
          const head = this.peekHead();
          if (!head) break;
          if (head.expiresAt !== Infinity && now < 0) now = this.host.clock.now();
          if (head.expiresAt < now) {
            this.takeHead();
            this.deadLetterAndSettle(head, 'expired');
            continue;
          }
          const consumer = this.pickConsumer();
          if (!consumer) {
            // A message at its expiry instant that no consumer takes now is expired: a TTL of 0 means
            // "deliver immediately or never", as in RabbitMQ, however fast the next consumer comes.
            if (head.expiresAt <= now) {
              this.takeHead();
              this.deadLetterAndSettle(head, 'expired');
              continue;
            }
            break;
          }
          this.takeHead();
          this.deliverTo(consumer, head);
          delivered += 1;
        }
      } while (this.pumpAgain && !this.yieldedPump);
    } finally {
      this.pumping = false;
    }
    this.readAhead();
    this.armExpiryTimer();
    if (this.readyWaiters !== undefined && this.ready > 0) this.wakeReadyWaiters();
    this.flow.relieve(this.ready, this.readyBytesTotal, this.consumers.length);
  }

  /**
   * Calls `waiter` once: after a pump that leaves messages ready (no consumer took them), or when the
   * queue closes. Returns the function that stops waiting. Pull-style long polls (HTTP `wait=`) use it
   * instead of polling; register before pulling, so a message arriving in between is not missed.
   */
  whenReady(waiter: () => void): () => void {
    (this.readyWaiters ??= new Set()).add(waiter);
    return () => {
      this.readyWaiters?.delete(waiter);
    };
  }

  /** Waiters registered by `whenReady` and not yet called or cancelled. */
  get readyWaiterCount(): number {
    return this.readyWaiters?.size ?? 0;
  }

  private wakeReadyWaiters(): void {
    const waiters = this.readyWaiters;
    if (waiters === undefined || waiters.size === 0) return;
    this.readyWaiters = undefined;
    for (const waiter of waiters) waiter();
  }

  private deadLetterLabels(reason: DeadLetterReason): MetricLabels {
    let labels = this.deadLetterLabelsByReason.get(reason);
    if (!labels) this.deadLetterLabelsByReason.set(reason, (labels = { queue: this.name, reason }));
    return labels;
  }

  private scheduleYieldedPump(): void {
    if (this.yieldedPump) return;
    this.yieldedPump = true;
    setImmediate(() => {
      this.yieldedPump = false;
      this.pump();
    });
  }

  private deliverTo(consumer: QueueConsumer, item: QueuedMessage): void {
    item.deliveryCount += 1;
    this.recordDelivered(item.offset);
    if (consumer.noAck) this.settle(item.offset);
    else this.unacked.set(item.offset, item);
    this.counters.delivered += 1;
    this.host.metrics.count('courier_messages_delivered_total', 1, this.labels);
    consumer.deliver(this, item, item.deliveryCount > 1);
  }

  /**
   * Takes the head for a basic.get-style pull, reading it from the log when needed. With `noAck` it is
   * settled at once; otherwise it stays unacked until ack / requeue / reject.
   */
  async get(noAck: boolean): Promise<QueuedMessage | undefined> {
    this.assertOpen();
    this.touch();
    for (;;) {
      this.dropPendingHeads();
      const head = this.peekHead();
      if (head) {
        if (head.expiresAt <= this.host.clock.now()) {
          this.takeHead();
          this.deadLetterAndSettle(head, 'expired');
          continue;
        }
        this.takeHead();
        head.deliveryCount += 1;
        this.counters.delivered += 1;
        this.recordDelivered(head.offset);
        if (noAck) this.settle(head.offset);
        else this.unacked.set(head.offset, head);
        this.readAhead();
        return head;
      }
      if (this.ready === 0 || this.cursor >= this.log.endOffset) return undefined;
      await this.loadMore(PULL_READ_MESSAGES);
      if (this.closed) return undefined;
    }
  }

  /**
   * Up to `max` ready messages in delivery order, without delivering or settling anything: returned
   * messages, then the read-ahead, then the log past it (read into a local list, never into the head
   * buffer, so delivery state is untouched). Expired heads not yet dropped are left out.
   */
  async peek(max: number): Promise<PeekedMessage[]> {
    this.assertOpen();
    const now = this.host.clock.now();
    const result: PeekedMessage[] = [];
    const take = (item: QueuedMessage): void => {
      if (item.expiresAt >= now) result.push({ offset: item.offset, message: item.message, enqueuedAt: item.enqueuedAt, deliveryCount: item.deliveryCount });
    };
    for (const item of this.returned) {
      if (result.length >= max) return result;
      take(item);
    }
    for (let i = this.bufferHead; i < this.buffer.length && result.length < max; i++) take(this.buffer[i]!);
    // Heads dropped for max-length while still on disk are the first unread messages: not ready any more.
    let skip = this.pendingHeadDrops;
    let from = this.cursor;
    const generation = this.generation;
    while (result.length < max && from < this.log.endOffset) {
      const records = await this.log.read(from, READ_AHEAD_MESSAGES, READ_AHEAD_BYTES);
      if (records.length === 0 || this.closed || generation !== this.generation) break;
      for (const record of records) {
        from = record.offset + 1;
        if (!isMessageKind(record.kind) || this.settled.has(record.offset)) continue;
        if (skip > 0) {
          skip -= 1;
          continue;
        }
        const message = this.host.decode(record.payload);
        const deliveries = this.recoveredDeliveries.get(record.offset) ?? 0;
        take(this.makeItem(record.offset, message, message.body.byteLength, record.timestamp, deliveries));
        if (result.length >= max) break;
      }
    }
    return result;
  }

  // -------------------------------------------------------------------------------------------------
  // Settlement

  /** Whether this delivery is out with a consumer (unacked). */
  isUnacked(offset: number): boolean {
    return this.unacked.has(offset);
  }

  ack(offset: number): void {
    if (!this.unacked.delete(offset)) return;
    this.settle(offset);
    this.counters.acked += 1;
    this.host.metrics.count('courier_messages_acked_total', 1, this.labels);
    this.pump();
  }

  /** Puts an unacked message back at its place in the queue, or dead-letters it past the delivery limit. */
  requeue(offset: number): void {
    this.requeueMany([offset]);
  }

  /**
   * Puts several unacked messages back before delivering any of them, so the next consumer gets them
   * in queue order (a channel closing or nack-multiple returns a whole window at once).
   */
  requeueMany(offsets: readonly number[]): void {
    const limit = this.stopping ? undefined : this.policy.deliveryLimit;
    for (const offset of offsets) {
      const item = this.unacked.get(offset);
      if (!item) continue;
      this.unacked.delete(offset);
      if (limit !== undefined && item.deliveryCount > limit) {
        this.deadLetterAndSettle(item, 'delivery_limit');
      } else {
        this.insertReturned(item);
        this.ready += 1;
        this.readyBytesTotal += item.bodySize;
      }
    }
    this.pump();
  }

  /**
   * Puts an unacked message back as if it had not been taken: its delivery count goes back down and the
   * delivery limit is not checked. For a reader that took it only to look at it (management's redrive
   * of a message it cannot move), not for a consumer that failed with it. A durable queue's log keeps
   * the record of the delivery, so after a restart the count is one higher.
   */
  release(offset: number): void {
    const item = this.unacked.get(offset);
    if (!item) return;
    this.unacked.delete(offset);
    item.deliveryCount = Math.max(0, item.deliveryCount - 1);
    this.insertReturned(item);
    this.ready += 1;
    this.readyBytesTotal += item.bodySize;
    this.pump();
  }

  /** Rejects without requeue: dead-lettered when the queue has a dead-letter exchange, dropped otherwise. */
  reject(offset: number): void {
    const item = this.unacked.get(offset);
    if (!item) return;
    this.unacked.delete(offset);
    this.deadLetterAndSettle(item, 'rejected');
    this.pump();
  }

  /** Removes every ready message (unacked ones stay). Returns how many were removed. */
  purge(): number {
    this.assertOpen();
    const removed = this.ready;
    this.generation += 1;
    for (const item of this.returned) this.settle(item.offset);
    for (let i = this.bufferHead; i < this.buffer.length; i++) this.settle(this.buffer[i]!.offset);
    this.returned = [];
    this.resetBuffer();
    const end = this.log.endOffset;
    if (this.cursor < end) {
      // Everything not yet read is ready or already settled: settle the whole range in one record.
      this.settled.addRange(this.cursor, end);
      this.appendState(RecordKind.settled, encodeNumbers([this.cursor, end]));
      this.cursor = this.log.endOffset;
    }
    this.ready = 0;
    this.readyBytesTotal = 0;
    this.pendingHeadDrops = 0;
    this.pump();
    return removed;
  }

  private deadLetterAndSettle(item: QueuedMessage, reason: DeadLetterReason): void {
    if (this.policy.deadLetterExchange !== undefined) this.host.deadLetter(this, item.message, reason);
    this.host.metrics.count('courier_messages_dead_lettered_total', 1, this.deadLetterLabels(reason));
    this.settle(item.offset);
  }

  private settle(offset: number): void {
    this.settled.add(offset);
    // Settled records serve recovery only: a transient queue, which a restart loses, needs none (the
    // in-memory set above is what reads and truncation use).
    if (this.record.durable) this.pendingSettled.push(offset);
    this.recoveredDeliveries.delete(offset);
    this.scheduleStateFlush();
  }

  private recordDelivered(offset: number): void {
    if (!this.record.durable) return; // a restart loses transient queues: nothing to recover
    this.pendingDelivered.push(offset);
    this.scheduleStateFlush();
  }

  private scheduleStateFlush(): void {
    if (this.stateFlushScheduled) return;
    this.stateFlushScheduled = true;
    queueMicrotask(() => this.flushState());
  }

  /** Writes the turn's settlements and deliveries as one record each (they ride the next group commit). */
  private flushState(): void {
    this.stateFlushScheduled = false;
    if (this.closed) return;
    if (this.pendingDelivered.length > 0) {
      const delivered = this.pendingDelivered;
      this.pendingDelivered = [];
      this.appendState(RecordKind.delivered, encodeNumbers(delivered));
    }
    if (this.pendingSettled.length > 0) {
      const settled = this.pendingSettled;
      this.pendingSettled = [];
      this.appendState(RecordKind.settled, encodeSettled(settled));
    }
    this.maybeTruncate();
  }

  private appendState(kind: number, payload: Uint8Array): void {
    const offset = this.log.append(kind, this.host.clock.now(), payload);
    this.settled.add(offset);
    if (this.cursor === offset && !this.loading) this.cursor = offset + 1;
  }

  private maybeTruncate(): void {
    if (this.truncation) return; // one at a time; a later state flush tries again
    const target = this.truncationTarget();
    if (target - this.lastTruncatedAt < TRUNCATE_EVERY_RECORDS) {
      // A drained queue gives its log back a little later, not on every message of a trickle.
      if (target > this.lastTruncatedAt && this.ready === 0 && this.unacked.size === 0) this.armIdleTruncation();
      return;
    }
    this.truncate(target);
  }

  /** Never past the last record: the log would roll a fresh segment just to delete the active one. */
  private truncationTarget(): number {
    return Math.min(this.settled.firstAbsentFrom(this.log.startOffset), this.log.endOffset - 1);
  }

  private armIdleTruncation(): void {
    if (this.idleTruncationTimer !== undefined || this.closed) return;
    this.idleTruncationTimer = this.host.clock.setTimer(IDLE_TRUNCATE_MS, () => {
      this.idleTruncationTimer = undefined;
      if (this.closed || this.truncation) return; // a truncation in flight checks again when done
      const target = this.truncationTarget();
      if (target > this.lastTruncatedAt) this.truncate(target);
    });
  }

  private truncate(target: number): void {
    this.lastTruncatedAt = target;
    this.truncation = this.log
      .truncateBefore(target)
      .then(
        () => this.settled.dropBelow(this.log.startOffset),
        (error: unknown) => this.host.logger.error({ queue: this.name, err: error }, 'queue log truncation failed'),
      )
      .finally(() => {
        this.truncation = undefined;
        // Settlements that arrived meanwhile may free more: an idle queue gets no later state flush.
        if (!this.closed) this.maybeTruncate();
      });
  }

  // -------------------------------------------------------------------------------------------------
  // Head of the queue: returned messages first, then the read-ahead buffer, then the log.

  private peekHead(): QueuedMessage | undefined {
    return this.returned[0] ?? this.buffer[this.bufferHead];
  }

  /** Removes the head from memory and from the ready counts. */
  private takeHead(): QueuedMessage | undefined {
    let item: QueuedMessage | undefined;
    if (this.returned.length > 0) {
      item = this.returned.shift();
    } else if (this.bufferHead < this.buffer.length) {
      item = this.buffer[this.bufferHead];
      // A buffer that never runs empty (a steady backlog, topped up as it drains) must not keep every
      // message it ever held: the slot lets go at once, and the taken prefix is cut off now and then.
      this.buffer[this.bufferHead] = undefined;
      this.bufferHead += 1;
      if (item) this.bufferedBytes -= item.bodySize;
      if (this.bufferHead === this.buffer.length) this.resetBuffer();
      else if (this.bufferHead >= BUFFER_COMPACT_AT) this.compactBuffer();
    }
    if (item) {
      this.ready -= 1;
      this.readyBytesTotal -= item.bodySize;
    }
    return item;
  }

  private dropPendingHeads(): void {
    while (this.pendingHeadDrops > 0) {
      const head = this.takeHead();
      if (!head) return;
      // takeHead counted it out again: it was counted out when the drop was decided.
      this.ready += 1;
      this.pendingHeadDrops -= 1;
      this.deadLetterAndSettle(head, 'maxlen');
    }
  }

  private insertReturned(item: QueuedMessage): void {
    const list = this.returned;
    let index = list.length;
    while (index > 0 && list[index - 1]!.offset > item.offset) index -= 1;
    list.splice(index, 0, item);
  }

  private pushBuffer(item: QueuedMessage): void {
    this.buffer.push(item);
    this.bufferedBytes += item.bodySize;
  }

  private compactBuffer(): void {
    this.buffer.splice(0, this.bufferHead);
    this.bufferHead = 0;
  }

  private resetBuffer(): void {
    this.buffer = [];
    this.bufferHead = 0;
    this.bufferedBytes = 0;
  }

  private bufferHasRoom(): boolean {
    const buffered = this.buffer.length - this.bufferHead;
    if (this.consumers.length === 0) return buffered < IDLE_READ_AHEAD_MESSAGES && this.bufferedBytes < IDLE_READ_AHEAD_BYTES;
    return buffered < READ_AHEAD_MESSAGES && this.bufferedBytes < READ_AHEAD_BYTES;
  }

  /**
   * The last consumer left: the read-ahead past the idle limit goes back to the log (it is a copy of what
   * the log holds), to be read again when a consumer comes. Delivery counts recovered at start that rode
   * on the dropped items go back to the map they came from.
   */
  private trimReadAhead(): void {
    const keep = this.bufferHead + IDLE_READ_AHEAD_MESSAGES;
    this.readEpoch += 1;
    if (this.buffer.length <= keep) return;
    const dropped = this.buffer.splice(keep);
    this.cursor = dropped[0]!.offset;
    for (const item of dropped) {
      this.bufferedBytes -= item!.bodySize;
      if (item!.deliveryCount > 0) this.recoveredDeliveries.set(item!.offset, item!.deliveryCount);
    }
  }

  /** Ready messages that are only on disk. */
  private unreadReady(): number {
    return this.ready + this.pendingHeadDrops - this.returned.length - (this.buffer.length - this.bufferHead);
  }

  private readAhead(): void {
    if (this.loading || this.closed || !this.bufferHasRoom()) return;
    if (this.unreadReady() <= 0 || this.cursor >= this.log.endOffset) return;
    this.loadMore().catch((error: unknown) => {
      this.host.logger.error({ queue: this.name, err: error }, 'queue read from log failed');
    });
  }

  private loadMore(maxMessages?: number): Promise<void> {
    const consumed = this.consumers.length > 0;
    const messages = maxMessages ?? (consumed ? READ_AHEAD_MESSAGES : IDLE_READ_AHEAD_MESSAGES);
    this.loading ??= this.readIntoBuffer(messages, consumed ? READ_AHEAD_BYTES : IDLE_READ_AHEAD_BYTES).finally(() => {
      this.loading = undefined;
      // Deliver what arrived and, if more is waiting on disk, start the next read.
      this.pump();
    });
    return this.loading;
  }

  private async readIntoBuffer(maxMessages: number, maxBytes: number): Promise<void> {
    const generation = this.generation;
    const epoch = this.readEpoch;
    const records = await this.log.read(this.cursor, maxMessages, maxBytes);
    if (generation !== this.generation || epoch !== this.readEpoch || this.closed) return;
    for (const record of records) {
      if (record.offset < this.cursor) continue;
      this.cursor = record.offset + 1;
      if (!isMessageKind(record.kind) || this.settled.has(record.offset)) continue;
      const message = this.host.decode(record.payload);
      const deliveries = this.recoveredDeliveries.get(record.offset) ?? 0;
      this.recoveredDeliveries.delete(record.offset);
      this.pushBuffer(this.makeItem(record.offset, message, message.body.byteLength, record.timestamp, deliveries));
    }
    if (records.length === 0) this.cursor = Math.max(this.cursor, this.log.endOffset);
  }

  private makeItem(
    offset: number,
    message: Message,
    bodySize: number,
    enqueuedAt: number,
    deliveryCount: number,
  ): QueuedMessage {
    const queueTtl = this.policy.messageTtlMs;
    const messageTtl = message.properties.expiration;
    let expiresAt = Infinity;
    if (queueTtl !== undefined) expiresAt = enqueuedAt + queueTtl;
    if (messageTtl !== undefined) expiresAt = Math.min(expiresAt, enqueuedAt + messageTtl);
    return { offset, message, bodySize, enqueuedAt, expiresAt, deliveryCount };
  }

  // -------------------------------------------------------------------------------------------------
  // Timers: head expiry, and queue expiry (x-expires)

  private armExpiryTimer(): void {
    const head = this.peekHead();
    const at = head ? head.expiresAt : Infinity;
    if (at === this.expiryTimerAt) return;
    this.expiryTimer?.cancel();
    this.expiryTimer = undefined;
    this.expiryTimerAt = at;
    if (at === Infinity) return;
    const delay = at - this.host.clock.now();
    this.expiryTimer = this.host.clock.setTimer(delay + 1, () => {
      this.expiryTimer = undefined;
      this.expiryTimerAt = Infinity;
      this.pump();
    });
  }

  private armUnusedTimer(): void {
    const expires = this.policy.expiresMs;
    if (expires === undefined || this.closed || this.stopping) return;
    this.cancelUnusedTimer();
    this.unusedTimer = this.host.clock.setTimer(expires, () => {
      this.unusedTimer = undefined;
      if (this.consumers.length === 0 && !this.closed) this.host.queueUnused(this, 'expired');
    });
  }

  private cancelUnusedTimer(): void {
    this.unusedTimer?.cancel();
    this.unusedTimer = undefined;
  }

  // -------------------------------------------------------------------------------------------------
  // Recovery and lifecycle

  private async recover(): Promise<void> {
    const start = this.log.startOffset;
    // Sizes of message records by offset - start (0 = not a message); settles only refer backwards, so
    // the ready set is known only at the end of the scan.
    let sizes = new Float64Array(1024);
    const ensure = (index: number): void => {
      if (index < sizes.length) return;
      let length = sizes.length;
      while (length <= index) length *= 2;
      const grown = new Float64Array(length);
      grown.set(sizes);
      sizes = grown;
    };
    let pairStart = 0;
    let expected = start;
    await this.log.scan(start, (record) => {
      // Offsets the scan skips belong to records the log quarantined (damaged, reported there). Settling
      // them lets the settled head move past them, so the log's older segments can still be deleted.
      if (record.offset > expected) this.settled.addRange(expected, record.offset);
      expected = record.offset + 1;
      const index = record.offset - start;
      switch (record.kind) {
        case RecordKind.persistentMessage:
          ensure(index);
          sizes[index] = this.host.bodyLength(record.payload) + 1;
          break;
        case RecordKind.transientMessage:
          // Transient messages do not survive a restart, even in a durable queue.
          this.settled.add(record.offset);
          break;
        case RecordKind.settled:
          this.settled.add(record.offset);
          forEachNumber(record.payload, (value, i) => {
            if (i % 2 === 0) pairStart = value;
            else this.settled.addRange(pairStart, value);
          });
          break;
        case RecordKind.delivered:
          this.settled.add(record.offset);
          forEachNumber(record.payload, (value) => {
            this.recoveredDeliveries.set(value, (this.recoveredDeliveries.get(value) ?? 0) + 1);
          });
          break;
        default:
          this.host.logger.warn({ queue: this.name, offset: record.offset, kind: record.kind }, 'unknown record kind in queue log');
          this.settled.add(record.offset);
      }
    });
    const end = this.log.endOffset;
    if (end > expected) this.settled.addRange(expected, end);
    for (let offset = start; offset < end; offset++) {
      const size = offset - start < sizes.length ? sizes[offset - start]! : 0;
      if (size === 0 || this.settled.has(offset)) continue;
      this.ready += 1;
      this.readyBytesTotal += size - 1;
    }
    for (const offset of this.recoveredDeliveries.keys()) {
      if (this.settled.has(offset)) this.recoveredDeliveries.delete(offset);
    }
    this.cursor = this.settled.firstAbsentFrom(start);
    this.lastTruncatedAt = start;
  }

  /**
   * First step of a broker shutdown: stop delivering, expiring and dead-lettering, so that consumers
   * leaving and channels returning messages change nothing but the in-memory state.
   */
  quiesce(): void {
    this.stopping = true;
    this.flow.open();
    this.expiryTimer?.cancel();
    this.expiryTimer = undefined;
    this.expiryTimerAt = Infinity;
    this.cancelUnusedTimer();
  }

  /** Stops timers and deliveries and closes the log (flushing it). Unacked messages stay in the log. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flushState();
    this.closed = true;
    this.generation += 1;
    this.wakeReadyWaiters();
    this.flow.open();
    this.expiryTimer?.cancel();
    this.idleTruncationTimer?.cancel();
    this.idleTruncationTimer = undefined;
    this.cancelUnusedTimer();
    await this.truncation;
    await this.log.close();
  }

  /** Cancels consumers (server-side cancel) and stops; the broker removes the log afterwards. */
  async delete(): Promise<number> {
    const count = this.ready;
    const consumers = this.consumers;
    this.consumers = [];
    for (const consumer of consumers) consumer.cancelledByServer(this);
    this.unacked.clear();
    this.pendingSettled = [];
    this.pendingDelivered = [];
    await this.close();
    return count;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private assertOpen(): void {
    if (this.closed) throw new BrokerError('QUEUE_NOT_FOUND', `no queue '${this.name}' in vhost '/'`, { queue: this.name });
  }
}
