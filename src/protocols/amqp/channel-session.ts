/**
 * One AMQP channel of a connection: assembles published content (method, header, body frames), runs
 * the channel's methods against the core in arrival order, writes deliveries, and tracks publisher
 * confirms. A method that needs the core asynchronously (a declare) holds back the methods after it on
 * this channel only, so a publish pipelined behind a queue.declare still lands in the declared queue.
 */
import { randomBytes } from 'node:crypto';
import type { Broker } from '../../core/broker.js';
import type { Channel, Delivery } from '../../core/channel.js';
import type { Connection } from '../../core/connection.js';
import type { Message } from '../../core/message/message.js';
import type { Principal } from '../../core/ports.js';
import type { FlowGate } from '../../core/flow/queue-flow.js';
import {
  decodeContentHeader,
  decodeMethod,
  FRAME_BODY,
  FRAME_HEADER,
  FRAME_METHOD,
  METHODS,
  type AmqpMethod,
  type BasicDeliver,
  type BasicProperties,
  type FieldTable,
  type FrameWriter,
} from './codec/index.js';
import { messageFromPublish, propertiesOfMessage } from './convert.js';
import { DIRECT_REPLY_TO, DirectReplyRegistry, type DirectReplyTarget } from './direct-reply-to.js';
import { AmqpReplyError, replyOf, type AmqpReply } from './errors.js';
import { senderSelectedKeys } from './sender-selected.js';
import { consumeOffsetIsTimestamp, streamStart } from './stream-offset.js';

/** What a channel needs from its connection's session. */
export interface ChannelSessionHost {
  readonly broker: Broker;
  readonly connection: Connection;
  readonly writer: FrameWriter;
  readonly replies: DirectReplyRegistry;
  /** Largest message body accepted (RabbitMQ's max_message_size). */
  readonly maxMessageSize: number;
  /** Writes what is buffered at the end of this event-loop turn. */
  flushSoon(): void;
  /** A basic.publish method frame arrived: the connection may stop reading (resource alarm). */
  publishStarted(): void;
  /** A publish went to a congested queue: stop reading until the gate opens (flow control). */
  holdBack(gate: FlowGate): void;
  /** Confirms became ready: settle them at the next flush, so several coalesce into one `multiple` ack. */
  confirmsReady(channel: ChannelSession): void;
  /** A hard error: close the whole connection. */
  connectionError(reply: AmqpReply, classId: number, methodId: number): void;
  /** The channel is fully closed (close / close-ok exchanged); its number may be reused. */
  channelFinished(id: number): void;
  logError(error: unknown, message: string): void;
}

interface HeldCommand {
  readonly method: AmqpMethod;
  readonly properties: BasicProperties | undefined;
  readonly body: Uint8Array | undefined;
}

const PENDING = 0;
const ACK = 1;
const NACK = 2;

interface PendingConfirm {
  readonly seq: number;
  state: number;
}

interface ConsumerState {
  /** Deliveries made while basic.consume itself ran, written after consume-ok. */
  held: Delivery[] | undefined;
}

const EMPTY_BODY = new Uint8Array(0);
const RESOLVED: Promise<void> = Promise.resolve();

export class ChannelSession implements DirectReplyTarget {
  private state: 'open' | 'closing' = 'open';
  readonly core: Channel;

  // Content being assembled for a basic.publish.
  private publishing: AmqpMethod | undefined;
  private awaitingHeader = false;
  private properties: BasicProperties = {};
  private body: Uint8Array = EMPTY_BODY;
  private bodyReceived = 0;

  private busy = false;
  private readonly held: HeldCommand[] = [];

