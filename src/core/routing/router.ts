/**
 * Exchanges, bindings and the resolution of a published message to its queues and streams.
 *
 * The router only knows names: it does not know which queues or streams exist (bindings to them are
 * taken at face value, the caller removes them when a queue or stream is deleted) and it does not
 * enforce policy (reserved `amq.` names, `internal` exchanges refusing direct publishes, permissions,
 * auto-delete): the broker does, with the information the router returns.
 *
 * Routing follows RabbitMQ (`rabbit_exchange:route/2`):
 * - The message is matched against the exchange it was published to; destinations that are exchanges
 *   are matched in turn with the same routing key and headers. Each exchange is matched at most once
 *   per message, so cycles end, and each queue or stream is reported once.
 * - When an exchange routes the message nowhere (no binding matched, not even one to an exchange already
 *   visited), its `alternate-exchange` argument, if any, names an exchange that gets the message next.
 *   That applies at every hop, and AE chains are cycle-safe by the same visited rule. A missing AE or a
 *   missing destination exchange is skipped.
 * - The default exchange `""` is a direct exchange to which every queue is implicitly bound by its
 *   name. It holds no bindings here: routing through it yields the routing key as a candidate queue name
 *   that the caller must check. It cannot be the source or destination of an explicit binding
 *   (ACCESS_REFUSED, as in RabbitMQ), but it may be an alternate exchange.
 */
import { BrokerError } from '../errors.js';
import type { HeaderTable } from '../message/message.js';
import type { BindingDestinationKind, BindingRecord, ExchangeRecord, ExchangeType } from '../ports.js';
import { createMatcher, type BindingEntry, type Destination, type ExchangeMatcher, type MatchContext } from './exchange-matchers.js';
import { headerTablesEqual } from './headers-match.js';
import { RouteResult } from './route-result.js';
import { splitTopicInto } from './topic-trie.js';

export const DEFAULT_EXCHANGE = '';
export const ALTERNATE_EXCHANGE_ARGUMENT = 'alternate-exchange';

const EXCHANGE_TYPES: ReadonlySet<string> = new Set<ExchangeType>(['direct', 'fanout', 'topic', 'headers']);

export interface RemovedExchange {
  readonly exchange: ExchangeRecord;
  /** Bindings dropped with it: those from it and those to it (from other exchanges). */
  readonly bindings: readonly BindingRecord[];
}

interface ExchangeState {
  readonly record: ExchangeRecord;
  readonly alternate: string | undefined;
  readonly matcher: ExchangeMatcher;
  /** destination -> routing key -> bindings (one per distinct argument table). */
  readonly bindings: Map<Destination, Map<string, BindingEntry[]>>;
  bindingCount: number;
  /** Route generation in which this exchange was last queued (visited set without a Set). */
  mark: number;
}

export class Router {
  private readonly exchanges = new Map<string, ExchangeState>();
  private readonly destinations: Record<BindingDestinationKind, Map<string, Destination>> = {
    queue: new Map(),
    stream: new Map(),
    exchange: new Map(),
  };
  private readonly walk = new RouteWalk(this.exchanges, this.destinations.queue);

  // -------------------------------------------------------------------------------------------------
  // Exchanges

