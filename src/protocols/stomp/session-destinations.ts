import { createHash, randomBytes } from 'node:crypto';
import type { Broker } from '../../core/broker.js';
import type { Connection } from '../../core/connection.js';
import type { StompHeaders } from './codec/frame.js';
import type { SendTarget } from './convert.js';
import { REPLY_QUEUE_PREFIX, TOPIC_EXCHANGE, type Destination } from './destination.js';
import { missingHeader } from './errors.js';
import { queueDeclaration, wantsDurableSubscription } from './queue-declaration.js';

export interface SubscriptionQueue {
  readonly queue: string;
  /** A durable subscription's queue: UNSUBSCRIBE with `durable:true` deletes it. */
  readonly durableSubscription: boolean;
}

/**
 * What a session's destinations mean in the core: which exchange and key a SEND goes to, which queue a
 * SUBSCRIBE consumes (declaring and binding it first where RabbitMQ would), and the session's temporary
 * queues. Async work (declares, binds) happens only when something is missing, so a SEND to a known
 * destination stays synchronous.
 */
export class SessionDestinations {
  /** `/temp-queue/<name>` -> the private queue made for it. */
  private readonly tempQueues = new Map<string, string>();

  constructor(
    private readonly broker: Broker,
    private readonly connection: Connection,
  ) {}

  /** True when `sendTarget` can answer without declaring anything first. */
  isReady(destination: Destination): boolean {
    switch (destination.kind) {
      case 'queue':
        return this.broker.getQueue(destination.queue) !== undefined;
      case 'temp-queue':
        return this.tempQueues.has(destination.name);
      default:
        return true;
    }
  }

  /** Declares what a SEND to this destination needs (a /queue/ queue, a temporary queue). */
  async prepareSend(destination: Destination, headers: StompHeaders): Promise<void> {
    if (destination.kind === 'queue') await this.ensureQueue(destination.queue, headers);
    else if (destination.kind === 'temp-queue') await this.ensureTempQueue(destination.name);
  }

  /** Where a SEND goes; call after `isReady` or `prepareSend`. */
  sendTarget(destination: Destination): SendTarget {
    switch (destination.kind) {
      case 'queue':
      case 'amq-queue':
      case 'reply-queue':
        return { exchange: '', routingKey: destination.queue };
      case 'topic':
        return { exchange: TOPIC_EXCHANGE, routingKey: destination.routingKey };
      case 'exchange':
        return { exchange: destination.exchange, routingKey: destination.routingKey };
      case 'temp-queue':
        return { exchange: '', routingKey: this.tempQueues.get(destination.name) ?? '' };
    }
  }

  /** The queue a SUBSCRIBE consumes, declared and bound as its destination type requires. */
  async subscriptionQueue(destination: Destination, destinationText: string, headers: StompHeaders, id: string | undefined): Promise<SubscriptionQueue> {
    switch (destination.kind) {
      case 'queue':
        await this.ensureQueue(destination.queue, headers);
        return { queue: destination.queue, durableSubscription: false };
      case 'amq-queue':
      case 'reply-queue':
        // Never declared: a missing queue is QUEUE_NOT_FOUND when consuming.
        return { queue: destination.queue, durableSubscription: false };
      case 'temp-queue':
        return { queue: await this.ensureTempQueue(destination.name), durableSubscription: false };
      case 'topic':
        return this.bindFreshQueue(TOPIC_EXCHANGE, destination.routingKey, destinationText, headers, id);
      case 'exchange':
        // Passive: the exchange must exist (EXCHANGE_NOT_FOUND otherwise) before any queue is made for it.
        await this.connection.declareExchange({ name: destination.exchange, type: 'direct' }, true);
        return this.bindFreshQueue(destination.exchange, destination.routingKey, destinationText, headers, id);
    }
  }

  /** The private queue behind `/temp-queue/<tempName>`, made on first use. */
  tempQueue(tempName: string): Promise<string> {
    return this.ensureTempQueue(tempName);
  }

  /** The rewritten reply-to when the temporary queue exists already, else undefined. */
  knownReplyQueue(tempName: string): string | undefined {
    const queue = this.tempQueues.get(tempName);
    return queue === undefined ? undefined : `${REPLY_QUEUE_PREFIX}${queue}`;
  }

  hasTempQueue(tempName: string): boolean {
    return this.tempQueues.has(tempName);
  }

  /** RabbitMQ semantics for /queue/: declared durable (non-exclusive, non-auto-delete) when missing. */
  private async ensureQueue(name: string, headers: StompHeaders): Promise<void> {
    if (this.broker.getQueue(name)) return;
    await this.connection.declareQueue(queueDeclaration(name, headers, { durable: true, autoDelete: false, exclusive: false }));
  }

  private async ensureTempQueue(tempName: string): Promise<string> {
    const known = this.tempQueues.get(tempName);
    if (known !== undefined) return known;
    // Exclusive to this connection, so nobody else consumes it and it goes when the session ends.
    const declared = await this.connection.declareQueue({ name: '', durable: false, exclusive: true, autoDelete: true });
    // Two frames may have raced to make it: keep the first, the other is an unused exclusive queue that
    // goes with the connection.
    const raced = this.tempQueues.get(tempName);
    if (raced !== undefined) return raced;
    this.tempQueues.set(tempName, declared.name);
    return declared.name;
  }

  /**
   * /topic/ and /exchange/ subscriptions: a queue of their own bound with the destination's pattern.
   * Durable ones (`durable:true`, needing an `id`) get a named durable queue that outlives the session
   * and collects messages while the subscriber is away; others an exclusive auto-delete queue.
   */
  private async bindFreshQueue(
    exchange: string,
    pattern: string,
    destinationText: string,
    headers: StompHeaders,
    id: string | undefined,
  ): Promise<SubscriptionQueue> {
    const durable = wantsDurableSubscription(headers);
    let name = headers.get('x-queue-name');
    if (durable) {
      if (id === undefined) throw missingHeader('SUBSCRIBE', 'id');
      name ??= durableSubscriptionQueueName(destinationText, id);
      await this.connection.declareQueue(queueDeclaration(name, headers, { durable: true, autoDelete: false, exclusive: false }));
    } else {
      name ??= `stomp-subscription-${randomBytes(16).toString('base64url')}`;
      await this.connection.declareQueue({
        ...queueDeclaration(name, headers, { durable: false, autoDelete: true, exclusive: true }),
        // A non-durable subscription's queue is always private and transient, whatever the headers say.
        durable: false,
        exclusive: true,
      });
    }
    await this.connection.bind({ source: exchange, destination: name, destinationKind: 'queue', routingKey: pattern });
    return { queue: name, durableSubscription: durable };
  }
}

/**
 * A durable subscription's queue name is derived from its destination and id, so that the subscriber
 * finds its queue (and what arrived while it was away) when it subscribes again, also after a restart.
 */
export function durableSubscriptionQueueName(destination: string, id: string): string {
  const digest = createHash('sha256').update(destination).update('\0').update(id).digest('base64url').slice(0, 22);
  return `stomp-subscription-${digest}`;
}