  private confirming = false;
  private publishSeq = 0;
  private confirms: PendingConfirm[] = [];
  private lastQueue = '';
  /** Commands held for tx.commit; undefined unless tx.select was sent. */
  private transaction: HeldCommand[] | undefined;
  private lastDurable: Promise<void> | undefined;
  /** Deliveries flow while the client wants them (channel.flow) and the socket takes them. */
  private clientFlow = true;
  private socketFlow = true;
  /** Direct reply-to: this channel's reply address and the consumer that receives replies. */
  private replyAddress: string | undefined;
  private replyConsumerTag: string | undefined;
  private replyDeliveryTag = 0;
  private perConsumerPrefetch = 0;
  private channelPrefetch = 0;
  private readonly consumers = new Map<string, ConsumerState>();
  /** Arguments of basic.consume methods whose `x-stream-offset` was typed T (a point in time). */
  private readonly timestampOffsets = new WeakSet<FieldTable>();
  /** Reused for every basic.deliver: the writer encodes it at once. */
  private readonly deliverMethod: BasicDeliver = {
    name: 'basic.deliver',
    consumerTag: '',
    deliveryTag: 0,
    redelivered: false,
    exchange: '',
    routingKey: '',
  };

  constructor(
    private readonly host: ChannelSessionHost,
    readonly id: number,
  ) {
    this.core = host.connection.openChannel(id);
    this.send({ name: 'channel.open-ok', channelId: EMPTY_BODY });
  }

  /** One frame addressed to this channel (after channel.open). */
  frame(type: number, payload: Uint8Array): void {
    if (this.state === 'closing') {
      this.frameWhileClosing(type, payload);
      return;
    }
    if (type === FRAME_METHOD) {
      if (this.publishing !== undefined) throw unexpectedFrame(`expected content ${this.awaitingHeader ? 'header' : 'body'}, got a method frame`);
      const method = decodeMethod(payload);
      if (method.name === 'basic.publish') {
        this.publishing = method;
        this.awaitingHeader = true;
        this.host.publishStarted();
        return;
      }
      if (method.name === 'basic.consume') this.noteOffsetType(method.arguments, payload);
      this.dispatch(method, undefined, undefined);
      return;
    }
    if (type === FRAME_HEADER) {
      if (this.publishing === undefined || !this.awaitingHeader) throw unexpectedFrame('content header without a content-bearing method');
      const header = decodeContentHeader(payload);
      if (header.bodySize > this.host.maxMessageSize) {
        this.publishing = undefined;
        this.awaitingHeader = false;
        this.fail(
          new AmqpReplyError('PRECONDITION_FAILED', `message size ${header.bodySize} is larger than configured max size ${this.host.maxMessageSize}`),
          'basic.publish',
        );
        // The body frames still to come are dropped by the closing state.
        return;
      }
      this.awaitingHeader = false;
      this.properties = header.properties;
      this.body = header.bodySize === 0 ? EMPTY_BODY : new Uint8Array(header.bodySize);
      this.bodyReceived = 0;
      if (header.bodySize === 0) this.contentComplete();
      return;
    }
    if (type === FRAME_BODY) {
      if (this.publishing === undefined || this.awaitingHeader) throw unexpectedFrame('content body without a content header');
      if (this.bodyReceived + payload.byteLength > this.body.byteLength) {
        throw unexpectedFrame('content body frames exceed the size in the content header');
      }
      // A copy: the message outlives the socket chunk the frame is a view of.
      this.body.set(payload, this.bodyReceived);
      this.bodyReceived += payload.byteLength;
      if (this.bodyReceived === this.body.byteLength) this.contentComplete();
      return;
    }
    throw unexpectedFrame(`frame of type ${type} on channel ${this.id}`);
  }

  private noteOffsetType(args: FieldTable, payload: Uint8Array): void {
    const offset = args['x-stream-offset'];
    if ((typeof offset === 'number' || typeof offset === 'bigint') && consumeOffsetIsTimestamp(payload)) this.timestampOffsets.add(args);
  }

  private contentComplete(): void {
    const method = this.publishing!;
    const properties = this.properties;
    const body = this.body;
    this.publishing = undefined;
    this.properties = {};
    this.body = EMPTY_BODY;
    this.dispatch(method, properties, body);
  }

  private frameWhileClosing(type: number, payload: Uint8Array): void {
    if (type !== FRAME_METHOD) return;
    const method = decodeMethod(payload);
    if (method.name === 'channel.close-ok') {
      this.host.channelFinished(this.id);
    } else if (method.name === 'channel.close') {
      this.send({ name: 'channel.close-ok' });
      this.host.channelFinished(this.id);
    }
    // Anything else is dropped while the close handshake completes (AMQP 0-9-1 §4.2.4).
  }

