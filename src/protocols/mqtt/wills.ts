/**
 * Publishing a will message (3.1.2.5 / 5.0 3.1.3.2): on `amq.topic` as its client's principal, and into
 * the retained store when the will has RETAIN set. Shared by wills sent at once, after their 5.0 Will
 * Delay Interval, and after a broker restart (stored wills, session-store.ts).
 */
import type { Broker } from '../../core/broker.js';
import type { Message } from '../../core/message/message.js';
import type { Logger, Principal } from '../../core/ports.js';
import { wasPublishedRetained } from './convert.js';

export function publishWillMessage(broker: Broker, logger: Logger, clientId: string, principal: Principal, will: Message): void {
  try {
    // A delayed will's Message Expiry Interval counts from its publication, not from the disconnect.
    const message = will.properties.expiration === undefined ? will : { ...will, properties: { ...will.properties, timestamp: broker.clock.now() } };
    broker.publish(principal, message);
    if (wasPublishedRetained(message)) {
      const stored = message.body.length === 0 ? broker.retained.clear(message.routingKey) : broker.retained.set(message.routingKey, message);
      stored.catch((error: unknown) => logger.error({ err: error, clientId }, 'storing a retained will failed'));
    }
  } catch (error) {
    logger.warn({ err: error, clientId }, 'publishing a will message failed');
  }
}