  /**
   * Adds an exchange; returns false when an equivalent one exists (declare is idempotent).
   * Throws PRECONDITION_FAILED when one with this name exists with another type, durability,
   * auto-delete, internal flag or alternate exchange (the settings AMQP's declare compares), and
   * INVALID_ARGUMENT for an unknown type or a non-string `alternate-exchange`.
   */
  addExchange(record: ExchangeRecord): boolean {
    if (!EXCHANGE_TYPES.has(record.type)) {
      throw new BrokerError('INVALID_ARGUMENT', `unknown exchange type ${JSON.stringify(record.type)}`, {
        exchange: record.name,
        type: record.type,
      });
    }
    const alternate = record.arguments[ALTERNATE_EXCHANGE_ARGUMENT];
    if (alternate !== undefined && typeof alternate !== 'string') {
      throw new BrokerError('INVALID_ARGUMENT', `the ${ALTERNATE_EXCHANGE_ARGUMENT} argument must be a string`, {
        exchange: record.name,
      });
    }
    const existing = this.exchanges.get(record.name);
    if (existing !== undefined) {
      const current = existing.record;
      const equivalent =
        current.type === record.type &&
        current.durable === record.durable &&
        current.autoDelete === record.autoDelete &&
        current.internal === record.internal &&
        existing.alternate === alternate;
      if (equivalent) return false;
      throw new BrokerError('PRECONDITION_FAILED', `exchange '${record.name}' exists with other settings`, {
        exchange: record.name,
      });
    }
    this.exchanges.set(record.name, {
      record,
      alternate,
      matcher: createMatcher(record.type),
      bindings: new Map(),
      bindingCount: 0,
      mark: 0,
    });
    return true;
  }

  /**
   * Removes an exchange with every binding from it and to it; undefined when there is none.
   * The default exchange cannot be removed (ACCESS_REFUSED).
   */
  removeExchange(name: string): RemovedExchange | undefined {
    if (name === DEFAULT_EXCHANGE) {
      throw new BrokerError('ACCESS_REFUSED', 'the default exchange cannot be deleted', { exchange: name });
    }
    const state = this.exchanges.get(name);
    if (state === undefined) return undefined;
    const removed = this.removeBindingsForSource(name);
    for (const record of this.removeBindingsForDestination('exchange', name)) removed.push(record);
    this.exchanges.delete(name);
    return { exchange: state.record, bindings: removed };
  }

  getExchange(name: string): ExchangeRecord | undefined {
    return this.exchanges.get(name)?.record;
  }

  hasExchange(name: string): boolean {
    return this.exchanges.has(name);
  }

  listExchanges(): ExchangeRecord[] {
    return Array.from(this.exchanges.values(), (state) => state.record);
  }

  // -------------------------------------------------------------------------------------------------
  // Bindings

  /**
   * Adds a binding; returns false when an identical one (same source, destination, routing key and
   * equal arguments) exists. Bindings differing only in arguments are distinct, as in AMQP.
   * Throws EXCHANGE_NOT_FOUND when the source, or a destination exchange, is missing; ACCESS_REFUSED
   * for the default exchange; INVALID_ARGUMENT for invalid headers-binding arguments (`x-match`).
   * Queue and stream destinations are not checked: that is the caller's job. The record is kept as is.
   */
  bind(record: BindingRecord): boolean {
    this.refuseDefaultExchange(record);
    const source = this.exchanges.get(record.source);
    if (source === undefined) {
      throw new BrokerError('EXCHANGE_NOT_FOUND', `no exchange '${record.source}'`, { exchange: record.source });
    }
    if (record.destinationKind === 'exchange' && !this.exchanges.has(record.destination)) {
      throw new BrokerError('EXCHANGE_NOT_FOUND', `no exchange '${record.destination}'`, { exchange: record.destination });
    }
    const compiled = source.matcher.compile(record);
    if (this.findBinding(source, record) !== undefined) return false;

    const destination = this.internDestination(record.destinationKind, record.destination);
    const entry: BindingEntry = { record, destination, headers: compiled };
    let byKey = source.bindings.get(destination);
    if (byKey === undefined) {
      byKey = new Map();
      source.bindings.set(destination, byKey);
    }
    const sameKey = byKey.get(record.routingKey);
    if (sameKey === undefined) byKey.set(record.routingKey, [entry]);
    else sameKey.push(entry);
    source.bindingCount++;
    destination.bindings.add(entry);
    source.matcher.add(entry);
    return true;
  }

  /** Removes the identical binding; returns false when there was none (or the source is missing). */
  unbind(record: BindingRecord): boolean {
    this.refuseDefaultExchange(record);
    const source = this.exchanges.get(record.source);
    if (source === undefined) return false;
    const entry = this.findBinding(source, record);
    if (entry === undefined) return false;
    this.removeEntry(source, entry);
    return true;
  }

