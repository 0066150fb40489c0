import { BrokerError } from './errors.js';
import type { Message } from './message/message.js';
import type { Queue, QueueConsumer, QueuedMessage } from './queue/queue.js';
import type { StreamReader, StreamStart } from './stream/stream-reader.js';
import type { Stream } from './stream/stream.js';

/** One message handed to a consumer (or to a basic.get-style pull). */
export interface Delivery {
  /** Channel-scoped, increasing; used to ack / nack / reject. 0 for no-ack pulls is never used: tags start at 1. */
  readonly deliveryTag: number;
  readonly consumerTag: string | undefined;
  readonly queue: string;
  readonly message: Message;
  readonly redelivered: boolean;
  readonly deliveryCount: number;
  /** Stream deliveries: the message's offset in the stream. */
  readonly streamOffset?: number;
}

export interface ConsumeOptions {
  /** Empty or missing: the broker makes one (`amq.ctag-...`). */
  readonly consumerTag?: string;
  readonly noAck?: boolean;
  readonly exclusive?: boolean;
  /** Higher priority consumers get messages first while they have room (`x-priority`). */
  readonly priority?: number;
  /** Unacked deliveries this consumer may hold; 0 = unlimited. Defaults to the channel's per-consumer prefetch. */
  readonly prefetch?: number;
}

export interface ConsumerCallbacks {
  deliver(delivery: Delivery): void;
  /** The server cancelled the consumer (its queue was deleted). */
  cancelled?(consumerTag: string): void;
}

export interface StreamConsumeOptions {
  readonly consumerTag?: string;
  /** Where to start (`x-stream-offset`); a named `{ consumer }` resumes from its committed offset. */
  readonly start: StreamStart;
  /** Deliveries in flight before acks grant more; streams need a window (RabbitMQ requires a prefetch). */
  readonly prefetch: number;
  readonly noAck?: boolean;
}

/** A consumer as management lists it. */
export interface ChannelConsumerInfo {
  /** The queue or stream consumed. */
  readonly queue: string;
  readonly tag: string;
  /** Unacked deliveries it may hold (its own window, else the channel's); 0 = unlimited. */
  readonly prefetch: number;
  readonly ackRequired: boolean;
}

/** Where a channel's unacked delivery came from, so ack / nack can settle it. */
interface UnackedDelivery {
  /** Undefined for stream deliveries: acking one only opens its reader's window again. */
  readonly queue: Queue | undefined;
  readonly offset: number;
  readonly consumer: ChannelConsumer | undefined;
  readonly reader: StreamReader | undefined;
}

interface StreamConsumer {
  readonly stream: Stream;
  readonly reader: StreamReader;
  readonly unwatch: () => void;
  readonly prefetch: number;
  readonly noAck: boolean;
}

/** What the channel needs from the broker to resolve queues and report back. */
export interface ChannelHost {
  makeConsumerTag(): string;
  /** Called when a consumer is cancelled on a queue (auto-delete bookkeeping lives in the queue). */
  consumerRemoved(queue: Queue): void;
  /** Calls `onGone` if the stream is deleted; returns the function that stops watching. */
  watchStream(stream: string, onGone: () => void): () => void;
}

class ChannelConsumer implements QueueConsumer {
  unackedCount = 0;
  constructor(
    readonly channel: Channel,
    readonly queue: Queue,
    readonly tag: string,
    readonly priority: number,
    readonly exclusive: boolean,
    readonly noAck: boolean,
    readonly prefetch: number,
    readonly callbacks: ConsumerCallbacks,
  ) {}

  canAccept(): boolean {
    if (this.noAck) return this.channel.isFlowing;
    if (this.prefetch > 0 && this.unackedCount >= this.prefetch) return false;
    return this.channel.hasRoom();
  }

  deliver(queue: Queue, item: QueuedMessage, redelivered: boolean): void {
    this.callbacks.deliver(this.channel.track(queue, item, redelivered, this));
  }

  cancelledByServer(): void {
    this.channel.forgetConsumer(this.tag);
    this.callbacks.cancelled?.(this.tag);
  }
}

/**
 * A channel: the unit that owns consumers and unacked deliveries (AMQP's channel; one per MQTT or
 * STOMP session). Delivery tags are channel-scoped and increase; acks may be cumulative (`multiple`).
 * Closing the channel returns every unacked delivery to its queue, flagged redelivered.
 */