  private dispatch(method: AmqpMethod, properties: BasicProperties | undefined, body: Uint8Array | undefined): void {
    if (this.busy) {
      this.held.push({ method, properties, body });
      return;
    }
    this.execute(method, properties, body);
  }

  private execute(method: AmqpMethod, properties: BasicProperties | undefined, body: Uint8Array | undefined): void {
    let result: Promise<void> | undefined;
    try {
      result = this.run(method, properties, body);
    } catch (error) {
      this.fail(error, method.name);
      return;
    }
    if (result === undefined) return;
    this.busy = true;
    result.then(
      () => {
        this.busy = false;
        this.host.flushSoon();
        this.drainHeld();
      },
      (error: unknown) => {
        this.busy = false;
        this.fail(error, method.name);
      },
    );
  }

  private drainHeld(): void {
    while (!this.busy && this.state === 'open' && this.held.length > 0) {
      const next = this.held.shift()!;
      this.execute(next.method, next.properties, next.body);
    }
  }

  /** Closes this channel with the error's reply (a soft error), or the connection for a hard one. */
  private fail(error: unknown, methodName: AmqpMethod['name']): void {
    const reply = replyOf(error);
    const info = METHODS[methodName];
    if (reply.hard) {
      if (reply.code === 541) this.host.logError(error, 'AMQP channel method failed');
      this.host.connectionError(reply, info.classId, info.methodId);
      return;
    }
    this.closeWithReply(reply.code, reply.text, info.classId, info.methodId);
  }

  /** Server-initiated channel.close. */
  closeWithReply(code: number, text: string, classId: number, methodId: number): void {
    if (this.state === 'closing') return;
    this.state = 'closing';
    this.held.length = 0;
    this.publishing = undefined;
    this.release();
    this.send({ name: 'channel.close', replyCode: code, replyText: text, classId, methodId });
  }

  /** The socket's buffer is full (false) or drained (true): pause or resume deliveries. */
  socketWritable(writable: boolean): void {
    this.socketFlow = writable;
    if (!this.core.isClosed) this.core.setFlow(this.clientFlow && this.socketFlow);
  }

  /** Frees the core channel: consumers cancelled, unacked deliveries back to their queues. */
  release(): void {
    this.state = 'closing';
    this.held.length = 0;
    if (this.replyAddress !== undefined) this.host.replies.unregister(this.replyAddress);
    this.replyAddress = undefined;
    this.replyConsumerTag = undefined;
    this.confirms = [];
    this.consumers.clear();
    if (!this.core.isClosed) this.host.connection.closeChannel(this.core);
  }

  private send(method: AmqpMethod): void {
    this.host.writer.method(this.id, method);
    this.host.flushSoon();
  }