  listBindings(): BindingRecord[] {
    const out: BindingRecord[] = [];
    for (const state of this.exchanges.values()) collectBindings(state, out);
    return out;
  }

  bindingsForSource(exchange: string): BindingRecord[] {
    const out: BindingRecord[] = [];
    const state = this.exchanges.get(exchange);
    if (state !== undefined) collectBindings(state, out);
    return out;
  }

  /** Number of bindings whose source is this exchange (for auto-delete decisions, without a copy). */
  sourceBindingCount(exchange: string): number {
    return this.exchanges.get(exchange)?.bindingCount ?? 0;
  }

  bindingsForDestination(kind: BindingDestinationKind, name: string): BindingRecord[] {
    const destination = this.destinations[kind].get(name);
    return destination === undefined ? [] : Array.from(destination.bindings, (entry) => entry.record);
  }

  /**
   * Removes every binding to this queue, stream or exchange (call it when the queue or stream is
   * deleted) and returns them, so the caller can update metadata and auto-delete sources left empty.
   */
  removeBindingsForDestination(kind: BindingDestinationKind, name: string): BindingRecord[] {
    const destination = this.destinations[kind].get(name);
    if (destination === undefined) return [];
    const removed: BindingRecord[] = [];
    for (const entry of Array.from(destination.bindings)) {
      const source = this.exchanges.get(entry.record.source);
      if (source !== undefined) this.removeEntry(source, entry);
      removed.push(entry.record);
    }
    return removed;
  }

  /** Removes every binding from this exchange and returns them. */
  removeBindingsForSource(exchange: string): BindingRecord[] {
    const state = this.exchanges.get(exchange);
    if (state === undefined) return [];
    const removed: BindingRecord[] = [];
    collectBindings(state, removed);
    for (const byKey of Array.from(state.bindings.values())) {
      for (const entries of Array.from(byKey.values())) {
        for (const entry of entries.slice()) this.removeEntry(state, entry);
      }
    }
    return removed;
  }

  // -------------------------------------------------------------------------------------------------
  // Routing

  /**
   * Resolves the queues and streams a message published to `exchange` goes to, into `into` (cleared
   * first; pass a reused instance on hot paths) and returns it. Through the default exchange the result
   * holds the routing key as an unchecked candidate queue name (see RouteResult.queues). Throws
   * EXCHANGE_NOT_FOUND when `exchange` does not exist. Does not check `internal`: publishing to an
   * internal exchange must be refused by the caller, while bindings from other exchanges reach it.
   */
  route(exchange: string, routingKey: string, headers: HeaderTable | undefined, into: RouteResult = new RouteResult()): RouteResult {
    into.clear();
    if (exchange !== DEFAULT_EXCHANGE && !this.exchanges.has(exchange)) {
      throw new BrokerError('EXCHANGE_NOT_FOUND', `no exchange '${exchange}'`, { exchange });
    }
    this.walk.run(exchange, routingKey, headers, into);
    return into;
  }

  // -------------------------------------------------------------------------------------------------

  private refuseDefaultExchange(record: BindingRecord): void {
    if (record.source === DEFAULT_EXCHANGE || (record.destinationKind === 'exchange' && record.destination === DEFAULT_EXCHANGE)) {
      throw new BrokerError('ACCESS_REFUSED', 'operation not permitted on the default exchange', {
        source: record.source,
        destination: record.destination,
      });
    }
  }

  private findBinding(source: ExchangeState, record: BindingRecord): BindingEntry | undefined {
    const destination = this.destinations[record.destinationKind].get(record.destination);
    if (destination === undefined) return undefined;
    const entries = source.bindings.get(destination)?.get(record.routingKey);
    return entries?.find((entry) => headerTablesEqual(entry.record.arguments, record.arguments));
  }