export class Channel {
  private nextDeliveryTag = 1;
  private readonly unacked = new Map<number, UnackedDelivery>();
  private readonly consumers = new Map<string, ChannelConsumer>();
  private readonly streamConsumers = new Map<string, StreamConsumer>();
  private perConsumerPrefetch = 0;
  private channelPrefetch = 0;
  private flowing = true;
  private closed = false;

  constructor(
    private readonly host: ChannelHost,
    readonly id: number,
    /** The owning connection's totals; deliveries are counted here. */
    private readonly counters: { delivered: number } = { delivered: 0 },
  ) {}

  /** Whether a consumer of this channel takes from the queue (flow control never holds a connection for a queue it drains). */
  consumesFrom(queueName: string): boolean {
    for (const consumer of this.consumers.values()) if (consumer.queue.name === queueName) return true;
    return false;
  }

  /** This channel's consumers, for management. */
  listConsumers(): ChannelConsumerInfo[] {
    const list: ChannelConsumerInfo[] = [];
    for (const consumer of this.consumers.values()) {
      list.push({ queue: consumer.queue.name, tag: consumer.tag, prefetch: consumer.prefetch || this.channelPrefetch, ackRequired: !consumer.noAck });
    }
    for (const [tag, consumer] of this.streamConsumers) {
      list.push({ queue: consumer.stream.name, tag, prefetch: consumer.prefetch, ackRequired: !consumer.noAck });
    }
    return list;
  }

  get isFlowing(): boolean {
    return this.flowing && !this.closed;
  }

  get unackedCount(): number {
    return this.unacked.size;
  }

  get consumerCount(): number {
    return this.consumers.size + this.streamConsumers.size;
  }

  /** `basic.qos`: per consumer (applies to consumers created afterwards) or shared by the channel. */
  setPrefetch(count: number, global: boolean): void {
    if (!Number.isInteger(count) || count < 0 || count > 65535) {
      throw new BrokerError('INVALID_ARGUMENT', `prefetch count must be 0..65535, got ${count}`);
    }
    if (global) this.channelPrefetch = count;
    else this.perConsumerPrefetch = count;
    this.pumpConsumedQueues();
  }

  /** `channel.flow`: pause or resume deliveries to this channel's consumers. */
  setFlow(active: boolean): void {
    this.flowing = active;
    if (active) this.pumpConsumedQueues();
  }

  hasRoom(): boolean {
    if (!this.flowing || this.closed) return false;
    return this.channelPrefetch === 0 || this.unacked.size < this.channelPrefetch;
  }

  consume(queue: Queue, options: ConsumeOptions, callbacks: ConsumerCallbacks): string {
    this.assertOpen();
    const tag = this.newConsumerTag(options.consumerTag);
    const consumer = new ChannelConsumer(
      this,
      queue,
      tag,
      options.priority ?? 0,
      options.exclusive ?? false,
      options.noAck ?? false,
      options.prefetch ?? this.perConsumerPrefetch,
      callbacks,
    );
    this.consumers.set(tag, consumer);
    try {
      queue.addConsumer(consumer);
    } catch (error) {
      this.consumers.delete(tag);
      throw error;
    }
    return tag;
  }

  private newConsumerTag(requested: string | undefined): string {
    const tag = requested || this.host.makeConsumerTag();
    if (this.consumers.has(tag) || this.streamConsumers.has(tag)) {
      throw new BrokerError('CONSUMER_TAG_IN_USE', `attempt to reuse consumer tag '${tag}'`, { consumerTag: tag });
    }
    return tag;
  }

