/**
 * RabbitMQ's direct reply-to: a requester consumes the pseudo-queue `amq.rabbitmq.reply-to` (no-ack)
 * and publishes requests with that reply-to; the server rewrites it into a per-channel address, and a
 * reply published to the default exchange with that address as routing key goes straight to the
 * requester's channel, with no queue in between. One registry per adapter (the addresses are only
 * valid while the requesting channel lives).
 */
import { randomBytes } from 'node:crypto';
import type { BasicProperties } from './codec/index.js';

export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';
const ADDRESS_PREFIX = `${DIRECT_REPLY_TO}.`;

export interface DirectReplyTarget {
  /** Delivers a reply to the requester; false when the requester is gone. */
  deliverReply(routingKey: string, properties: BasicProperties, body: Uint8Array): boolean;
}

export class DirectReplyRegistry {
  private readonly targets = new Map<string, DirectReplyTarget>();

  /** A fresh reply address for `target`. */
  register(target: DirectReplyTarget): string {
    const address = ADDRESS_PREFIX + randomBytes(18).toString('base64url');
    this.targets.set(address, target);
    return address;
  }

  unregister(address: string): void {
    this.targets.delete(address);
  }

  /** Whether a default-exchange routing key is a reply address (routed here, never to a queue). */
  static isReplyAddress(routingKey: string): boolean {
    return routingKey.startsWith(ADDRESS_PREFIX);
  }

  lookup(address: string): DirectReplyTarget | undefined {
    return this.targets.get(address);
  }
}
