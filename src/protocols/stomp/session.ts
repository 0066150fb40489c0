import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import type { Broker } from '../../core/broker.js';
import type { Delivery } from '../../core/channel.js';
import type { Connection, ConnectionInfo } from '../../core/connection.js';
import type { FlowGate } from '../../core/flow/queue-flow.js';
import { isBrokerError } from '../../core/errors.js';
import type { Message } from '../../core/message/message.js';
import type { Authenticator, Clock, Credentials, Logger, Principal, TimerHandle } from '../../core/ports.js';
import {
  escapingFor,
  supportedVersions,
  type StompFrame,
  type StompVersion,
} from './codec/frame.js';
import type { StompLimits } from './codec/limits.js';
import { FrameParser } from './codec/parser.js';
import { FrameWriter, HEART_BEAT } from './codec/serializer.js';
import { messageFromSend, writeMessageHeaders } from './convert.js';
import {
  destinationOf,
  parseDestination,
  REPLY_QUEUE_PREFIX,
  TEMP_QUEUE_PREFIX,
  validDestinationTypes,
  type Destination,
} from './destination.js';
import { errorFrameContent, invalidHeader, missingHeader, StompProtocolError } from './errors.js';
import { HeartBeatTimers, negotiateHeartBeat, parseHeartBeat, type HeartBeatRequest } from './heart-beat.js';
import { wantsDurableSubscription } from './queue-declaration.js';
import { SessionDestinations } from './session-destinations.js';
import { ackIdOf, parseAckId, parseAckMode, parsePrefetch, type AckMode, type Subscription } from './subscription.js';

/** The byte stream a session runs over (a TCP socket, later a WebSocket): no protocol knowledge. */
export interface StompWire {
  readonly remoteAddress: string;
  /** False when the peer is not keeping up: the session pauses deliveries until `drained()`. */
  write(bytes: Uint8Array): boolean;
  /** Stop / restart reading while the session works on a frame that needs the broker asynchronously. */
  pause(): void;
  resume(): void;
  /** Close after what was written is flushed (incoming bytes are discarded meanwhile). */
  end(): void;
  /** Close now. */
  destroy(): void;
}

export interface StompSessionContext {
  readonly broker: Broker;
  readonly logger: Logger;
  readonly authenticator: Authenticator;
}

export interface StompSessionSettings {
  /** CONNECTED's `server` header (`Courier/<version>`). */
  readonly serverName: Promise<string> | string;
  readonly limits: StompLimits;
  /** Heart-beat intervals below this are raised to it. */
  readonly heartBeatMinimumMs: number;
  /** A connection that has not sent CONNECT by then is closed. */
  readonly connectTimeoutMs: number;
  /** After an ERROR the connection stays half-open this long so the peer can read it, then is destroyed. */
  readonly lingerMs: number;
}

type SessionState = 'awaiting-connect' | 'connected' | 'disconnecting' | 'closed';

type TransactionOp =
  | { readonly kind: 'send'; readonly message: Message }
  | { readonly kind: 'ack' | 'nack'; readonly subscription: Subscription; readonly deliveryTag: number; readonly requeue: boolean };

const ignore = (): void => {};

function negotiateVersion(acceptVersion: string | undefined): StompVersion | undefined {
  // [STOMP 1.2] "Protocol Negotiation": no accept-version header means a 1.0 client.
  if (acceptVersion === undefined) return '1.0';
  const offered = acceptVersion.split(',').map((version) => version.trim());
  return supportedVersions.find((version) => offered.includes(version));
}

function flagHeader(frame: StompFrame, name: string, fallback: boolean): boolean {
  const value = frame.headers.get(name);
  if (value === undefined) return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw invalidHeader(name, value, "'true' or 'false'");
}

function required(frame: StompFrame, name: string): string {
  const value = frame.headers.get(name);
  if (value === undefined) throw missingHeader(frame.command, name);
  return value;
}

