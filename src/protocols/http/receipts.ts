import { randomBytes } from 'node:crypto';
import type { Broker } from '../../core/broker.js';
import { BrokerError } from '../../core/errors.js';
import type { Channel, Delivery } from '../../core/channel.js';
import type { Connection } from '../../core/connection.js';
import type { Clock, Principal, TimerHandle } from '../../core/ports.js';

interface Scope {
  readonly connection: Connection;
  readonly channel: Channel;
}

interface Receipt {
  readonly scope: Scope;
  readonly queue: string;
  readonly deliveryTag: number;
  readonly timer: TimerHandle;
}

/**
 * The HTTP API's pulled-but-unsettled messages, SQS style. Each user gets one long-lived internal
 * connection and channel (the core authorizes its operations for that user); every message pulled is an
 * unacked delivery on it, named to the client by a random receipt handle (128 bits, unguessable), and
 * nacked back onto its queue if the visibility timeout passes before an ack.
 */
export class ReceiptBook {
  private readonly scopes = new Map<string, Scope>();
  private readonly receipts = new Map<string, Receipt>();
  private closed = false;

  constructor(
    private readonly broker: Broker,
    private readonly clock: Clock,
  ) {}

  scopeFor(principal: Principal): Scope {
    if (this.closed) throw new BrokerError('BROKER_CLOSED', 'the HTTP API is shutting down');
    let scope = this.scopes.get(principal.username);
    if (!scope || scope.connection.isClosed) {
      const connection = this.broker.connect(principal, { protocol: 'http', remoteAddress: 'internal', clientId: `http:${principal.username}`, internal: true });
      scope = { connection, channel: connection.openChannel() };
      this.scopes.set(principal.username, scope);
    }
    return scope;
  }

  /** Registers a pulled delivery; returns its receipt handle. */
  issue(scope: Scope, delivery: Delivery, visibilityMs: number): string {
    const handle = randomBytes(16).toString('base64url');
    const timer = this.clock.setTimer(visibilityMs, () => this.settle(handle, undefined, 'nack', true));
    this.receipts.set(handle, { scope, queue: delivery.queue, deliveryTag: delivery.deliveryTag, timer });
    return handle;
  }

  /**
   * Acks or nacks the delivery behind a handle. False when the handle is unknown, expired (its message is
   * visible again), from another user, or for another queue (`queue` undefined skips those checks).
   */
  settle(handle: string, owner: { principal: Principal; queue: string } | undefined, action: 'ack' | 'nack', requeue: boolean): boolean {
    const receipt = this.receipts.get(handle);
    if (!receipt) return false;
    if (owner && (receipt.scope.connection.principal.username !== owner.principal.username || receipt.queue !== owner.queue)) return false;
    this.receipts.delete(handle);
    receipt.timer.cancel();
    if (receipt.scope.connection.isClosed) return false;
    try {
      if (action === 'ack') receipt.scope.channel.ack(receipt.deliveryTag);
      else receipt.scope.channel.nack(receipt.deliveryTag, false, requeue);
    } catch {
      // The queue was deleted (or the channel closed) under the delivery: nothing is left to settle.
      return false;
    }
    return true;
  }

  get outstanding(): number {
    return this.receipts.size;
  }

  /** Closes every scope: their unacked deliveries go back to their queues. */
  async close(): Promise<void> {
    this.closed = true;
    for (const receipt of this.receipts.values()) receipt.timer.cancel();
    this.receipts.clear();
    const scopes = [...this.scopes.values()];
    this.scopes.clear();
    for (const scope of scopes) await scope.connection.close();
  }
}
