import type { WebSocket } from 'ws';
import type { Broker, PublishOutcome } from '../../core/broker.js';
import type { Channel, Delivery } from '../../core/channel.js';
import type { Connection } from '../../core/connection.js';
import { BrokerError } from '../../core/errors.js';
import type { FlowGate } from '../../core/flow/queue-flow.js';
import type { Logger } from '../../core/ports.js';
import { connectedFrame, errorFrame, messageFrame, receiptFrame } from './ws-frames.js';
import { parseFrame, requestIdOf, toRequest, type RequestId, type WsRequest } from './ws-requests.js';

export interface WsSessionOptions {
  /** The largest WebSocket message accepted (the HTTP body limit); told to the client when it connects. */
  readonly maxFrameBytes: number;
  /** Above this many bytes queued on the socket deliveries pause until the socket has written them. */
  readonly highWaterBytes: number;
  /**
   * Requests queued behind a subscribe plus publishes awaiting durability; past this the socket is not
   * read until half of them are done, so a client cannot pile up unbounded work (TCP pushes back).
   */
  readonly maxOutstanding: number;
}

type PublishRequest = Extract<WsRequest, { op: 'publish' }>;
type SubscribeRequest = Extract<WsRequest, { op: 'subscribe' }>;

/** WebSocket close code 1001 "going away" (RFC 6455 §7.4.1): the server is shutting down. */
const GOING_AWAY = 1001;
/** 1008 "policy violation": an operator closed the connection. */
const POLICY_VIOLATION = 1008;

/**
 * One `/ws` client: a core connection with one channel, the client's subscriptions as consumers on it
 * (named by the client; their delivery tags are the `deliveryId`s it acks), and publishes answered once
 * durable. Requests take effect in the order they arrive: while a subscribe is being set up, later
 * requests wait behind it, so a publish sent after a subscribe is routed to it.
 */
