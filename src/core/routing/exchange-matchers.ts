/**
 * The per-type binding indexes behind an exchange. Each one answers "which destinations does this
 * message reach through this exchange" without looking at bindings that cannot match: direct looks up
 * the routing key, fanout returns all, topic walks a trie, headers scans its bindings (matching header
 * tables has no useful index; RabbitMQ scans too).
 */
import type { HeaderTable } from '../message/message.js';
import type { BindingDestinationKind, BindingRecord, ExchangeType } from '../ports.js';
import { compileHeadersBinding, headersMatch, type CompiledHeadersBinding } from './headers-match.js';
import { TopicTrie } from './topic-trie.js';

/** A queue, stream or exchange that bindings point to; interned by the router (one object per name). */
export interface Destination {
  readonly kind: BindingDestinationKind;
  readonly name: string;
  /** Route generation in which this destination was last added to a result (dedup without a Set). */
  mark: number;
  /** Every binding to this destination, whatever its source. */
  readonly bindings: Set<BindingEntry>;
}

export interface BindingEntry {
  readonly record: BindingRecord;
  readonly destination: Destination;
  /** Compiled arguments, for bindings whose source is a headers exchange. */
  readonly headers: CompiledHeadersBinding | undefined;
}

/** What a matcher sees of the message being routed, and where it reports destinations. */
export interface MatchContext {
  readonly routingKey: string;
  readonly headers: HeaderTable | undefined;
  /** The routing key split into words (`topicWords`), computed on first use and shared by all matchers. */
  readonly words: readonly string[];
  topicWordCount(): number;
  add(destination: Destination): void;
}

export interface ExchangeMatcher {
  /** Throws BrokerError INVALID_ARGUMENT when the binding's arguments are invalid for this type. */
  compile(record: BindingRecord): CompiledHeadersBinding | undefined;
  add(entry: BindingEntry): void;
  remove(entry: BindingEntry): void;
  match(context: MatchContext): void;
}

export function createMatcher(type: ExchangeType): ExchangeMatcher {
  switch (type) {
    case 'direct':
      return new DirectMatcher();
    case 'fanout':
      return new FanoutMatcher();
    case 'topic':
      return new TopicMatcher();
    case 'headers':
      return new HeadersMatcher();
  }
}

function removeOne<T>(items: T[], item: T): void {
  const index = items.indexOf(item);
  if (index !== -1) items.splice(index, 1);
}

class DirectMatcher implements ExchangeMatcher {
  /** routing key -> one destination per binding (the same destination twice when bound with two argument tables). */
  private readonly byKey = new Map<string, Destination[]>();

  compile(): undefined {
    return undefined;
  }

  add(entry: BindingEntry): void {
    const key = entry.record.routingKey;
    const list = this.byKey.get(key);
    if (list === undefined) this.byKey.set(key, [entry.destination]);
    else list.push(entry.destination);
  }

  remove(entry: BindingEntry): void {
    const key = entry.record.routingKey;
    const list = this.byKey.get(key);
    if (list === undefined) return;
    removeOne(list, entry.destination);
    if (list.length === 0) this.byKey.delete(key);
  }

  match(context: MatchContext): void {
    const list = this.byKey.get(context.routingKey);
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) context.add(list[i]!);
  }
}

class FanoutMatcher implements ExchangeMatcher {
  private readonly destinations: Destination[] = [];

  compile(): undefined {
    return undefined;
  }

  add(entry: BindingEntry): void {
    this.destinations.push(entry.destination);
  }

  remove(entry: BindingEntry): void {
    removeOne(this.destinations, entry.destination);
  }

  match(context: MatchContext): void {
    const list = this.destinations;
    for (let i = 0; i < list.length; i++) context.add(list[i]!);
  }
}

class TopicMatcher implements ExchangeMatcher {
  private readonly trie = new TopicTrie<Destination>();

  compile(): undefined {
    return undefined;
  }

  add(entry: BindingEntry): void {
    this.trie.add(entry.record.routingKey, entry.destination);
  }

  remove(entry: BindingEntry): void {
    this.trie.remove(entry.record.routingKey, entry.destination);
  }

  match(context: MatchContext): void {
    const count = context.topicWordCount();
    this.trie.matchWords(context.words, count, context);
  }
}

class HeadersMatcher implements ExchangeMatcher {
  private readonly entries: BindingEntry[] = [];

  compile(record: BindingRecord): CompiledHeadersBinding {
    return compileHeadersBinding(record.arguments);
  }

  add(entry: BindingEntry): void {
    this.entries.push(entry);
  }

  remove(entry: BindingEntry): void {
    removeOne(this.entries, entry);
  }

  match(context: MatchContext): void {
    const entries = this.entries;
    const headers = context.headers;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      if (headersMatch(entry.headers!, headers)) context.add(entry.destination);
    }
  }
}
