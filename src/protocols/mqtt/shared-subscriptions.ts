/**
 * Shared subscriptions (5.0 4.8.2, also offered to 3.1.1 clients as Mosquitto does): `$share/{group}/{filter}`
 * is one core queue per group and filter, bound once from `amq.topic`; every member consumes it, and the
 * core's round robin over a queue's consumers balances the messages between them.
 */
import { createHash } from 'node:crypto';
import type { QoS } from 'mqtt-packet';
import type { BindingDeclaration } from '../../core/broker.js';
import { MQTT_EXCHANGE } from './convert.js';
import type { BindingRecord } from '../../core/ports.js';
import { filterToPattern, isValidTopicFilter, patternToFilter } from './topics.js';

const PREFIX = '$share/';
export const BINDING_SHARE_GROUP = 'x-mqtt-share-group';
/** On a member's own binding to the group's queue: the member's client identifier. */
export const BINDING_SHARE_MEMBER = 'x-mqtt-share-member';
/** On a member's own binding: the QoS granted to it. */
export const BINDING_SHARE_QOS = 'x-mqtt-qos';

export interface SharedFilter {
  readonly group: string;
  readonly filter: string;
}

/** A member's subscription to a shared queue; lives as long as its connection. */
export interface SharedSubscription extends SharedFilter {
  /** The whole `$share/...` filter, as the client subscribed and will unsubscribe it. */
  readonly topic: string;
  qos: QoS;
  readonly queue: string;
  readonly consumerTag: string;
  /**
   * A persistent session's record of its membership: a second binding of the group's queue, naming the
   * member (the router delivers a message once per queue however many bindings match, so it adds no
   * copies). Durable with a durable group queue, it is how the membership survives a disconnect and a
   * restart; undefined for members with clean sessions, whose membership ends with the connection.
   */
  memberBinding: BindingDeclaration | undefined;
}

/** Splits `$share/{group}/{filter}`; undefined when the group or the filter is not valid (5.0 4.8.2). */
export function parseSharedFilter(topic: string): SharedFilter | undefined {
  const rest = topic.slice(PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  const group = rest.slice(0, slash);
  const filter = rest.slice(slash + 1);
  if (group.includes('+') || group.includes('#') || filter === '' || !isValidTopicFilter(filter)) return undefined;
  return { group, filter };
}

/**
 * The group's queue. Hashed: group and filter together may be far longer than a queue name may be, and
 * the hash keeps different (group, filter) pairs apart.
 */
export function sharedQueueName(shared: SharedFilter): string {
  const digest = createHash('sha256').update(shared.group).update('\0').update(shared.filter).digest('base64url');
  return `mqtt-shared-${digest.slice(0, 32)}`;
}

/** The same for every member (no per-member QoS), so members share one binding instead of adding copies. */
export function sharedBinding(shared: SharedFilter): BindingDeclaration {
  return {
    source: MQTT_EXCHANGE,
    destination: sharedQueueName(shared),
    destinationKind: 'queue',
    routingKey: filterToPattern(shared.filter),
    arguments: { [BINDING_SHARE_GROUP]: shared.group },
  };
}

/** A persistent member's own binding to its group's queue (see SharedSubscription.memberBinding). */
export function sharedMemberBinding(shared: SharedFilter, clientId: string, qos: QoS): BindingDeclaration {
  return {
    source: MQTT_EXCHANGE,
    destination: sharedQueueName(shared),
    destinationKind: 'queue',
    routingKey: filterToPattern(shared.filter),
    arguments: { [BINDING_SHARE_GROUP]: shared.group, [BINDING_SHARE_MEMBER]: clientId, [BINDING_SHARE_QOS]: qos },
  };
}

/** A persistent session's shared subscriptions, from the member bindings naming it (session resumed). */
export function memberBindingsOf(clientId: string, bindings: readonly BindingRecord[]): { shared: SharedFilter; qos: QoS; binding: BindingDeclaration }[] {
  const found: { shared: SharedFilter; qos: QoS; binding: BindingDeclaration }[] = [];
  for (const binding of bindings) {
    const args = binding.arguments;
    if (args[BINDING_SHARE_MEMBER] !== clientId || binding.source !== MQTT_EXCHANGE || binding.destinationKind !== 'queue') continue;
    const group = args[BINDING_SHARE_GROUP];
    if (typeof group !== 'string') continue;
    const stored = args[BINDING_SHARE_QOS];
    const qos: QoS = stored === 0 || stored === 2 ? stored : 1;
    const shared = { group, filter: patternToFilter(binding.routingKey) };
    found.push({
      shared,
      qos,
      binding: { source: binding.source, destination: binding.destination, destinationKind: 'queue', routingKey: binding.routingKey, arguments: args },
    });
  }
  return found;
}