function truncate(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}...` : text;
}

/**
 * One STOMP connection: frames in, core calls out, MESSAGE / RECEIPT / ERROR frames back. Frames are
 * handled strictly in order; one that needs the broker asynchronously (authentication, a declare) pauses
 * reading until it is done, while SENDs to known destinations stay synchronous. Every protocol error is
 * an ERROR frame followed by a close of this connection only.
 */
export class StompSession {
  private state: SessionState = 'awaiting-connect';
  private readonly clock: Clock;
  private readonly parser: FrameParser;
  private readonly writer = new FrameWriter('1.2');
  private version: StompVersion = '1.2';
  private sessionId = '';
  private connection: Connection | undefined;
  private destinations: SessionDestinations | undefined;
  private readonly subscriptionsById = new Map<string, Subscription>();
  /** Every subscription whose channel is open, unsubscribed ones with unacked messages included. */
  private readonly subscriptionsByIndex = new Map<number, Subscription>();
  private nextSubscriptionIndex = 1;
  /** Temp queues this session consumes already (explicitly or for a reply-to). */
  private readonly tempSubscribed = new Set<string>();
  private readonly transactions = new Map<string, TransactionOp[]>();
  private heartBeats: HeartBeatTimers | undefined;
  private connectTimer: TimerHandle | undefined;
  private lingerTimer: TimerHandle | undefined;
  /** A frame is being handled asynchronously; later frames wait in the parser. */
  private busy = false;
  /** The wire refused more: deliveries are paused. */
  private blocked = false;
  private lastReadAt: number;
  private lastWriteAt: number;
  /** RECEIPTs go out in frame order, each once what it confirms is done. */
  private receiptChain: Promise<void> = Promise.resolve();
  private pendingReceipts = 0;
  /** The durability of the last publish without a receipt, which DISCONNECT's receipt waits for. */
  private lastDurable: Promise<void> | undefined;
  private teardownDone: Promise<void> | undefined;
  /** A SEND came during a resource alarm: frames are not read until it clears (set while waiting). */
  private stopWatchingAlarm: (() => void) | undefined;
  /** A SEND went to a congested queue (core flow control): frames are not read until it drains. */
  private stopWaitingForFlow: (() => void) | undefined;
  private readonly onDurabilityFailure = (error: unknown): void => {
    this.context.logger.error({ err: error, session: this.sessionId }, 'a message sent without a receipt could not be stored');
  };

  constructor(
    private readonly wire: StompWire,
    private readonly context: StompSessionContext,
    private readonly settings: StompSessionSettings,
  ) {
    this.clock = context.broker.clock;
    this.parser = new FrameParser({ limits: settings.limits });
    this.lastReadAt = this.lastWriteAt = this.clock.now();
    this.connectTimer = this.clock.setTimer(settings.connectTimeoutMs, () => {
      if (this.state === 'awaiting-connect') {
        this.fail(new StompProtocolError('Connection timeout', `no CONNECT frame within ${settings.connectTimeoutMs} ms`));
      }
    });
  }

  // -------------------------------------------------------------------------------------------------
  // Wire events

  receive(chunk: Uint8Array): void {
    if (this.state === 'closed' || this.state === 'disconnecting') return;
    this.lastReadAt = this.clock.now();
    this.parser.push(chunk);
    this.pump();
  }

  drained(): void {
    if (!this.blocked) return;
    this.blocked = false;
    if (this.state !== 'connected') return;
    for (const subscription of this.subscriptionsByIndex.values()) subscription.channel.setFlow(true);
  }

  /** The transport is gone (peer closed, reset, or destroyed). */
  wireClosed(): void {
    this.state = 'closed';
    this.lingerTimer?.cancel();
    void this.teardown();
  }

  /** Server shutdown: an ERROR saying so, then close. */
  async shutdown(): Promise<void> {
    if (this.state === 'awaiting-connect' || this.state === 'connected') {
      this.fail(new StompProtocolError('Server shutdown', 'the broker is shutting down'));
    } else {
      this.closeWire();
    }
    await this.teardown();
  }

  // -------------------------------------------------------------------------------------------------
  // Frame loop

  private pump(): void {
    while (!this.busy && this.stopWaitingForFlow === undefined && (this.state === 'awaiting-connect' || this.state === 'connected')) {
      let frame: StompFrame | undefined;
      try {
        frame = this.parser.next();
      } catch (error) {
        this.fail(error);
        return;
      }
      if (!frame) return;
      let pending: Promise<void> | void;
      try {
        pending = this.handle(frame);
      } catch (error) {
        this.fail(error, frame.headers.get('receipt'));
        return;
      }
      if (pending) this.waitFor(pending, frame);
    }
  }

  private waitFor(pending: Promise<void>, frame: StompFrame): void {
    this.busy = true;
    this.wire.pause();
    pending.then(
      () => {
        this.busy = false;
        if (this.state === 'closed' || this.stopWaitingForFlow !== undefined) return;
        this.wire.resume();
        this.pump();
      },
      (error: unknown) => {
        this.busy = false;
        this.fail(error, frame.headers.get('receipt'));
      },
    );
  }

  private handle(frame: StompFrame): Promise<void> | void {
    if (this.state === 'awaiting-connect') {
      if (frame.command === 'CONNECT' || frame.command === 'STOMP') return this.onConnect(frame);
      throw new StompProtocolError('Illegal command', `'${truncate(frame.command)}' before CONNECT: a session starts with CONNECT`);
    }
    switch (frame.command) {
      case 'SEND':
        return this.context.broker.alarms.blocked ? this.sendThenWaitForAlarm(frame) : this.onSend(frame);
      case 'SUBSCRIBE':
        return this.onSubscribe(frame);
      case 'UNSUBSCRIBE':
        return this.onUnsubscribe(frame);
      case 'ACK':
        return this.onAck(frame, 'ack');
      case 'NACK':
        return this.onAck(frame, 'nack');
      case 'BEGIN':
        return this.onBegin(frame);
      case 'COMMIT':
        return this.onCommit(frame);
      case 'ABORT':
        return this.onAbort(frame);
      case 'DISCONNECT':
        return this.onDisconnect(frame);
      case 'CONNECT':
      case 'STOMP':
        throw new StompProtocolError('Already connected', 'CONNECT was sent twice on one connection');
      default:
        throw new StompProtocolError('Bad command', `could not interpret command '${truncate(frame.command)}'`);
    }
  }

  // -------------------------------------------------------------------------------------------------
  // CONNECT

  private onConnect(frame: StompFrame): Promise<void> {
    const version = negotiateVersion(frame.headers.get('accept-version'));
    if (!version) {
      throw new StompProtocolError('Version mismatch', `supported protocol versions are ${[...supportedVersions].reverse().join(',')}`, [
        ['version', [...supportedVersions].reverse().join(',')],
      ]);
    }
    const heartBeatHeader = frame.headers.get('heart-beat');
    const heartBeat = parseHeartBeat(heartBeatHeader);
    if (!heartBeat) throw invalidHeader('heart-beat', heartBeatHeader ?? '', "'cx,cy' (two non-negative integers)");
    const login = frame.headers.get('login');
    // No login: RabbitMQ's default user applies; here the authenticator decides what ANONYMOUS becomes.
    const credentials: Credentials = {
      mechanism: login === undefined ? 'ANONYMOUS' : 'PLAIN',
      username: login ?? '',
      password: frame.headers.get('passcode') ?? '',
      remoteAddress: this.wire.remoteAddress,
      protocol: 'stomp',
    };
    // `host` names a virtual host; there is one (`/`), and any host value maps to it (documented).
    return this.authenticateAndConnect(credentials, version, heartBeat, frame.headers.get('client-id'));
  }

  private async authenticateAndConnect(
    credentials: Credentials,
    version: StompVersion,
    heartBeat: HeartBeatRequest,
    clientId: string | undefined,
  ): Promise<void> {
    let principal: Principal;
    try {
      principal = await this.context.authenticator.authenticate(credentials);
    } catch (error) {
      if (!isBrokerError(error, 'AUTHENTICATION_FAILED')) throw error;
      this.context.logger.info({ remoteAddress: credentials.remoteAddress, reason: error.message }, 'STOMP login refused');
      throw new StompProtocolError('Bad CONNECT', `Access refused for user '${credentials.username}': ${error.message}`);
    }
    const serverName = await this.settings.serverName;
    if (this.state !== 'awaiting-connect') return; // the peer went away meanwhile
    const info: ConnectionInfo = {
      protocol: 'stomp',
      remoteAddress: credentials.remoteAddress,
      ...(clientId !== undefined ? { clientId } : {}),
    };
    const connection = this.context.broker.connect(principal, info);
    this.connection = connection;
    // Management's close: an ERROR saying so, then the close.
    connection.onCloseRequest((reason) => this.fail(new StompProtocolError('Connection closed by an administrator', reason)));
    this.destinations = new SessionDestinations(this.context.broker, connection);
    this.version = version;
    this.parser.escaping = escapingFor(version);
    this.writer.escaping = escapingFor(version);
    this.sessionId = `session-${randomBytes(16).toString('base64url')}`;
    this.connectTimer?.cancel();
    this.state = 'connected';
    this.lastReadAt = this.clock.now();
    const agreement = negotiateHeartBeat(heartBeat, this.settings.heartBeatMinimumMs);
    this.write(
      this.writer
        .start('CONNECTED')
        .header('version', version)
        .header('server', serverName)
        .header('session', this.sessionId)
        .header('heart-beat', agreement.header)
        .end(),
    );
    if (agreement.serverSendsMs > 0 || agreement.clientSendsMs > 0) {
      this.heartBeats = new HeartBeatTimers(
        {
          clock: this.clock,
          lastWriteAt: () => this.lastWriteAt,
          // A peer the broker stopped reading (resource alarm) is not judged by the heart-beats it could not send.
          lastReadAt: () => (this.stopWatchingAlarm || this.stopWaitingForFlow ? this.clock.now() : this.lastReadAt),
          sendHeartBeat: () => this.write(HEART_BEAT),
          peerSilent: () => this.peerSilent(agreement.clientSendsMs),
        },
        agreement,
      );
    }
    this.context.logger.debug({ session: this.sessionId, user: principal.username, version }, 'STOMP session connected');
  }

  private peerSilent(intervalMs: number): void {
    this.context.logger.info({ session: this.sessionId, intervalMs }, 'STOMP peer silent for twice its heart-beat interval: closing');
    this.state = 'closed';
    this.wire.destroy();
    void this.teardown();
  }

  // -------------------------------------------------------------------------------------------------
  // SEND

  private parseDestinationHeader(frame: StompFrame): { text: string; destination: Destination } {
    const text = required(frame, 'destination');
    const destination = parseDestination(text);
    if (!destination) {
      throw new StompProtocolError('Unknown destination', `'${truncate(text)}' is not a valid destination; valid types are ${validDestinationTypes}`);
    }
    return { text, destination };
  }

  private onSend(frame: StompFrame): Promise<void> | void {
    const { destination } = this.parseDestinationHeader(frame);
    const transaction = this.transactionOf(frame);
    const destinations = this.destinations!;
    const replyTo = frame.headers.get('reply-to');
    const tempReply = replyTo?.startsWith(TEMP_QUEUE_PREFIX) ? replyTo.slice(TEMP_QUEUE_PREFIX.length) : undefined;
    if (tempReply === '') throw invalidHeader('reply-to', replyTo!, 'a /temp-queue/ with a name');
    if (destinations.isReady(destination) && (tempReply === undefined || destinations.hasTempQueue(tempReply))) {
      const rewritten = tempReply === undefined ? undefined : destinations.knownReplyQueue(tempReply);
      this.completeSend(frame, destination, transaction, rewritten);
      return;
    }
    return this.prepareAndSend(frame, destination, transaction, tempReply);
  }

  private async prepareAndSend(
    frame: StompFrame,
    destination: Destination,
    transaction: TransactionOp[] | undefined,
    tempReply: string | undefined,
  ): Promise<void> {
    const destinations = this.destinations!;
    await destinations.prepareSend(destination, frame.headers);
    let rewritten: string | undefined;
    if (tempReply !== undefined) {
      const queue = await destinations.tempQueue(tempReply);
      if (this.state !== 'connected') return;
      rewritten = `${REPLY_QUEUE_PREFIX}${queue}`;
      // RabbitMQ subscribes the requester to its temp queue itself (subscription id = the temp
      // destination), so replies arrive without a SUBSCRIBE.
      const id = `${TEMP_QUEUE_PREFIX}${tempReply}`;
      if (!this.tempSubscribed.has(tempReply) && !this.subscriptionsById.has(id)) {
        this.startSubscription(id, 'auto', 0, queue, false, id);
        this.tempSubscribed.add(tempReply);
      }
    }
    if (this.state !== 'connected') return;
    this.completeSend(frame, destination, transaction, rewritten);
  }

  private completeSend(frame: StompFrame, destination: Destination, transaction: TransactionOp[] | undefined, replyTo: string | undefined): void {
    const target = this.destinations!.sendTarget(destination);
    const message = messageFromSend(frame.headers, frame.body, target, this.clock.now(), replyTo);
    const receipt = frame.headers.get('receipt');
    if (transaction) {
      // Takes effect at COMMIT; this receipt only says the SEND was accepted into the transaction.
      transaction.push({ kind: 'send', message });
      if (receipt !== undefined) this.receipt(receipt);
      return;
    }
    const durable = this.publish(message, receipt !== undefined);
    if (receipt !== undefined) this.receipt(receipt, durable);
  }

  /**
   * Publishes and returns when it is durable. With a receipt asked for, a queue refusing the message
   * (max length with reject-publish) is an ERROR: STOMP has no other negative acknowledgement.
   */
  private publish(message: Message, confirm: boolean): Promise<void> {
    const outcome = this.connection!.publish(message);
    if (outcome.flow !== undefined) this.holdBack(outcome.flow);
    outcome.durable.then(undefined, confirm ? ignore : this.onDurabilityFailure);
    if (!confirm) this.lastDurable = outcome.durable;
    else if (outcome.rejected) {
      throw new StompProtocolError('Message rejected', `a queue of '${message.exchange || '(default exchange)'}' / '${message.routingKey}' is full and refused the message`);
    }
    return outcome.durable;
  }

  // -------------------------------------------------------------------------------------------------
  // SUBSCRIBE / UNSUBSCRIBE / MESSAGE

  private onSubscribe(frame: StompFrame): Promise<void> {
    const { text, destination } = this.parseDestinationHeader(frame);
    // [STOMP 1.2] id is required; STOMP 1.0 clients may omit it (the destination stands in, as in RabbitMQ).
    const id = frame.headers.get('id') ?? (this.version === '1.0' ? text : undefined);
    if (id === undefined) throw missingHeader('SUBSCRIBE', 'id');
    if (this.subscriptionsById.has(id)) {
      throw new StompProtocolError('Duplicated subscription identifier', `a subscription with id '${truncate(id)}' exists already`);
    }
    const ackMode = parseAckMode(frame.headers.get('ack'));
    const prefetch = parsePrefetch(frame.headers);
    return this.subscribe(frame, id, destination, text, ackMode, prefetch);
  }

  private async subscribe(frame: StompFrame, id: string, destination: Destination, text: string, ackMode: AckMode, prefetch: number): Promise<void> {
    const found = await this.destinations!.subscriptionQueue(destination, text, frame.headers, frame.headers.get('id'));
    if (this.state !== 'connected') return;
    const fixedDestination = destination.kind === 'temp-queue' ? text : undefined;
    this.startSubscription(id, ackMode, prefetch, found.queue, found.durableSubscription, fixedDestination);
    if (destination.kind === 'temp-queue') this.tempSubscribed.add(destination.name);
    const receipt = frame.headers.get('receipt');
    if (receipt !== undefined) this.receipt(receipt);
  }

  private startSubscription(
    id: string,
    ackMode: AckMode,
    prefetch: number,
    queue: string,
    durableSubscription: boolean,
    fixedDestination: string | undefined,
  ): void {
    const connection = this.connection!;
    const channel = connection.openChannel();
    if (this.blocked) channel.setFlow(false);
    const subscription: Subscription = {
      index: this.nextSubscriptionIndex++,
      id,
      ackMode,
      channel,
      consumerTag: '',
      queue,
      durableSubscription,
      fixedDestination,
      active: true,
    };
    // Registered first: the core may deliver from inside consume().
    this.subscriptionsById.set(id, subscription);
    this.subscriptionsByIndex.set(subscription.index, subscription);
    try {
      subscription.consumerTag = connection.consume(
        channel,
        queue,
        { noAck: ackMode === 'auto', prefetch },
        {
          deliver: (delivery) => this.deliver(subscription, delivery),
          cancelled: () => this.consumerCancelled(subscription),
        },
      );
    } catch (error) {
      this.subscriptionsById.delete(id);
      this.subscriptionsByIndex.delete(subscription.index);
      connection.closeChannel(channel);
      throw error;
    }
  }

  private deliver(subscription: Subscription, delivery: Delivery): void {
    if (this.state === 'closed') return;
    const message = delivery.message;
    const ackId = ackIdOf(this.sessionId, subscription, delivery.deliveryTag);
    const writer = this.writer
      .start('MESSAGE')
      .header('subscription', subscription.id)
      .header('destination', subscription.fixedDestination ?? destinationOf(message.exchange, message.routingKey))
      .header('message-id', ackId);
    if (subscription.ackMode !== 'auto' && this.version === '1.2') writer.header('ack', ackId);
    writer.header('redelivered', delivery.redelivered ? 'true' : 'false');
    writeMessageHeaders(writer, message);
    this.write(writer.end(message.body));
  }

  private consumerCancelled(subscription: Subscription): void {
    if (this.state !== 'connected' || !subscription.active) return;
    this.fail(new StompProtocolError('Subscription cancelled', `the queue '${subscription.queue}' of subscription '${subscription.id}' was deleted`));
  }

  private onUnsubscribe(frame: StompFrame): Promise<void> | void {
    const id = frame.headers.get('id') ?? (this.version === '1.0' ? frame.headers.get('destination') : undefined);
    if (id === undefined) throw missingHeader('UNSUBSCRIBE', 'id');
    const subscription = this.subscriptionsById.get(id);
    if (!subscription) throw new StompProtocolError('Subscription not found', `no subscription with id '${truncate(id)}'`);
    this.subscriptionsById.delete(id);
    subscription.active = false;
    subscription.channel.cancel(subscription.consumerTag);
    if (subscription.fixedDestination !== undefined) this.tempSubscribed.delete(subscription.fixedDestination.slice(TEMP_QUEUE_PREFIX.length));
    // Unacked messages can still be acked (as in RabbitMQ); without any, the channel goes now.
    if (subscription.channel.unackedCount === 0) this.closeSubscriptionChannel(subscription);
    const receipt = frame.headers.get('receipt');
    if (subscription.durableSubscription && wantsDurableSubscription(frame.headers)) {
      // RabbitMQ: UNSUBSCRIBE with durable:true ends the durable subscription, deleting its queue.
      return this.connection!.deleteQueue(subscription.queue).then(() => {
        if (receipt !== undefined) this.receipt(receipt);
      });
    }
    if (receipt !== undefined) this.receipt(receipt);
  }

  private closeSubscriptionChannel(subscription: Subscription): void {
    this.subscriptionsByIndex.delete(subscription.index);
    this.connection!.closeChannel(subscription.channel);
  }

  // -------------------------------------------------------------------------------------------------
  // ACK / NACK and transactions

  private onAck(frame: StompFrame, kind: 'ack' | 'nack'): void {
    // 1.2 acks by `id` (the MESSAGE's `ack` header); 1.0 and 1.1 by `message-id`. Either is accepted.
    const ackId = frame.headers.get('id') ?? frame.headers.get('message-id');
    if (ackId === undefined) throw missingHeader(frame.command, this.version === '1.2' ? 'id' : 'message-id');
    const parsed = parseAckId(this.sessionId, ackId);
    const subscription = parsed ? this.subscriptionsByIndex.get(parsed.index) : undefined;
    if (!parsed || !subscription) {
      throw new StompProtocolError('Invalid ack', `'${truncate(ackId)}' names no unacknowledged message of this session`);
    }
    // RabbitMQ: NACK requeues unless `requeue:false` (then the message is dead-lettered or dropped).
    const requeue = kind === 'nack' ? flagHeader(frame, 'requeue', true) : true;
    const op: TransactionOp = { kind, subscription, deliveryTag: parsed.deliveryTag, requeue };
    const transaction = this.transactionOf(frame);
    if (transaction) transaction.push(op);
    else this.settle(op);
    const receipt = frame.headers.get('receipt');
    if (receipt !== undefined) this.receipt(receipt);
  }

  private settle(op: Extract<TransactionOp, { kind: 'ack' | 'nack' }>): void {
    const { subscription } = op;
    // `client` acks are cumulative within the subscription: its channel holds only its deliveries.
    const multiple = subscription.ackMode === 'client';
    if (op.kind === 'ack') subscription.channel.ack(op.deliveryTag, multiple);
    else subscription.channel.nack(op.deliveryTag, multiple, op.requeue);
    if (!subscription.active && subscription.channel.unackedCount === 0 && this.subscriptionsByIndex.has(subscription.index)) {
      this.closeSubscriptionChannel(subscription);
    }
  }

  private transactionOf(frame: StompFrame): TransactionOp[] | undefined {
    const id = frame.headers.get('transaction');
    if (id === undefined) return undefined;
    const transaction = this.transactions.get(id);
    if (!transaction) throw new StompProtocolError('Bad transaction', `transaction '${truncate(id)}' is not active`);
    return transaction;
  }

  private onBegin(frame: StompFrame): void {
    const id = required(frame, 'transaction');
    if (this.transactions.has(id)) throw new StompProtocolError('Bad transaction', `transaction '${truncate(id)}' is already active`);
    this.transactions.set(id, []);
    const receipt = frame.headers.get('receipt');
    if (receipt !== undefined) this.receipt(receipt);
  }

  private onCommit(frame: StompFrame): void {
    const id = required(frame, 'transaction');
    const ops = this.transactions.get(id);
    if (!ops) throw new StompProtocolError('Bad transaction', `transaction '${truncate(id)}' is not active`);
    this.transactions.delete(id);
    const receipt = frame.headers.get('receipt');
    const durable: Promise<void>[] = [];
    for (const op of ops) {
      if (op.kind === 'send') durable.push(this.publish(op.message, receipt !== undefined));
      else this.settle(op);
    }
    if (receipt !== undefined) {
      this.receipt(
        receipt,
        Promise.all(durable).then(() => undefined),
      );
    }
  }

  private onAbort(frame: StompFrame): void {
    const id = required(frame, 'transaction');
    if (!this.transactions.delete(id)) throw new StompProtocolError('Bad transaction', `transaction '${truncate(id)}' is not active`);
    const receipt = frame.headers.get('receipt');
    if (receipt !== undefined) this.receipt(receipt);
  }

  // -------------------------------------------------------------------------------------------------
  // DISCONNECT, receipts, errors and closing

  private onDisconnect(frame: StompFrame): void {
    this.state = 'disconnecting';
    // Nothing more goes out to this client; open transactions are dropped ([STOMP 1.2] ABORT semantics).
    for (const subscription of this.subscriptionsByIndex.values()) subscription.channel.setFlow(false);
    this.transactions.clear();
    const receipt = frame.headers.get('receipt');
    if (receipt === undefined) {
      this.closeWire();
      return;
    }
    // The receipt also vouches for earlier SENDs without receipts: it waits until they are durable.
    this.receipt(receipt, this.lastDurable);
    void this.receiptChain.then(() => this.closeWire());
  }

  /** Sends RECEIPT once `after` (if any) and every earlier receipt are done; a failure is an ERROR. */
  private receipt(receiptId: string, after?: Promise<void>): void {
    if (after === undefined && this.pendingReceipts === 0) {
      this.writeReceipt(receiptId);
      return;
    }
    // Handled at once, so a rejection while earlier receipts wait is never "unhandled".
    after?.then(undefined, ignore);
    this.pendingReceipts += 1;
    this.receiptChain = this.receiptChain
      .then(() => after)
      .then(
        () => {
          this.pendingReceipts -= 1;
          this.writeReceipt(receiptId);
        },
        (error: unknown) => {
          this.pendingReceipts -= 1;
          this.fail(error, receiptId);
        },
      );
  }

  private writeReceipt(receiptId: string): void {
    if (this.state === 'closed') return;
    this.write(this.writer.start('RECEIPT').header('receipt-id', receiptId).end());
  }

  /** ERROR (message header, body with details, receipt-id when the frame asked for a receipt), then close. */
  private fail(error: unknown, receiptId?: string): void {
    if (this.state === 'closed') return;
    const content = errorFrameContent(error);
    const fields = { session: this.sessionId, remoteAddress: this.wire.remoteAddress, error: content.message, detail: content.detail };
    // Client mistakes are the client's business (debug); anything unexplained is ours (error, with the cause).
    if (content.message === 'internal_error') this.context.logger.error({ ...fields, err: error }, 'STOMP session failed unexpectedly');
    else this.context.logger.debug(fields, 'STOMP session error');
    const body = Buffer.from(content.detail, 'utf8');
    const writer = this.writer.start('ERROR').header('message', content.message);
    if (receiptId !== undefined) writer.header('receipt-id', receiptId);
    if (content.code !== undefined) writer.header('courier-error-code', content.code);
    if (error instanceof StompProtocolError) for (const [name, value] of error.headers) writer.header(name, value);
    writer.header('content-type', 'text/plain').header('content-length', String(body.byteLength));
    this.write(writer.end(body));
    this.closeWire();
  }

  private closeWire(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.wire.end();
    // [STOMP 1.2] "Connection Lingering": let the peer read the last frame, but not forever.
    this.lingerTimer = this.clock.setTimer(this.settings.lingerMs, () => this.wire.destroy());
    void this.teardown();
  }

  private write(bytes: Uint8Array): void {
    this.lastWriteAt = this.clock.now();
    if (this.wire.write(bytes) || this.blocked) return;
    this.blocked = true;
    for (const subscription of this.subscriptionsByIndex.values()) subscription.channel.setFlow(false);
  }

  /**
   * STOMP has no "blocked" frame: as RabbitMQ's STOMP plugin does, the SEND is taken and then the
   * connection is not read (TCP pushes back) until the memory or disk alarm clears.
   */
  private async sendThenWaitForAlarm(frame: StompFrame): Promise<void> {
    await this.onSend(frame);
    const alarms = this.context.broker.alarms;
    if (!alarms.blocked || this.state === 'closed') return;
    this.context.logger.debug({ session: this.sessionId, reason: alarms.reason }, 'stomp publisher blocked by a resource alarm');
    await new Promise<void>((resolve) => {
      if (this.connection) this.connection.publishBlocked = true;
      // Run when the alarm clears, or at teardown (then it also stops the wait). The alarm is on here
      // (checked above, in this same turn), so onceClear does not call it before stopWaiting is set.
      const release = (): void => {
        stopWaiting();
        this.stopWatchingAlarm = undefined;
        if (this.connection) this.connection.publishBlocked = false;
        this.lastReadAt = this.clock.now();
        resolve();
      };
      this.stopWatchingAlarm = release;
      const stopWaiting = alarms.onceClear(release);
    });
  }

  /**
   * Flow control: the SEND went to a queue whose consumers drain it more slowly than it fills, so the
   * connection is not read (TCP pushes back) until the queue drains or the core stops holding it.
   */
  private holdBack(gate: FlowGate): void {
    if (this.stopWaitingForFlow !== undefined) return;
    this.wire.pause();
    if (this.connection) this.connection.publishHeld = true;
    this.stopWaitingForFlow = gate.onceOpen(() => {
      this.stopWaitingForFlow = undefined;
      if (this.connection) this.connection.publishHeld = false;
      this.lastReadAt = this.clock.now();
      // A frame still being handled resumes reading when it is done (waitFor).
      if (this.busy || (this.state !== 'connected' && this.state !== 'awaiting-connect')) return;
      this.wire.resume();
      this.pump();
    });
  }

  private teardown(): Promise<void> {
    this.stopWatchingAlarm?.();
    this.stopWaitingForFlow?.();
    this.teardownDone ??= this.releaseCore();
    return this.teardownDone;
  }

  /**
   * Closes the core connection once, after the session reached 'closed': channels close (unacked
   * messages go back to their queues, redelivered), exclusive queues (temp queues, non-durable
   * subscriptions) are deleted.
   */
  private async releaseCore(): Promise<void> {
    this.connectTimer?.cancel();
    this.heartBeats?.stop();
    this.transactions.clear();
    const connection = this.connection;
    if (!connection) return;
    try {
      await connection.close();
    } catch (error) {
      this.context.logger.warn({ err: error, session: this.sessionId }, 'closing a STOMP session left the broker connection unclean');
    }
    this.context.logger.debug({ session: this.sessionId }, 'STOMP session closed');
  }
}