  private run(method: AmqpMethod, properties: BasicProperties | undefined, body: Uint8Array | undefined): Promise<void> | undefined {
    if (this.transaction !== undefined && isTransactional(method.name)) {
      // tx mode: publishes and acknowledgements wait for tx.commit.
      this.transaction.push({ method, properties, body });
      return undefined;
    }
    const connection = this.host.connection;
    switch (method.name) {
      case 'basic.publish':
        if (method.immediate) throw new AmqpReplyError('NOT_IMPLEMENTED', 'immediate=true');
        void this.publish(method.exchange, method.routingKey, method.mandatory, properties ?? {}, body ?? EMPTY_BODY);
        return undefined;
      case 'basic.ack':
        this.core.ack(method.deliveryTag, method.multiple);
        return undefined;
      case 'basic.nack':
        this.core.nack(method.deliveryTag, method.multiple, method.requeue);
        return undefined;
      case 'basic.reject':
        this.core.nack(method.deliveryTag, false, method.requeue);
        return undefined;
      case 'basic.consume':
        this.consume(method.queue, method.consumerTag, method.noAck, method.exclusive, method.nowait, method.arguments);
        return undefined;
      case 'basic.cancel':
        if (method.consumerTag === this.replyConsumerTag) this.replyConsumerTag = undefined;
        this.consumers.delete(method.consumerTag);
        this.core.cancel(method.consumerTag);
        if (!method.nowait) this.send({ name: 'basic.cancel-ok', consumerTag: method.consumerTag });
        return undefined;
      case 'basic.qos':
        // RabbitMQ does not implement a byte window either.
        if (method.prefetchSize !== 0) throw new AmqpReplyError('NOT_IMPLEMENTED', `prefetch_size!=0 (${method.prefetchSize})`);
        this.core.setPrefetch(method.prefetchCount, method.global);
        if (method.global) this.channelPrefetch = method.prefetchCount;
        else this.perConsumerPrefetch = method.prefetchCount;
        this.send({ name: 'basic.qos-ok' });
        return undefined;
      case 'basic.get':
        return this.get(this.queueName(method.queue), method.noAck);
      case 'basic.recover':
      case 'basic.recover-async':
        // RabbitMQ requeues (redelivered); redelivering to the same consumer in place it does not do.
        if (!method.requeue) throw new AmqpReplyError('NOT_IMPLEMENTED', 'requeue=false');
        this.core.recover();
        if (method.name === 'basic.recover') this.send({ name: 'basic.recover-ok' });
        return undefined;
      case 'channel.flow':
        this.clientFlow = method.active;
        this.core.setFlow(this.clientFlow && this.socketFlow);
        this.send({ name: 'channel.flow-ok', active: method.active });
        return undefined;
      case 'channel.close':
        this.state = 'closing';
        this.release();
        this.send({ name: 'channel.close-ok' });
        this.host.channelFinished(this.id);
        return undefined;
      case 'channel.close-ok':
      case 'channel.flow-ok':
        return undefined;
      case 'channel.open':
        throw new AmqpReplyError('CHANNEL_ERROR', `second 'channel.open' seen on channel ${this.id}`);
      case 'confirm.select':
        if (this.transaction !== undefined) throw new AmqpReplyError('PRECONDITION_FAILED', 'cannot switch from tx to confirm mode');
        this.confirming = true;
        if (!method.nowait) this.send({ name: 'confirm.select-ok' });
        return undefined;
      case 'access.request':
        this.send({ name: 'access.request-ok', ticket: 1 });
        return undefined;
      case 'exchange.declare':
        return this.reply(
          connection.declareExchange(
            {
              name: method.exchange,
              type: method.type,
              durable: method.durable,
              autoDelete: method.autoDelete,
              internal: method.internal,
              arguments: method.arguments,
            },
            method.passive,
          ),
          method.nowait,
          { name: 'exchange.declare-ok' },
        );
      case 'exchange.delete':
        return this.reply(connection.deleteExchange(method.exchange, method.ifUnused), method.nowait, { name: 'exchange.delete-ok' });
      case 'exchange.bind':
      case 'exchange.unbind': {
        const declaration = {
          source: method.source,
          destination: method.destination,
          destinationKind: 'exchange' as const,
          routingKey: method.routingKey,
          arguments: method.arguments,
        };
        if (method.name === 'exchange.bind') return this.reply(connection.bind(declaration), method.nowait, { name: 'exchange.bind-ok' });
        return this.reply(connection.unbind(declaration), method.nowait, { name: 'exchange.unbind-ok' });
      }
      case 'queue.declare':
        return this.declareQueue(method.queue, method);
      case 'queue.bind':
      case 'queue.unbind': {
        const declaration = {
          source: method.exchange,
          destination: this.queueName(method.queue),
          destinationKind: 'queue' as const,
          routingKey: method.routingKey,
          arguments: method.arguments,
        };
        if (method.name === 'queue.bind') return this.reply(connection.bind(declaration), method.nowait, { name: 'queue.bind-ok' });
        return this.reply(connection.unbind(declaration), false, { name: 'queue.unbind-ok' });
      }
      case 'queue.purge':
        return connection.purgeQueue(this.queueName(method.queue)).then((messageCount) => {
          if (!method.nowait) this.send({ name: 'queue.purge-ok', messageCount });
        });
      case 'queue.delete':
        return connection
          .deleteQueue(this.queueName(method.queue), { ifUnused: method.ifUnused, ifEmpty: method.ifEmpty })
          .then((messageCount) => {
            if (!method.nowait) this.send({ name: 'queue.delete-ok', messageCount });
          });
      case 'tx.select':
        if (this.confirming) throw new AmqpReplyError('PRECONDITION_FAILED', 'cannot switch from confirm to tx mode');
        this.transaction ??= [];
        this.send({ name: 'tx.select-ok' });
        return undefined;
      case 'tx.commit':
        return this.commit();
      case 'tx.rollback':
        if (this.transaction === undefined) throw new AmqpReplyError('PRECONDITION_FAILED', 'channel is not transactional');
        this.transaction = [];
        this.send({ name: 'tx.rollback-ok' });
        return undefined;
      default:
        throw new AmqpReplyError('COMMAND_INVALID', `unexpected method '${method.name}' on channel ${this.id}`);
    }
  }