export class WsSession {
  private readonly channel: Channel;
  private readonly subscriptions = new Set<string>();
  /** The tail of the requests waiting behind an asynchronous one (a subscribe); undefined when idle. */
  private pending: Promise<void> | undefined;
  private outstanding = 0;
  private readingPaused = false;
  private deliveriesPaused = false;
  private ended = false;
  /** A publish came during a resource alarm: later requests wait until it clears (or the socket goes). */
  private stopWaitingForAlarm: (() => void) | undefined;
  /** A publish went to a congested queue (core flow control): later requests wait until it drains. */
  private stopWaitingForFlow: (() => void) | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly connection: Connection,
    private readonly broker: Broker,
    private readonly logger: Logger,
    private readonly options: WsSessionOptions,
  ) {
    this.channel = connection.openChannel();
    connection.onCloseRequest((reason) => this.end('CHANNEL_CLOSED', `closed by an operator: ${reason}`, POLICY_VIOLATION));
    this.send(connectedFrame(connection.principal.username, options.maxFrameBytes));
  }

  /** One WebSocket message from the client. */
  receive(data: Buffer, isBinary: boolean): void {
    if (this.ended) return;
    if (!this.pending) {
      const started = this.handle(data, isBinary);
      if (started) this.follow(started);
      return;
    }
    this.outstanding += 1;
    this.updateReading();
    const run = (): Promise<void> | undefined => {
      this.outstanding -= 1;
      this.updateReading();
      return this.ended ? undefined : this.handle(data, isBinary);
    };
    // Requests run whatever became of the one before them (a failure was reported to the client).
    this.follow(this.pending.then(run, run));
  }

  /** The socket closed: the core connection goes, returning unacked deliveries and deleting private queues. */
  closed(): void {
    if (this.ended) return;
    this.ended = true;
    this.stopWaitingForAlarm?.();
    this.stopWaitingForFlow?.();
    this.connection.close().catch((error: unknown) => this.logger.error({ err: error, protocol: 'ws' }, 'closing a /ws connection failed'));
  }

  /** Tells the client why (an error frame), closes the socket and the core connection. */
  end(code: 'BROKER_CLOSED' | 'CHANNEL_CLOSED', reason: string, closeCode = GOING_AWAY): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.send(errorFrame(new BrokerError(code, reason), undefined));
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(closeCode, reason.slice(0, 120));
    this.ended = true;
    this.stopWaitingForAlarm?.();
    this.stopWaitingForFlow?.();
    return this.connection.close();
  }

  /** Resolves once the alarm clears; a socket that goes first stops the wait (its requests never run). */
  private waitForAlarmToClear(): Promise<void> {
    this.connection.publishBlocked = true;
    return new Promise((resolve) => {
      this.stopWaitingForAlarm = this.broker.alarms.onceClear(() => {
        this.stopWaitingForAlarm = undefined;
        this.connection.publishBlocked = false;
        resolve();
      });
    });
  }

  /** Resolves once the congested queue drained or the core stopped holding (a socket that goes first stops the wait). */
  private waitForFlow(gate: FlowGate): Promise<void> {
    this.connection.publishHeld = true;
    return new Promise((resolve) => {
      this.stopWaitingForFlow = gate.onceOpen(() => {
        this.stopWaitingForFlow = undefined;
        this.connection.publishHeld = false;
        resolve();
      });
    });
  }

  private follow(promise: Promise<void>): void {
    this.pending = promise;
    const settled = (): void => {
      if (this.pending === promise) this.pending = undefined;
    };
    promise.then(settled, (error: unknown) => {
      settled();
      this.logger.error({ err: error, protocol: 'ws' }, '/ws request failed');
    });
  }

  /** Runs one request; returns a promise only for the asynchronous ones, which later requests wait for. */
  private handle(data: Buffer, isBinary: boolean): Promise<void> | undefined {
    let id: RequestId | undefined;
    try {
      const frame = parseFrame(data, isBinary);
      id = requestIdOf(frame);
      const request = toRequest(frame);
      switch (request.op) {
        case 'publish': {
          const flow = this.publish(request);
          // During a resource alarm, or while a queue it fed is congested, later requests wait (and the
          // socket stops being read), as MQTT's do.
          if (this.broker.alarms.blocked) return this.waitForAlarmToClear();
          return flow === undefined ? undefined : this.waitForFlow(flow);
        }
        case 'subscribe':
          return this.subscribe(request);
        case 'unsubscribe':
          if (!this.subscriptions.delete(request.subscription)) {
            throw new BrokerError('UNKNOWN_CONSUMER', `no subscription '${request.subscription}' on this socket`, { subscription: request.subscription });
          }
          this.channel.cancel(request.subscription);
          break;
        case 'ack':
          this.channel.ack(request.deliveryId);
          break;
        case 'nack':
          this.channel.nack(request.deliveryId, false, request.requeue);
          break;
      }
      if (request.id !== undefined) this.send(receiptFrame(request.id));
    } catch (error) {
      this.fail(error, id);
    }
    return undefined;
  }

  /** Returns the gate to wait on when the publish went to a congested queue. */
  private publish(request: PublishRequest): FlowGate | undefined {
    const { queue } = request;
    if (queue !== undefined && !this.broker.getQueue(queue) && !this.broker.getStream(queue)) {
      throw new BrokerError('QUEUE_NOT_FOUND', `no queue '${queue}' in vhost '/'`, { queue });
    }
    const outcome = this.connection.publish(request.message);
    this.outstanding += 1;
    this.updateReading();
    outcome.durable.then(
      () => this.confirm(outcome, request.id),
      (error: unknown) => {
        this.outstanding -= 1;
        this.updateReading();
        this.fail(error, request.id);
      },
    );
    return outcome.flow;
  }

  private confirm(outcome: PublishOutcome, id: RequestId | undefined): void {
    this.outstanding -= 1;
    this.updateReading();
    if (outcome.rejected) {
      // As the REST API's 429: other queues may have stored it; the client decides whether to retry.
      this.fail(new BrokerError('QUEUE_FULL', `a queue at its max length refused the message (stored in ${outcome.routed} other queue(s))`), id);
    } else if (id !== undefined) {
      this.send(receiptFrame(id, { routed: outcome.routed }));
    }
  }

  private async subscribe(request: SubscribeRequest): Promise<void> {
    const { subscription } = request;
    let privateQueue: string | undefined;
    try {
      if (this.subscriptions.has(subscription)) {
        throw new BrokerError('CONSUMER_TAG_IN_USE', `subscription '${subscription}' exists on this socket`, { subscription });
      }
      let queue: string;
      if ('topic' in request.source) {
        // A private queue per topic subscription, as the SSE stream and STOMP's /topic/ have: exclusive to
        // this connection and deleted when its consumer goes (unsubscribe or socket closed).
        const declared = await this.connection.declareQueue({ name: '', durable: false, exclusive: true, autoDelete: true });
        queue = privateQueue = declared.name;
        await this.connection.bind({ source: 'amq.topic', destination: queue, destinationKind: 'queue', routingKey: request.source.topic });
      } else {
        queue = request.source.queue;
      }
      if (this.ended) throw new BrokerError('CHANNEL_CLOSED', 'the socket closed');
      const clientAck = request.ack === 'client';
      this.connection.consume(
        this.channel,
        queue,
        { consumerTag: subscription, noAck: !clientAck, prefetch: clientAck ? request.prefetch : 0 },
        {
          deliver: (delivery: Delivery) => this.send(messageFrame(subscription, delivery, clientAck)),
          cancelled: () => {
            if (!this.subscriptions.delete(subscription)) return;
            const error = new BrokerError('QUEUE_NOT_FOUND', `queue '${queue}' was deleted; subscription '${subscription}' ended`, { queue });
            this.send(errorFrame(error, undefined, { subscription }));
          },
        },
      );
      this.subscriptions.add(subscription);
      privateQueue = undefined;
      if (request.id !== undefined) this.send(receiptFrame(request.id, { subscription, queue }));
    } catch (error) {
      if (privateQueue !== undefined && !this.connection.isClosed) await this.connection.deleteQueue(privateQueue).catch(() => 0);
      this.fail(error, request.id);
    }
  }

  private fail(error: unknown, id: RequestId | undefined): void {
    if (!(error instanceof BrokerError)) this.logger.error({ err: error, protocol: 'ws' }, '/ws request failed');
    this.send(errorFrame(error, id));
  }

  /**
   * Sends a frame. One that takes the socket's queue past the high-water mark pauses this channel's
   * deliveries (channel flow) until the socket has written it; replies still go out meanwhile.
   */
  private send(text: string): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (!this.deliveriesPaused && this.ws.bufferedAmount + text.length > this.options.highWaterBytes) {
      this.deliveriesPaused = true;
      this.channel.setFlow(false);
      this.ws.send(text, this.drained);
      return;
    }
    this.ws.send(text);
  }

  private readonly drained = (): void => {
    this.deliveriesPaused = false;
    if (!this.ended && !this.channel.isClosed) this.channel.setFlow(true);
  };

  private updateReading(): void {
    if (!this.readingPaused && this.outstanding >= this.options.maxOutstanding) {
      this.readingPaused = true;
      this.ws.pause();
    } else if (this.readingPaused && this.outstanding <= this.options.maxOutstanding / 2) {
      this.readingPaused = false;
      this.ws.resume();
    }
  }
}