  /**
   * Reads a stream from `start`, pushing at most `prefetch` unacked deliveries; each ack (or nack) opens
   * the window by one. Messages stay in the stream: acks only move the reader on.
   */
  consumeStream(stream: Stream, options: StreamConsumeOptions, callbacks: ConsumerCallbacks): string {
    this.assertOpen();
    if (!options.noAck && !(Number.isInteger(options.prefetch) && options.prefetch > 0)) {
      throw new BrokerError('INVALID_ARGUMENT', 'consuming a stream needs a prefetch count (basic.qos) above 0');
    }
    const tag = this.newConsumerTag(options.consumerTag);
    // The reader is needed inside its own callback; a holder avoids depending on when the first push happens.
    const holder: { reader?: StreamReader } = {};
    const reader = stream.openReader({
      start: options.start,
      window: options.noAck ? Infinity : options.prefetch,
      onMessage: (delivery) => {
        const deliveryTag = this.nextDeliveryTag++;
        this.counters.delivered += 1;
        if (!options.noAck && holder.reader) {
          this.unacked.set(deliveryTag, { queue: undefined, offset: delivery.offset, consumer: undefined, reader: holder.reader });
        }
        callbacks.deliver({
          deliveryTag,
          consumerTag: tag,
          queue: stream.name,
          message: delivery.message,
          redelivered: false,
          deliveryCount: 1,
          streamOffset: delivery.offset,
        });
      },
      onError: () => {
        const consumer = this.streamConsumers.get(tag);
        if (!consumer) return;
        this.streamConsumers.delete(tag);
        consumer.unwatch();
        callbacks.cancelled?.(tag);
      },
    });
    holder.reader = reader;
    const unwatch = this.host.watchStream(stream.name, () => {
      // The stream was deleted: a server-side cancel, as for a deleted queue.
      if (this.streamConsumers.delete(tag)) callbacks.cancelled?.(tag);
    });
    this.streamConsumers.set(tag, { stream, reader, unwatch, prefetch: options.noAck ? 0 : options.prefetch, noAck: options.noAck ?? false });
    return tag;
  }

  /** Cancels a consumer; its unacked deliveries stay on the channel and can still be acked. */
  cancel(consumerTag: string): boolean {
    const streamConsumer = this.streamConsumers.get(consumerTag);
    if (streamConsumer) {
      this.streamConsumers.delete(consumerTag);
      streamConsumer.unwatch();
      streamConsumer.reader.close();
      return true;
    }
    const consumer = this.consumers.get(consumerTag);
    if (!consumer) return false;
    this.consumers.delete(consumerTag);
    consumer.queue.removeConsumer(consumer);
    this.host.consumerRemoved(consumer.queue);
    return true;
  }

  /** Pulls one message (`basic.get`). */
  async get(queue: Queue, noAck: boolean): Promise<Delivery | undefined> {
    this.assertOpen();
    const item = await queue.get(noAck);
    if (!item) return undefined;
    if (this.closed) {
      // The channel closed while the message was being read: it goes back (an auto-acked one is gone,
      // as it would be had the reply been lost on the wire).
      if (!noAck) queue.requeue(item.offset);
      return undefined;
    }
    if (noAck) {
      // Tags stay increasing and non-zero even for auto-acked gets (AMQP's get-ok carries one).
      return this.makeDelivery(this.nextDeliveryTag++, undefined, queue, item, item.deliveryCount > 1);
    }
    return this.track(queue, item, item.deliveryCount > 1, undefined);
  }

  /** Registers a delivery as unacked (unless no-ack) and builds what the consumer receives. */
  track(queue: Queue, item: QueuedMessage, redelivered: boolean, consumer: ChannelConsumer | undefined): Delivery {
    const tag = this.nextDeliveryTag++;
    const noAck = consumer?.noAck ?? false;
    if (!noAck) {
      this.unacked.set(tag, { queue, offset: item.offset, consumer, reader: undefined });
      if (consumer) consumer.unackedCount += 1;
    }
    return this.makeDelivery(tag, consumer?.tag, queue, item, redelivered);
  }

  private makeDelivery(
    deliveryTag: number,
    consumerTag: string | undefined,
    queue: Queue,
    item: QueuedMessage,
    redelivered: boolean,
  ): Delivery {
    this.counters.delivered += 1;
    return {
      deliveryTag,
      consumerTag,
      queue: queue.name,
      message: item.message,
      redelivered,
      deliveryCount: item.deliveryCount,
    };
  }

  ack(deliveryTag: number, multiple = false): void {
    this.settle(deliveryTag, multiple, (queue, offset) => queue.ack(offset));
  }