  /**
   * tx.commit: runs the transaction's publishes and acknowledgements in order, and answers commit-ok
   * once its persistent messages are durable (as RabbitMQ does), so commit-ok vouches for them.
   */
  private async commit(): Promise<void> {
    const work = this.transaction;
    if (work === undefined) throw new AmqpReplyError('PRECONDITION_FAILED', 'channel is not transactional');
    this.transaction = undefined;
    const durable: Promise<void>[] = [];
    try {
      for (const command of work) {
        const method = command.method;
        if (method.name === 'basic.publish') {
          durable.push(this.publish(method.exchange, method.routingKey, method.mandatory, command.properties ?? {}, command.body ?? EMPTY_BODY));
        } else {
          void this.run(method, undefined, undefined);
        }
      }
    } finally {
      this.transaction = [];
    }
    await Promise.all(durable);
    this.send({ name: 'tx.commit-ok' });
  }

  private reply(operation: Promise<void>, nowait: boolean, ok: AmqpMethod): Promise<void> {
    return operation.then(() => {
      if (!nowait) this.send(ok);
    });
  }

  /** An empty queue name means the queue last declared on this channel (AMQP 0-9-1 §1.7.2). */
  private queueName(name: string): string {
    if (name !== '') return name;
    if (this.lastQueue === '') throw new AmqpReplyError('NOT_FOUND', 'no previously declared queue');
    return this.lastQueue;
  }

  private async declareQueue(
    name: string,
    method: { passive: boolean; durable: boolean; exclusive: boolean; autoDelete: boolean; nowait: boolean; arguments: FieldTable },
  ): Promise<void> {
    const declared = await this.host.connection.declareQueue(
      { name, durable: method.durable, exclusive: method.exclusive, autoDelete: method.autoDelete, arguments: method.arguments },
      method.passive,
    );
    this.lastQueue = declared.name;
    if (!method.nowait) {
      this.send({
        name: 'queue.declare-ok',
        queue: declared.name,
        messageCount: declared.messageCount,
        consumerCount: declared.consumerCount,
      });
    }
  }

  /** Publishes; returns when the message is durable (for tx.commit). */
  private publish(exchange: string, routingKey: string, mandatory: boolean, properties: BasicProperties, body: Uint8Array): Promise<void> {
    if (properties.userId !== undefined) checkUserId(properties.userId, this.host.connection.principal);
    if (properties.replyTo === DIRECT_REPLY_TO) {
      if (this.replyConsumerTag === undefined || this.replyAddress === undefined) {
        throw new AmqpReplyError('PRECONDITION_FAILED', 'fast reply consumer does not exist');
      }
      properties.replyTo = this.replyAddress;
    }
    if (exchange === '' && DirectReplyRegistry.isReplyAddress(routingKey)) return this.publishReply(routingKey, mandatory, properties, body);
    const extraRoutingKeys = properties.headers === undefined ? undefined : senderSelectedKeys(properties.headers);
    const message = messageFromPublish(exchange, routingKey, properties, body);
    const seq = this.confirming ? ++this.publishSeq : 0;
    const outcome = this.host.connection.publish(message, extraRoutingKeys);
    if (outcome.flow !== undefined) this.host.holdBack(outcome.flow);
    if (mandatory && outcome.routed === 0 && !outcome.rejected) {
      this.host.writer.methodWithContent(
        this.id,
        { name: 'basic.return', replyCode: 312, replyText: 'NO_ROUTE', exchange, routingKey },
        properties,
        body,
      );
      this.host.flushSoon();
    }
    if (!this.confirming) {
      // One handler per distinct flush promise, not per message: many publishes share one fsync.
      if (outcome.durable !== this.lastDurable) {
        this.lastDurable = outcome.durable;
        outcome.durable.then(undefined, this.onDurabilityFailure);
      }
      return outcome.durable;
    }
    const entry: PendingConfirm = { seq, state: outcome.rejected ? NACK : PENDING };
    this.confirms.push(entry);
    if (outcome.rejected) {
      this.host.confirmsReady(this);
      return outcome.durable;
    }
    outcome.durable.then(
      () => this.settleConfirm(entry, ACK),
      () => this.settleConfirm(entry, NACK),
    );
    return outcome.durable;
  }