  private removeEntry(source: ExchangeState, entry: BindingEntry): void {
    const destination = entry.destination;
    const byKey = source.bindings.get(destination);
    const entries = byKey?.get(entry.record.routingKey);
    const index = entries?.indexOf(entry) ?? -1;
    if (byKey === undefined || entries === undefined || index === -1) return;
    entries.splice(index, 1);
    if (entries.length === 0) byKey.delete(entry.record.routingKey);
    if (byKey.size === 0) source.bindings.delete(destination);
    source.bindingCount--;
    source.matcher.remove(entry);
    destination.bindings.delete(entry);
    if (destination.bindings.size === 0) this.destinations[destination.kind].delete(destination.name);
  }

  private internDestination(kind: BindingDestinationKind, name: string): Destination {
    const table = this.destinations[kind];
    let destination = table.get(name);
    if (destination === undefined) {
      destination = { kind, name, mark: 0, bindings: new Set() };
      table.set(name, destination);
    }
    return destination;
  }
}

function collectBindings(state: ExchangeState, out: BindingRecord[]): void {
  for (const byKey of state.bindings.values()) {
    for (const entries of byKey.values()) {
      for (const entry of entries) out.push(entry.record);
    }
  }
}

/**
 * The state of one route in progress. route() is synchronous and not re-entrant, so the router keeps a
 * single walk and reuses its work list and scratch arrays for every message.
 */
class RouteWalk implements MatchContext {
  routingKey = '';
  headers: HeaderTable | undefined = undefined;
  readonly words: string[] = [];
  private wordCount = -1;
  /** The key `words` holds: a publisher mostly repeats its routing key, which is then not split again. */
  private splitKey: string | undefined = undefined;
  /** Increments per route; exchanges and destinations stamped with it were already seen. */
  private epoch = 0;
  private defaultExchangeMark = 0;
  private readonly pending: ExchangeState[] = [];
  private result: RouteResult | undefined = undefined;
  private matchedHere = 0;

  constructor(
    private readonly exchanges: ReadonlyMap<string, ExchangeState>,
    private readonly queues: ReadonlyMap<string, Destination>,
  ) {}

  run(exchange: string, routingKey: string, headers: HeaderTable | undefined, into: RouteResult): void {
    this.epoch++;
    this.result = into;
    this.routingKey = routingKey;
    this.headers = headers;
    if (routingKey !== this.splitKey) this.wordCount = -1;
    try {
      this.enqueueExchange(exchange);
      const pending = this.pending;
      for (let i = 0; i < pending.length; i++) {
        const state = pending[i]!;
        this.matchedHere = 0;
        state.matcher.match(this);
        // RabbitMQ consults the AE only when this exchange produced no destination at all.
        if (this.matchedHere === 0 && state.alternate !== undefined) this.enqueueExchange(state.alternate);
      }
    } finally {
      this.pending.length = 0;
      // Do not keep the message's headers or the caller's result alive between routes.
      this.result = undefined;
      this.headers = undefined;
    }
  }

  topicWordCount(): number {
    if (this.wordCount < 0) {
      this.wordCount = splitTopicInto(this.routingKey, this.words);
      this.splitKey = this.routingKey;
    }
    return this.wordCount;
  }

  add(destination: Destination): void {
    this.matchedHere++;
    if (destination.kind === 'exchange') {
      this.enqueueExchange(destination.name);
      return;
    }
    if (destination.mark === this.epoch) return;
    destination.mark = this.epoch;
    const result = this.result!;
    if (destination.kind === 'queue') result.queues.push(destination.name);
    else result.streams.push(destination.name);
  }

  private enqueueExchange(name: string): void {
    if (name === DEFAULT_EXCHANGE) {
      if (this.defaultExchangeMark === this.epoch) return;
      this.defaultExchangeMark = this.epoch;
      // The implicit binding of queue `routingKey`: share the dedup mark with explicit bindings to it.
      const queue = this.queues.get(this.routingKey);
      if (queue !== undefined) {
        if (queue.mark === this.epoch) return;
        queue.mark = this.epoch;
      }
      this.result!.queues.push(this.routingKey);
      return;
    }
    const state = this.exchanges.get(name);
    if (state === undefined || state.mark === this.epoch) return;
    state.mark = this.epoch;
    this.pending.push(state);
  }
}
