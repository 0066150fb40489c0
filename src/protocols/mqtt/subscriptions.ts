/**
 * A session's subscriptions, RabbitMQ-style: one queue per client and QoS class
 * (`mqtt-subscription-<clientId>qos0`, and `...qos1` for QoS 1 and 2), bound to `amq.topic` once per
 * topic filter. The bindings are the durable record of a persistent session's subscriptions: their
 * arguments carry the granted QoS and the 5.0 options, so the set can be rebuilt from them on reconnect.
 */
import type { BindingDeclaration } from '../../core/broker.js';
import type { BindingRecord } from '../../core/ports.js';
import type { QoS } from 'mqtt-packet';
import { MQTT_EXCHANGE } from './convert.js';
import { filterToPattern, patternToFilter, topicMatchesFilter } from './topics.js';

export type QueueClass = 0 | 1;

export const BINDING_QOS = 'x-mqtt-qos';
export const BINDING_RETAIN_AS_PUBLISHED = 'x-mqtt-retain-as-published';
export const BINDING_NO_LOCAL = 'x-mqtt-no-local';
export const BINDING_SUBSCRIPTION_ID = 'x-mqtt-subscription-id';

export interface Subscription {
  readonly filter: string;
  readonly qos: QoS;
  readonly retainAsPublished: boolean;
  readonly noLocal: boolean;
  /** 5.0 Subscription Identifier, returned on the messages this subscription matches. */
  readonly subscriptionId: number | undefined;
  /** The exact binding made for it, for unbinding. */
  readonly binding: BindingDeclaration;
}

export interface SubscriptionMatch {
  readonly qos: QoS;
  readonly retainAsPublished: boolean;
  /** The identifiers of every matching subscription that has one (5.0 3.3.4: all of them are sent). */
  readonly subscriptionIds: readonly number[];
}

/** Queue names stay under the 255-byte limit for client identifiers of up to 233 bytes. */
export const MAX_CLIENT_ID_BYTES = 233;

export function subscriptionQueueName(clientId: string, queueClass: QueueClass): string {
  return `mqtt-subscription-${clientId}qos${queueClass}`;
}

export function queueClassOf(qos: QoS): QueueClass {
  return qos === 0 ? 0 : 1;
}

export function bindingFor(
  clientId: string,
  filter: string,
  qos: QoS,
  options: { readonly retainAsPublished: boolean; readonly noLocal: boolean; readonly subscriptionId: number | undefined },
): BindingDeclaration {
  const args: Record<string, number | boolean> = { [BINDING_QOS]: qos };
  if (options.retainAsPublished) args[BINDING_RETAIN_AS_PUBLISHED] = true;
  if (options.noLocal) args[BINDING_NO_LOCAL] = true;
  if (options.subscriptionId !== undefined) args[BINDING_SUBSCRIPTION_ID] = options.subscriptionId;
  return {
    source: MQTT_EXCHANGE,
    destination: subscriptionQueueName(clientId, queueClassOf(qos)),
    destinationKind: 'queue',
    routingKey: filterToPattern(filter),
    arguments: args,
  };
}

export function sameBinding(a: BindingDeclaration, b: BindingDeclaration): boolean {
  if (a.destination !== b.destination || a.routingKey !== b.routingKey) return false;
  const left = a.arguments ?? {};
  const right = b.arguments ?? {};
  const keys = Object.keys(left);
  return keys.length === Object.keys(right).length && keys.every((key) => left[key] === right[key]);
}

export class SubscriptionSet {
  private readonly byFilter = new Map<string, Subscription>();
  /** Subscriptions that make a delivery depend on which filter matched (QoS 2 in the shared queue, RAP). */
  private needingMatch = 0;

  get size(): number {
    return this.byFilter.size;
  }

  get(filter: string): Subscription | undefined {
    return this.byFilter.get(filter);
  }

  values(): IterableIterator<Subscription> {
    return this.byFilter.values();
  }

  set(subscription: Subscription): void {
    this.delete(subscription.filter);
    this.byFilter.set(subscription.filter, subscription);
    if (this.needsMatch(subscription)) this.needingMatch += 1;
  }

  delete(filter: string): Subscription | undefined {
    const existing = this.byFilter.get(filter);
    if (!existing) return undefined;
    this.byFilter.delete(filter);
    if (this.needsMatch(existing)) this.needingMatch -= 1;
    return existing;
  }

  /**
   * Whether deliveries must be matched against the filters: without QoS 2, Retain As Published, No Local
   * or identified subscriptions, the queue a message came from says all there is to know.
   */
  get matchingNeeded(): boolean {
    return this.needingMatch > 0;
  }

  /**
   * The subscriptions of one queue class that match `topic`: the highest QoS among them [MQTT-3.3.5-1]
   * (one message per queue class), and Retain As Published if any asks for it. Undefined when none
   * does, e.g. a `$` topic against filters that start with a wildcard [MQTT-4.7.2-1], or the client's
   * own message (`fromSelf`) against No Local subscriptions only [MQTT-3.8.3-3].
   */
  match(topic: string, queueClass: QueueClass, fromSelf = false): SubscriptionMatch | undefined {
    let qos: QoS | undefined;
    let retainAsPublished = false;
    const subscriptionIds: number[] = [];
    for (const subscription of this.byFilter.values()) {
      if (queueClassOf(subscription.qos) !== queueClass || (fromSelf && subscription.noLocal)) continue;
      if (!topicMatchesFilter(topic, subscription.filter)) continue;
      if (qos === undefined || subscription.qos > qos) qos = subscription.qos;
      retainAsPublished ||= subscription.retainAsPublished;
      if (subscription.subscriptionId !== undefined) subscriptionIds.push(subscription.subscriptionId);
    }
    return qos === undefined ? undefined : { qos, retainAsPublished, subscriptionIds };
  }

  /** Rebuilds the subscriptions of a client from the bindings of its queues (persistent session resumed). */
  static fromBindings(clientId: string, bindings: readonly BindingRecord[]): SubscriptionSet {
    const set = new SubscriptionSet();
    const queues = new Map<string, QueueClass>([
      [subscriptionQueueName(clientId, 0), 0],
      [subscriptionQueueName(clientId, 1), 1],
    ]);
    for (const binding of bindings) {
      const queueClass = queues.get(binding.destination);
      if (queueClass === undefined || binding.destinationKind !== 'queue' || binding.source !== MQTT_EXCHANGE) continue;
      const stored = binding.arguments[BINDING_QOS];
      const qos: QoS = stored === 0 || stored === 1 || stored === 2 ? stored : queueClass;
      const subscriptionId = binding.arguments[BINDING_SUBSCRIPTION_ID];
      set.set({
        filter: patternToFilter(binding.routingKey),
        qos,
        retainAsPublished: binding.arguments[BINDING_RETAIN_AS_PUBLISHED] === true,
        noLocal: binding.arguments[BINDING_NO_LOCAL] === true,
        subscriptionId: typeof subscriptionId === 'number' ? subscriptionId : undefined,
        binding: {
          source: binding.source,
          destination: binding.destination,
          destinationKind: 'queue',
          routingKey: binding.routingKey,
          arguments: binding.arguments,
        },
      });
    }
    return set;
  }

  private needsMatch(subscription: Subscription): boolean {
    return subscription.qos === 2 || subscription.retainAsPublished || subscription.noLocal || subscription.subscriptionId !== undefined;
  }
}