  /** A reply to a direct reply-to address: straight to the requester's channel, never stored. */
  private publishReply(routingKey: string, mandatory: boolean, properties: BasicProperties, body: Uint8Array): Promise<void> {
    const delivered = this.host.replies.lookup(routingKey)?.deliverReply(routingKey, properties, body) ?? false;
    if (!delivered && mandatory) {
      this.host.writer.methodWithContent(
        this.id,
        { name: 'basic.return', replyCode: 312, replyText: 'NO_ROUTE', exchange: '', routingKey },
        properties,
        body,
      );
      this.host.flushSoon();
    }
    if (this.confirming) {
      this.confirms.push({ seq: ++this.publishSeq, state: ACK });
      this.host.confirmsReady(this);
    }
    return RESOLVED;
  }

  deliverReply(routingKey: string, properties: BasicProperties, body: Uint8Array): boolean {
    const tag = this.replyConsumerTag;
    if (this.state !== 'open' || tag === undefined) return false;
    const method = this.deliverMethod;
    method.consumerTag = tag;
    // No-ack deliveries: the client never acks these tags, so a counter of their own is enough.
    method.deliveryTag = ++this.replyDeliveryTag;
    method.redelivered = false;
    method.exchange = '';
    method.routingKey = routingKey;
    this.host.writer.methodWithContent(this.id, method, properties, body);
    this.host.flushSoon();
    return true;
  }

  private readonly onDurabilityFailure = (error: unknown): void => {
    this.host.logError(error, 'AMQP publish could not be made durable');
  };

  private settleConfirm(entry: PendingConfirm, state: number): void {
    entry.state = state;
    if (this.state === 'open') this.host.confirmsReady(this);
  }

  /** Sends the confirms settled so far, in order, runs of one kind coalesced into one `multiple` frame. */
  flushConfirms(): void {
    const confirms = this.confirms;
    let index = 0;
    let runKind = PENDING;
    let runLast = 0;
    let runLength = 0;
    while (index < confirms.length && confirms[index]!.state !== PENDING) {
      const entry = confirms[index]!;
      if (runLength > 0 && entry.state !== runKind) {
        this.sendConfirm(runKind, runLast, runLength > 1);
        runLength = 0;
      }
      runKind = entry.state;
      runLast = entry.seq;
      runLength += 1;
      index += 1;
    }
    if (runLength > 0) this.sendConfirm(runKind, runLast, runLength > 1);
    if (index > 0) confirms.splice(0, index);
  }

  private sendConfirm(kind: number, deliveryTag: number, multiple: boolean): void {
    if (kind === ACK) this.host.writer.method(this.id, { name: 'basic.ack', deliveryTag, multiple });
    else this.host.writer.method(this.id, { name: 'basic.nack', deliveryTag, multiple, requeue: false });
  }

