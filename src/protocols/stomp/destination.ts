/**
 * STOMP destinations as RabbitMQ's STOMP plugin reads them (DESIGN.md §3):
 *
 * | destination          | SEND                                   | SUBSCRIBE                                        |
 * |----------------------|----------------------------------------|--------------------------------------------------|
 * | /queue/q             | default exchange, key q (q declared)   | consume q (declared durable if missing)          |
 * | /amq/queue/q         | default exchange, key q                | consume existing q (never declared)              |
 * | /topic/k             | amq.topic, key k                       | fresh queue bound to amq.topic with pattern k    |
 * | /exchange/e[/k]      | exchange e, key k ('' when absent)     | fresh queue bound to e with pattern k            |
 * | /temp-queue/t        | this session's temporary queue t       | consume this session's temporary queue t         |
 * | /reply-queue/q       | default exchange, key q                | consume q                                        |
 *
 * `/reply-queue/` names are what a `/temp-queue/` in `reply-to` is rewritten to, so a replier's SEND
 * reaches the requester's private queue.
 */
export type Destination =
  | { readonly kind: 'queue'; readonly queue: string }
  | { readonly kind: 'amq-queue'; readonly queue: string }
  | { readonly kind: 'topic'; readonly routingKey: string }
  | { readonly kind: 'exchange'; readonly exchange: string; readonly routingKey: string }
  | { readonly kind: 'temp-queue'; readonly name: string }
  | { readonly kind: 'reply-queue'; readonly queue: string };

export const TOPIC_EXCHANGE = 'amq.topic';
export const REPLY_QUEUE_PREFIX = '/reply-queue/';
export const TEMP_QUEUE_PREFIX = '/temp-queue/';

export const validDestinationTypes = '/queue/, /amq/queue/, /topic/, /exchange/, /temp-queue/ and /reply-queue/';

/** The destination, or undefined when the text names none (an empty name included). */
export function parseDestination(text: string): Destination | undefined {
  const rest = (prefix: string): string | undefined => (text.startsWith(prefix) && text.length > prefix.length ? text.slice(prefix.length) : undefined);
  let name: string | undefined;
  if ((name = rest('/queue/')) !== undefined) return { kind: 'queue', queue: name };
  if ((name = rest('/amq/queue/')) !== undefined) return { kind: 'amq-queue', queue: name };
  if ((name = rest('/topic/')) !== undefined) return { kind: 'topic', routingKey: name };
  if ((name = rest(TEMP_QUEUE_PREFIX)) !== undefined) return { kind: 'temp-queue', name };
  if ((name = rest(REPLY_QUEUE_PREFIX)) !== undefined) return { kind: 'reply-queue', queue: name };
  if ((name = rest('/exchange/')) !== undefined) {
    const slash = name.indexOf('/');
    const exchange = slash === -1 ? name : name.slice(0, slash);
    if (exchange === '') return undefined;
    return { kind: 'exchange', exchange, routingKey: slash === -1 ? '' : name.slice(slash + 1) };
  }
  return undefined;
}

/**
 * The destination a MESSAGE names, from where its message was published (RabbitMQ's rule): the default
 * exchange gives /queue/key, amq.topic gives /topic/key, any other exchange /exchange/name/key.
 */
export function destinationOf(exchange: string, routingKey: string): string {
  if (exchange === '') return `/queue/${routingKey}`;
  if (exchange === TOPIC_EXCHANGE) return `/topic/${routingKey}`;
  return `/exchange/${exchange}/${routingKey}`;
}