  /** `basic.nack` / `basic.reject`: requeue, or dead-letter (or drop) when `requeue` is false. */
  nack(deliveryTag: number, multiple = false, requeue = true): void {
    if (requeue && multiple) {
      this.assertOpen();
      if (deliveryTag !== 0 && !this.unacked.has(deliveryTag)) throw this.unknownTag(deliveryTag);
      this.returnEntries((tag) => deliveryTag === 0 || tag <= deliveryTag);
      this.afterSettle();
      return;
    }
    this.settle(deliveryTag, multiple, (queue, offset) => (requeue ? queue.requeue(offset) : queue.reject(offset)));
  }

  /** Returns a delivery to its queue uncounted (see `Queue.release`): it was only looked at. */
  release(deliveryTag: number): void {
    this.settle(deliveryTag, false, (queue, offset) => queue.release(offset));
  }

  /** `basic.recover`: every unacked delivery goes back to its queue (requeue=true semantics). */
  recover(): void {
    this.returnAll();
  }

  /**
   * Settles one tag, or with `multiple` every tag up to it (0 with multiple = all). An unknown tag is
   * an error (AMQP 406 PRECONDITION_FAILED): it is never silently ignored.
   */
  private settle(deliveryTag: number, multiple: boolean, action: (queue: Queue, offset: number) => void): void {
    this.assertOpen();
    if (multiple) {
      if (deliveryTag !== 0 && !this.unacked.has(deliveryTag)) throw this.unknownTag(deliveryTag);
      const settled: UnackedDelivery[] = [];
      for (const [tag, entry] of this.unacked) {
        if (deliveryTag !== 0 && tag > deliveryTag) break;
        this.unacked.delete(tag);
        settled.push(entry);
      }
      for (const entry of settled) this.finish(entry, action);
      this.afterSettle();
      return;
    }
    const entry = this.unacked.get(deliveryTag);
    if (!entry) throw this.unknownTag(deliveryTag);
    this.unacked.delete(deliveryTag);
    this.finish(entry, action);
    this.afterSettle();
  }

  private finish(entry: UnackedDelivery, action: (queue: Queue, offset: number) => void): void {
    if (entry.reader) {
      if (!entry.reader.closed) entry.reader.credit(1);
      return;
    }
    if (entry.consumer) entry.consumer.unackedCount -= 1;
    if (entry.queue && !entry.queue.isClosed) action(entry.queue, entry.offset);
  }

  private afterSettle(): void {
    // With a channel-wide window, room freed here may let any of the channel's consumers go on.
    if (this.channelPrefetch > 0) this.pumpConsumedQueues();
  }

  private unknownTag(deliveryTag: number): BrokerError {
    return new BrokerError('UNKNOWN_DELIVERY_TAG', `unknown delivery tag ${deliveryTag}`, { deliveryTag });
  }

  private pumpConsumedQueues(): void {
    for (const consumer of this.consumers.values()) consumer.queue.pump();
  }

  /** A consumer the server cancelled: forget it without touching its (deleted) queue. */
  forgetConsumer(consumerTag: string): void {
    this.consumers.delete(consumerTag);
  }

  private returnAll(): void {
    this.returnEntries(() => true);
  }

  /**
   * Returns the selected unacked deliveries, all of one queue at once, so the queue puts the whole
   * window back in order before delivering any of it. Stream deliveries give their credit back.
   */
  private returnEntries(selected: (tag: number) => boolean): void {
    const byQueue = new Map<Queue, number[]>();
    for (const [tag, entry] of this.unacked) {
      if (!selected(tag)) continue;
      this.unacked.delete(tag);
      if (entry.reader) {
        if (!entry.reader.closed) entry.reader.credit(1);
        continue;
      }
      if (entry.consumer) entry.consumer.unackedCount -= 1;
      if (!entry.queue || entry.queue.isClosed) continue;
      let offsets = byQueue.get(entry.queue);
      if (!offsets) byQueue.set(entry.queue, (offsets = []));
      offsets.push(entry.offset);
    }
    for (const [queue, offsets] of byQueue) queue.requeueMany(offsets);
  }

  /** Cancels every consumer and returns every unacked delivery to its queue. */
  close(): void {
    if (this.closed) return;
    for (const tag of [...this.consumers.keys(), ...this.streamConsumers.keys()]) this.cancel(tag);
    this.closed = true;
    this.returnAll();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private assertOpen(): void {
    if (this.closed) throw new BrokerError('CHANNEL_CLOSED', `channel ${this.id} is closed`);
  }
}