  private consume(
    queueArgument: string,
    requestedTag: string,
    noAck: boolean,
    exclusive: boolean,
    nowait: boolean,
    args: FieldTable,
  ): void {
    if (queueArgument === DIRECT_REPLY_TO) {
      this.consumeReplies(requestedTag, noAck, nowait);
      return;
    }
    const queue = this.queueName(queueArgument);
    const state: ConsumerState = { held: [] };
    const callbacks = {
      deliver: (delivery: Delivery): void => {
        if (state.held !== undefined) state.held.push(delivery);
        else this.deliver(delivery);
      },
      cancelled: (consumerTag: string): void => {
        this.consumers.delete(consumerTag);
        if (this.state !== 'open') return;
        // consumer_cancel_notify: tell the client its consumer is gone (its queue was deleted).
        this.send({ name: 'basic.cancel', consumerTag, nowait: true });
      },
    };
    const connection = this.host.connection;
    let tag: string;
    if (this.host.broker.getStream(queue) !== undefined) {
      const prefetch = this.perConsumerPrefetch || this.channelPrefetch;
      tag = connection.consumeStream(
        this.core,
        queue,
        {
          consumerTag: requestedTag,
          start: streamStart(args['x-stream-offset'], this.timestampOffsets.has(args), this.host.broker.clock.now()),
          prefetch,
          noAck,
        },
        callbacks,
      );
    } else {
      const priority = args['x-priority'];
      tag = connection.consume(
        this.core,
        queue,
        { consumerTag: requestedTag, noAck, exclusive, ...(typeof priority === 'number' ? { priority } : {}) },
        callbacks,
      );
    }
    this.consumers.set(tag, state);
    if (!nowait) this.host.writer.method(this.id, { name: 'basic.consume-ok', consumerTag: tag });
    const held = state.held;
    state.held = undefined;
    for (const delivery of held ?? []) this.deliver(delivery);
    this.host.flushSoon();
  }

  private consumeReplies(requestedTag: string, noAck: boolean, nowait: boolean): void {
    if (!noAck) throw new AmqpReplyError('PRECONDITION_FAILED', 'reply consumer cannot acknowledge');
    if (this.replyConsumerTag !== undefined) throw new AmqpReplyError('PRECONDITION_FAILED', 'reply consumer already set');
    const tag = requestedTag || `amq.ctag-${randomBytes(16).toString('base64url')}`;
    this.replyConsumerTag = tag;
    this.replyAddress ??= this.host.replies.register(this);
    if (!nowait) this.send({ name: 'basic.consume-ok', consumerTag: tag });
  }

  private deliver(delivery: Delivery): void {
    if (this.state !== 'open') return;
    const message = delivery.message;
    const method = this.deliverMethod;
    method.consumerTag = delivery.consumerTag ?? '';
    method.deliveryTag = delivery.deliveryTag;
    method.redelivered = delivery.redelivered;
    method.exchange = message.exchange;
    method.routingKey = message.routingKey;
    this.writeContent(method, message);
  }

  private writeContent(method: AmqpMethod, message: Message): void {
    try {
      this.host.writer.methodWithContent(this.id, method, propertiesOfMessage(message), message.body);
    } catch (error) {
      this.host.logError(error, 'AMQP delivery could not be encoded');
      this.fail(error, method.name);
      return;
    }
    this.host.flushSoon();
  }

  private async get(queue: string, noAck: boolean): Promise<void> {
    const delivery = await this.host.connection.get(this.core, queue, noAck);
    if (this.state !== 'open') return;
    if (delivery === undefined) {
      this.send({ name: 'basic.get-empty', clusterId: '' });
      return;
    }
    const message = delivery.message;
    this.writeContent(
      {
        name: 'basic.get-ok',
        deliveryTag: delivery.deliveryTag,
        redelivered: delivery.redelivered,
        exchange: message.exchange,
        routingKey: message.routingKey,
        messageCount: this.host.broker.getQueue(queue)?.messageCount ?? 0,
      },
      message,
    );
  }
}

function isTransactional(name: AmqpMethod['name']): boolean {
  return name === 'basic.publish' || name === 'basic.ack' || name === 'basic.nack' || name === 'basic.reject';
}

/**
 * RabbitMQ's validated user-id: a publish may only carry the user it authenticated as, unless that user
 * has the `impersonator` tag, so consumers can trust the property.
 */
function checkUserId(userId: string, principal: Principal): void {
  if (userId === principal.username || principal.tags.includes('impersonator')) return;
  throw new AmqpReplyError('PRECONDITION_FAILED', `user_id property set to '${userId}' but authenticated user was '${principal.username}'`);
}

function unexpectedFrame(explanation: string): AmqpReplyError {
  return new AmqpReplyError('UNEXPECTED_FRAME', explanation);
}
