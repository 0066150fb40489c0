import { randomBytes } from 'node:crypto';
import type { BrokerOptions } from './broker-options.js';
import { Channel, type ChannelHost } from './channel.js';
import { systemClock } from './clock.js';
import { Connection, type ConnectionInfo } from './connection.js';
import { BrokerError } from './errors.js';
import { headerTablesEqual } from './routing/headers-match.js';
import type { HeaderTable, Message } from './message/message.js';
import { decodeMessage, encodeMessage, readBodyLength } from './message/message-codec.js';
import { MetadataWriter } from './metadata-writer.js';
import { noopMetrics, silentLogger } from './null-ports.js';
import type {
  Authorizer,
  BindingRecord,
  Clock,
  ExchangeRecord,
  FsyncPolicy,
  Logger,
  LogStore,
  MetadataSnapshot,
  Metrics,
  Permission,
  Principal,
  QueueRecord,
  ResourceRef,
  ServiceRecord,
  TopicRecord,
} from './ports.js';
import { deadLetteredCopy, wouldCycle } from './queue/dead-letter.js';
import { parseQueuePolicy } from './queue/queue-policy.js';
import { Queue, type DeadLetterReason, type QueueHost } from './queue/queue.js';
import { declareBuiltins, isBuiltinExchange } from './routing/builtins.js';
import { KEYED_STORE_LOG_PREFIX, RETAINED_LOG_NAME, RetainedStore } from './retained/retained-store.js';
import { RouteResult } from './routing/route-result.js';
import { Router } from './routing/router.js';
import { validateEntityName } from './entity-names.js';
import { ResourceAlarms } from './flow/resource-alarms.js';
import { DEFAULT_FLOW_LIMITS, type FlowGate } from './flow/queue-flow.js';
import { TransientMemoryGuard } from './flow/transient-memory-guard.js';
import { parseStreamArguments, streamLogOptions } from './stream/stream-arguments.js';
import { Stream } from './stream/stream.js';
import { TopicRegistry, type CreateTopicInput, type TopicPatch, type TopicRetention } from './topics/topic-registry.js';
import { ServiceRegistry, type ServiceInput, type ServicePutResult } from './services/service-registry.js';

const allowAll: Authorizer = { authorize: () => true };
const RESOLVED: Promise<void> = Promise.resolve();
const DEFAULT_TRANSIENT_MEMORY_LIMIT = 256 * 1024 * 1024;

export interface ExchangeDeclaration {
  readonly name: string;
  readonly type: string;
  readonly durable?: boolean;
  readonly autoDelete?: boolean;
  readonly internal?: boolean;
  readonly arguments?: HeaderTable;
}

export interface QueueDeclaration {
  /** Empty: the broker names it (`amq.gen-...`). */
  readonly name: string;
  readonly durable?: boolean;
  readonly exclusive?: boolean;
  readonly autoDelete?: boolean;
  readonly arguments?: HeaderTable;
}

export interface QueueDeclared {
  readonly name: string;
  readonly messageCount: number;
  readonly consumerCount: number;
}

export interface BindingDeclaration {
  readonly source: string;
  readonly destination: string;
  readonly destinationKind: 'queue' | 'exchange';
  readonly routingKey: string;
  readonly arguments?: HeaderTable;
}

export interface PublishOptions {
  /** Report unroutable messages (`basic.return` 312 NO_ROUTE) instead of dropping them silently. */
  readonly mandatory?: boolean;
}

export interface PublishOutcome {
  /** Number of queues (and streams) the message was stored in. */
  readonly routed: number;
  /**
   * Some queue refused it (max length with reject-publish): the publisher gets a nack. Check this before
   * treating `routed === 0` as unroutable (mandatory return): a message every queue refused was routed.
   */
  readonly rejected: boolean;
  /**
   * Resolves when the message is durable everywhere it went (for a persistent message in durable
   * queues: after the fsync that covers it). Confirm the publish only then.
   */
  readonly durable: Promise<void>;
  /**
   * Nothing was left to wait for (no persistent message went to a durable queue or a stream): `durable`
   * is already resolved, so an adapter may confirm at once instead of waiting a promise turn.
   */
  readonly alreadyDurable: boolean;
  /**
   * A queue the message went to is congested (flow/queue-flow.ts): the publisher should take nothing more
   * until this gate opens. Undefined almost always.
   */
  readonly flow: FlowGate | undefined;
}

/**
 * The broker core: exchanges, queues and topics behind one facade that protocol adapters use through
 * `Connection`s. It knows no protocol and no storage format beyond the ports it is given.
 */
export class Broker {
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly logger: Logger;
  private readonly authorizer: Authorizer;
  private readonly router = new Router();
  private readonly queues = new Map<string, Queue>();
  /** Streams share the queues' namespace (a stream is a queue type, as in RabbitMQ). */
  private readonly streams = new Map<string, Stream>();
  private readonly streamArguments = new Map<string, HeaderTable>();
  private streamOffsets: Record<string, Record<string, number>> = {};
  /** User-facing topics (name, display name, description); a topic with retention has a stream of its name. */
  readonly topics: TopicRegistry;
  /** Declared services and the topics they produce and consume (topology as code); they route nothing. */
  private readonly services = new ServiceRegistry();
  private readonly connections = new Set<Connection>();
  private readonly metadata: MetadataWriter;
  private readonly routeScratch = new RouteResult();
  private readonly queueHost: QueueHost;
  private readonly channelHost: ChannelHost;
  private readonly fsync: FsyncPolicy;
  private nextConnectionId = 1;
  private closing = false;
  /**
   * Operations that create or remove a queue or stream of a given name run one after the other: two
   * declares racing on one name, or a redeclare racing the removal of an auto-deleted queue, would
   * otherwise share (and close, or delete) one log under each other.
   */
  private readonly nameLocks = new Map<string, Promise<unknown>>();
  /** Consumers of each stream, told when their stream is deleted. */
  private readonly streamWatchers = new Map<string, Set<() => void>>();
  /** Messages accepted by `publish` since start, and the delivered / acked totals of queues deleted since. */
  private publishedCount = 0;
  private readonly retiredQueueCounters = { delivered: 0, acked: 0 };
  /** Made on first use (see `retained`), so a broker that never retains a message has no log for it. */
  private retainedStore: RetainedStore | undefined;
  /** Named keyed stores (see `keyedStore`), made on first use. */
  private readonly keyedStores = new Map<string, RetainedStore>();
  /** Memory and disk alarms: while one is on, protocol adapters stop taking publishes. */
  readonly alarms = new ResourceAlarms();
  private readonly memoryGuard: TransientMemoryGuard;

  private exclusively<T>(name: string, operation: () => Promise<T>): Promise<T> {
    const previous = this.nameLocks.get(name) ?? Promise.resolve();
    const result = previous.then(operation, operation);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.nameLocks.set(name, tail);
    void tail.then(() => {
      if (this.nameLocks.get(name) === tail) this.nameLocks.delete(name);
    });
    return result;
  }

  private constructor(private readonly options: BrokerOptions) {
    this.clock = options.clock ?? systemClock;
    this.metrics = options.metrics ?? noopMetrics;
    this.logger = options.logger ?? silentLogger;
    this.authorizer = options.authorizer ?? allowAll;
    this.fsync = options.fsync ?? { mode: 'always' };
    this.metadata = new MetadataWriter(options.metadataStore, () => this.snapshot());
    this.topics = new TopicRegistry({ clock: this.clock });
    this.memoryGuard = new TransientMemoryGuard({
      limitBytes: options.transientMemoryLimitBytes ?? DEFAULT_TRANSIENT_MEMORY_LIMIT,
      clock: this.clock,
      alarms: this.alarms,
      metrics: this.metrics,
      measure: () => this.transientMemoryBytes(),
    });
    declareBuiltins(this.router);
    this.queueHost = {
      clock: this.clock,
      metrics: this.metrics,
      logger: this.logger,
      decode: decodeMessage,
      bodyLength: readBodyLength,
      deadLetter: (queue, message, reason) => this.deadLetter(queue, message, reason),
      queueUnused: (queue, why) => this.queueUnused(queue, why),
      flowLimits: options.publisherFlow ?? DEFAULT_FLOW_LIMITS,
      flowEvents: {
        flowChanged: (event, queue) => {
          const name = event === 'held' ? 'courier_publisher_flow_holds_total' : 'courier_publisher_flow_timeouts_total';
          this.metrics.count(name, 1, { queue });
          if (event === 'released-by-timeout') this.logger.debug({ queue }, 'queue consumers set the pace: publishers no longer held for it until it drains');
        },
      },
    };
    this.channelHost = {
      makeConsumerTag: () => `amq.ctag-${randomBytes(16).toString('base64url')}`,
      consumerRemoved: () => {},
      watchStream: (stream, onGone) => {
        let watchers = this.streamWatchers.get(stream);
        if (!watchers) this.streamWatchers.set(stream, (watchers = new Set()));
        watchers.add(onGone);
        return () => watchers.delete(onGone);
      },
    };
  }

  /** Loads metadata and recovers every durable queue. */
  static async open(options: BrokerOptions): Promise<Broker> {
    const broker = new Broker(options);
    await broker.restore(await options.metadataStore.load());
    broker.memoryGuard.start();
    return broker;
  }

  private async restore(snapshot: MetadataSnapshot): Promise<void> {
    for (const exchange of snapshot.exchanges) this.router.addExchange(exchange);
    for (const record of snapshot.queues) {
      const queue = await this.openQueue(record, undefined);
      this.queues.set(record.name, queue);
    }
    this.streamOffsets = structuredClone(snapshot.streamOffsets);
    for (const record of snapshot.streams) {
      this.streams.set(record.name, await this.openStream(record.name, record.arguments));
    }
    for (const binding of snapshot.bindings) this.router.bind(binding);
    this.topics.load(snapshot.topics);
    this.services.load(snapshot.services ?? []);
    // Logs without a definition belong to queues whose declare never completed: nothing was confirmed there.
    const known = new Set([...snapshot.queues.map((queue) => queue.name), ...snapshot.streams.map((stream) => stream.name)]);
    for (const name of await this.options.logStore.list()) {
      if (!known.has(name) && name !== RETAINED_LOG_NAME && !name.startsWith(KEYED_STORE_LOG_PREFIX)) {
        this.logger.warn({ log: name }, 'removing a queue log that has no definition');
        await this.options.logStore.remove(name);
      }
    }
    this.logger.info({ queues: this.queues.size, exchanges: this.router.listExchanges().length }, 'broker state restored');
  }

  private snapshot(): MetadataSnapshot {
    const durableQueues = [...this.queues.values()].filter((queue) => queue.durable && !queue.record.exclusive);
    const durableExchanges = this.router.listExchanges().filter((exchange) => exchange.durable && !isBuiltinExchange(exchange.name));
    const durableNames = new Set<string>([
      ...durableQueues.map((queue) => `queue:${queue.name}`),
      ...[...this.streams.keys()].map((name) => `stream:${name}`),
      ...this.router.listExchanges().filter((exchange) => exchange.durable).map((exchange) => `exchange:${exchange.name}`),
    ]);
    const bindings = this.router
      .listBindings()
      .filter(
        (binding) =>
          durableNames.has(`exchange:${binding.source}`) && durableNames.has(`${binding.destinationKind}:${binding.destination}`),
      );
    return {
      version: 1,
      exchanges: durableExchanges,
      queues: durableQueues.map((queue) => queue.record),
      streams: [...this.streams.values()].map((stream) => ({ name: stream.name, arguments: this.streamArguments.get(stream.name) ?? {} })),
      bindings,
      topics: this.topics.list(),
      services: this.services.list(),
      streamOffsets: this.streamOffsets,
    };
  }

  // -------------------------------------------------------------------------------------------------
  // Connections

  connect(principal: Principal, info: ConnectionInfo): Connection {
    this.assertOpen();
    const connection = new Connection(this, this.nextConnectionId++, principal, info);
    this.connections.add(connection);
    this.metrics.count('courier_connections_opened_total', 1, { protocol: info.protocol });
    return connection;
  }

  /** Called by Connection.close: closes its channels, then deletes its exclusive queues. */
  async disconnect(connection: Connection): Promise<void> {
    this.connections.delete(connection);
    const owned = [...this.queues.values()].filter((queue) => queue.owner === connection);
    for (const queue of owned) await this.exclusively(queue.name, () => this.removeQueue(queue));
  }

  /** Client connections, for management and metrics; the broker's own internal ones are left out. */
  listConnections(): readonly Connection[] {
    const list: Connection[] = [];
    for (const connection of this.connections) if (connection.info.internal !== true) list.push(connection);
    return list;
  }

  /** Totals since start for management's overview: published to the broker, delivered and acked by queues. */
  messageTotals(): { published: number; delivered: number; acked: number } {
    let delivered = this.retiredQueueCounters.delivered;
    let acked = this.retiredQueueCounters.acked;
    for (const queue of this.queues.values()) {
      delivered += queue.counters.delivered;
      acked += queue.counters.acked;
    }
    return { published: this.publishedCount, delivered, acked };
  }

  newChannel(id: number, counters?: { delivered: number }): Channel {
    return new Channel(this.channelHost, id, counters);
  }

  // -------------------------------------------------------------------------------------------------
  // Authorization

  authorize(principal: Principal, permission: Permission, resource: ResourceRef): void {
    if (this.authorizer.authorize(principal, permission, resource)) return;
    throw new BrokerError(
      'ACCESS_REFUSED',
      `access to ${resource.kind} '${resource.name}' in vhost '/' refused for user '${principal.username}'`,
      { permission, kind: resource.kind, name: resource.name },
    );
  }

  // -------------------------------------------------------------------------------------------------
  // Exchanges

  async declareExchange(principal: Principal, declaration: ExchangeDeclaration, passive = false): Promise<void> {
    this.assertOpen();
    const existing = this.router.getExchange(declaration.name);
    if (passive) {
      if (!existing) throw this.exchangeNotFound(declaration.name);
      return;
    }
    if (declaration.name === '') {
      throw new BrokerError('ACCESS_REFUSED', 'operation not permitted on the default exchange');
    }
    this.authorize(principal, 'configure', { kind: 'exchange', name: declaration.name });
    if (!existing) {
      validateEntityName('exchange', declaration.name);
    }
    const record: ExchangeRecord = {
      name: declaration.name,
      type: declaration.type as ExchangeRecord['type'],
      durable: declaration.durable ?? false,
      autoDelete: declaration.autoDelete ?? false,
      internal: declaration.internal ?? false,
      arguments: declaration.arguments ?? {},
    };
    if (this.router.addExchange(record) && record.durable) {
      try {
        await this.metadata.save();
      } catch (error) {
        this.router.removeExchange(record.name);
        throw error;
      }
    }
  }

  async deleteExchange(principal: Principal, name: string, ifUnused = false): Promise<void> {
    this.assertOpen();
    if (name === '' || isBuiltinExchange(name)) {
      throw new BrokerError('ACCESS_REFUSED', `operation not permitted on exchange '${name}'`, { exchange: name });
    }
    const existing = this.router.getExchange(name);
    if (!existing) return; // deleting a missing exchange succeeds, as in RabbitMQ
    this.authorize(principal, 'configure', { kind: 'exchange', name });
    if (ifUnused && this.router.sourceBindingCount(name) > 0) {
      throw new BrokerError('IN_USE', `exchange '${name}' in vhost '/' in use`, { exchange: name });
    }
    const removed = this.router.removeExchange(name);
    await this.afterUnbind(removed?.bindings ?? []);
    if (existing.durable) await this.metadata.save();
  }

  private exchangeNotFound(name: string): BrokerError {
    return new BrokerError('EXCHANGE_NOT_FOUND', `no exchange '${name}' in vhost '/'`, { exchange: name });
  }

  /** Exchanges that were auto-delete lose their last binding as source: RabbitMQ deletes them. */
  private async afterUnbind(bindings: readonly BindingRecord[]): Promise<void> {
    let changed = false;
    for (const binding of bindings) {
      const source = this.router.getExchange(binding.source);
      if (source?.autoDelete && this.router.sourceBindingCount(source.name) === 0) {
        const removed = this.router.removeExchange(source.name);
        changed ||= source.durable;
        await this.afterUnbind(removed?.bindings ?? []);
      }
    }
    if (changed) await this.metadata.save();
  }

  // -------------------------------------------------------------------------------------------------
  // Queues

  async declareQueue(
    principal: Principal,
    owner: Connection | undefined,
    declaration: QueueDeclaration,
    passive = false,
  ): Promise<QueueDeclared> {
    this.assertOpen();
    const name = declaration.name === '' ? `amq.gen-${randomBytes(16).toString('base64url')}` : declaration.name;
    return this.exclusively(name, () => this.declareQueueNow(principal, owner, name, declaration, passive));
  }

  private async declareQueueNow(
    principal: Principal,
    owner: Connection | undefined,
    name: string,
    declaration: QueueDeclaration,
    passive: boolean,
  ): Promise<QueueDeclared> {
    this.assertOpen();
    const existingStream = this.streams.get(name);
    if (existingStream) {
      if (!passive) {
        this.authorize(principal, 'configure', { kind: 'stream', name });
        const type = parseQueuePolicy(declaration.arguments ?? {}).queueType;
        if (type !== 'stream') {
          throw new BrokerError(
            'PRECONDITION_FAILED',
            `inequivalent arg 'x-queue-type' for queue '${name}' in vhost '/': received '${type}' but current is 'stream'`,
            { queue: name, argument: 'x-queue-type' },
          );
        }
      }
      return { name, messageCount: existingStream.stats().messageCount, consumerCount: existingStream.stats().readerCount };
    }
    const existing = this.queues.get(name);
    if (existing) {
      this.checkExclusiveAccess(existing, owner);
      if (!passive) {
        this.authorize(principal, 'configure', { kind: 'queue', name });
        this.checkEquivalent(existing.record, declaration);
      }
      existing.touch();
      return { name, messageCount: existing.messageCount, consumerCount: existing.consumerCount };
    }
    if (passive) throw this.queueNotFound(name);
    if (declaration.name !== '') validateEntityName('queue', name);
    this.authorize(principal, 'configure', { kind: 'queue', name });
    const exclusive = declaration.exclusive ?? false;
    const queueType = parseQueuePolicy(declaration.arguments ?? {}).queueType;
    if (queueType === 'stream') return this.declareStream(name, declaration);
    if (queueType === 'quorum' && (!(declaration.durable ?? false) || exclusive || declaration.autoDelete)) {
      // RabbitMQ's rule: quorum queues are durable, neither exclusive nor auto-delete.
      throw new BrokerError(
        'PRECONDITION_FAILED',
        `invalid property for quorum queue '${name}': it must be durable, not exclusive and not auto-delete`,
        { queue: name },
      );
    }
    const record: QueueRecord = {
      name,
      durable: declaration.durable ?? false,
      exclusive,
      autoDelete: declaration.autoDelete ?? false,
      arguments: declaration.arguments ?? {},
    };
    const queue = await this.openQueue(record, exclusive ? owner : undefined);
    if (exclusive && owner?.isClosed) {
      // Its connection closed while the log was opening: nobody may ever use (or unlock) this queue.
      await this.discardQueue(queue);
      throw new BrokerError('CHANNEL_CLOSED', `connection closed while declaring exclusive queue '${name}'`, { queue: name });
    }
    this.queues.set(name, queue);
    if (record.durable && !exclusive) {
      try {
        await this.metadata.save();
      } catch (error) {
        // Not durable, so not declared: a queue whose definition is lost at restart would take confirmed
        // messages with it.
        this.queues.delete(name);
        await this.discardQueue(queue);
        throw error;
      }
    }
    this.metrics.count('courier_queues_declared_total');
    return { name, messageCount: queue.messageCount, consumerCount: 0 };
  }

  /** Closes a queue that never became visible and deletes its log. */
  private async discardQueue(queue: Queue): Promise<void> {
    await queue.delete();
    await this.storeOf(queue).remove(queue.name);
  }

  private isOnDisk(queue: Queue): boolean {
    return queue.durable && !queue.record.exclusive;
  }

  /** What the memory logs of transient queues hold now; walks every queue, so the guard calls it rarely. */
  private transientMemoryBytes(): number {
    let bytes = 0;
    for (const queue of this.queues.values()) {
      if (!this.isOnDisk(queue)) bytes += queue.memoryBytes;
    }
    return bytes;
  }

  private storeOf(queue: Queue): LogStore {
    return this.isOnDisk(queue) ? this.options.logStore : this.options.transientLogStore;
  }

  private async declareStream(name: string, declaration: QueueDeclaration): Promise<QueueDeclared> {
    // RabbitMQ's rules for stream queues: durable, neither exclusive nor auto-delete.
    if (declaration.durable === false || declaration.exclusive || declaration.autoDelete) {
      throw new BrokerError(
        'PRECONDITION_FAILED',
        `invalid property for stream '${name}': streams must be durable, not exclusive and not auto-delete`,
        { queue: name },
      );
    }
    const stream = await this.openStream(name, declaration.arguments ?? {});
    this.streams.set(name, stream);
    try {
      await this.metadata.save();
    } catch (error) {
      this.streams.delete(name);
      this.streamArguments.delete(name);
      await stream.close();
      await this.options.logStore.remove(name);
      throw error;
    }
    return { name, messageCount: 0, consumerCount: 0 };
  }

  private async openStream(name: string, args: HeaderTable): Promise<Stream> {
    const settings = parseStreamArguments(args);
    const log = await this.options.logStore.open(name, streamLogOptions(settings, this.fsync, this.options.segmentBytes));
    this.streamArguments.set(name, args);
    return new Stream({
      name,
      log,
      arguments: args,
      codec: { encode: encodeMessage, decode: decodeMessage },
      clock: this.clock,
      metrics: this.metrics,
      logger: this.logger,
      offsets: this.streamOffsets[name] ?? {},
      onOffsetCommit: (stream, consumer, offset) => {
        (this.streamOffsets[stream] ??= {})[consumer] = offset;
        this.metadata.save().catch((error: unknown) => this.logger.error({ err: error, stream }, 'saving stream offsets failed'));
      },
    });
  }

  getStream(name: string): Stream | undefined {
    return this.streams.get(name);
  }

  /** The arguments a stream was declared with (its retention), for management's listing. */
  streamArgumentsOf(name: string): HeaderTable | undefined {
    return this.streamArguments.get(name);
  }

  listStreams(): readonly Stream[] {
    return [...this.streams.values()];
  }

  /** The stream, checked for existence and the permission. */
  resolveStream(principal: Principal, name: string, permission: Permission): Stream {
    const stream = this.streams.get(name);
    if (!stream) throw new BrokerError('STREAM_NOT_FOUND', `no stream '${name}' in vhost '/'`, { stream: name });
    this.authorize(principal, permission, { kind: 'stream', name });
    return stream;
  }

  private async removeStream(stream: Stream): Promise<void> {
    this.streams.delete(stream.name);
    this.streamArguments.delete(stream.name);
    delete this.streamOffsets[stream.name];
    const bindings = this.router.removeBindingsForDestination('stream', stream.name);
    const watchers = this.streamWatchers.get(stream.name);
    this.streamWatchers.delete(stream.name);
    for (const onGone of watchers ?? []) onGone();
    await stream.close();
    await this.afterUnbind(bindings);
    // The definition goes first: a failed save leaves the stream's data for the next start, never a
    // stored stream without its log.
    await this.metadata.save();
    await this.options.logStore.remove(stream.name);
  }

  private async openQueue(record: QueueRecord, owner: Connection | undefined): Promise<Queue> {
    const policy = parseQueuePolicy(record.arguments);
    const durable = record.durable && !record.exclusive;
    const store = durable ? this.options.logStore : this.options.transientLogStore;
    if (!durable) await store.remove(record.name);
    const log = await store.open(record.name, {
      fsync: this.fsync,
      ...(this.options.segmentBytes === undefined ? {} : { segmentBytes: this.options.segmentBytes }),
    });
    return Queue.open(record, policy, log, this.queueHost, owner);
  }

  private checkExclusiveAccess(queue: Queue, owner: Connection | undefined): void {
    if (queue.record.exclusive && queue.owner !== owner) {
      throw new BrokerError(
        'RESOURCE_LOCKED',
        `cannot obtain exclusive access to locked queue '${queue.name}' in vhost '/'`,
        { queue: queue.name },
      );
    }
  }

  private checkEquivalent(record: QueueRecord, declaration: QueueDeclaration): void {
    const mismatch = (field: string, received: unknown, current: unknown): BrokerError =>
      new BrokerError(
        'PRECONDITION_FAILED',
        `inequivalent arg '${field}' for queue '${record.name}' in vhost '/': received '${String(received)}' but current is '${String(current)}'`,
        { queue: record.name, argument: field },
      );
    if ((declaration.durable ?? false) !== record.durable) throw mismatch('durable', declaration.durable ?? false, record.durable);
    if ((declaration.exclusive ?? false) !== record.exclusive) {
      throw mismatch('exclusive', declaration.exclusive ?? false, record.exclusive);
    }
    if ((declaration.autoDelete ?? false) !== record.autoDelete) {
      throw mismatch('auto_delete', declaration.autoDelete ?? false, record.autoDelete);
    }
    const received = declaration.arguments ?? {};
    for (const key of new Set([...Object.keys(received), ...Object.keys(record.arguments)])) {
      if (!key.startsWith('x-')) continue;
      const a = received[key];
      const b = record.arguments[key];
      if (a === undefined && b === undefined) continue;
      if (a === undefined || b === undefined || !headerTablesEqual({ v: a }, { v: b })) {
        throw mismatch(key, a === undefined ? 'none' : JSON.stringify(a, bigintReplacer), b === undefined ? 'none' : JSON.stringify(b, bigintReplacer));
      }
    }
  }

  getQueue(name: string): Queue | undefined {
    return this.queues.get(name);
  }

  /** The queue, checked for existence, exclusivity and the permission. */
  resolveQueue(principal: Principal, owner: Connection | undefined, name: string, permission: Permission): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw this.queueNotFound(name);
    this.checkExclusiveAccess(queue, owner);
    this.authorize(principal, permission, { kind: 'queue', name });
    return queue;
  }

  listQueues(): readonly Queue[] {
    return [...this.queues.values()];
  }

  async deleteQueue(
    principal: Principal,
    owner: Connection | undefined,
    name: string,
    options: { ifUnused?: boolean; ifEmpty?: boolean } = {},
  ): Promise<number> {
    this.assertOpen();
    return this.exclusively(name, () => this.deleteQueueNow(principal, owner, name, options));
  }

  private async deleteQueueNow(
    principal: Principal,
    owner: Connection | undefined,
    name: string,
    options: { ifUnused?: boolean; ifEmpty?: boolean },
  ): Promise<number> {
    const stream = this.streams.get(name);
    if (stream) {
      this.authorize(principal, 'configure', { kind: 'stream', name });
      const count = stream.stats().messageCount;
      await this.removeStream(stream);
      return count;
    }
    const queue = this.queues.get(name);
    if (!queue) return 0; // deleting a missing queue succeeds, as in RabbitMQ
    this.checkExclusiveAccess(queue, owner);
    this.authorize(principal, 'configure', { kind: 'queue', name });
    if (options.ifUnused && queue.consumerCount > 0) {
      throw new BrokerError('IN_USE', `queue '${name}' in vhost '/' in use`, { queue: name });
    }
    if (options.ifEmpty && queue.messageCount > 0) {
      throw new BrokerError('NOT_EMPTY', `queue '${name}' in vhost '/' is not empty`, { queue: name });
    }
    return this.removeQueue(queue);
  }

  private async removeQueue(queue: Queue): Promise<number> {
    if (this.queues.get(queue.name) !== queue) return 0;
    this.queues.delete(queue.name);
    this.retiredQueueCounters.delivered += queue.counters.delivered;
    this.retiredQueueCounters.acked += queue.counters.acked;
    const bindings = this.router.removeBindingsForDestination('queue', queue.name);
    const count = await queue.delete();
    await this.afterUnbind(bindings);
    // The definition goes first: a failed save leaves the queue's messages for the next start, never a
    // stored queue whose log is gone.
    if (queue.durable && !queue.record.exclusive) await this.metadata.save();
    await this.storeOf(queue).remove(queue.name);
    return count;
  }

  async purgeQueue(principal: Principal, owner: Connection | undefined, name: string): Promise<number> {
    this.assertOpen();
    if (this.streams.has(name)) {
      throw new BrokerError('PRECONDITION_FAILED', `purge not supported by stream '${name}': retention removes old messages`, {
        queue: name,
      });
    }
    const queue = this.resolveQueue(principal, owner, name, 'read');
    const count = queue.purge();
    await queue.flush();
    return count;
  }

  private queueUnused(queue: Queue, why: 'auto-delete' | 'expired'): void {
    if (this.closing) return; // consumers leaving because of shutdown do not delete queues
    this.logger.info({ queue: queue.name, why }, 'deleting unused queue');
    this.exclusively(queue.name, () => this.removeQueue(queue)).catch((error: unknown) =>
      this.logger.error({ queue: queue.name, err: error }, 'deleting an unused queue failed'),
    );
  }

  private queueNotFound(name: string): BrokerError {
    return new BrokerError('QUEUE_NOT_FOUND', `no queue '${name}' in vhost '/'`, { queue: name });
  }

  // -------------------------------------------------------------------------------------------------
  // Bindings

  async bind(principal: Principal, owner: Connection | undefined, declaration: BindingDeclaration): Promise<void> {
    this.assertOpen();
    const record = this.checkBinding(principal, owner, declaration);
    if (this.router.bind(record) && this.isDurableBinding(record)) {
      try {
        await this.metadata.save();
      } catch (error) {
        this.router.unbind(record);
        throw error;
      }
    }
  }

  async unbind(principal: Principal, owner: Connection | undefined, declaration: BindingDeclaration): Promise<void> {
    this.assertOpen();
    const record = this.checkBinding(principal, owner, declaration);
    if (this.router.unbind(record)) {
      await this.afterUnbind([record]);
      if (this.isDurableBinding(record)) await this.metadata.save();
    }
  }

  private checkBinding(principal: Principal, owner: Connection | undefined, declaration: BindingDeclaration): BindingRecord {
    if (declaration.source === '') {
      throw new BrokerError('ACCESS_REFUSED', 'operation not permitted on the default exchange');
    }
    if (!this.router.hasExchange(declaration.source)) throw this.exchangeNotFound(declaration.source);
    let destinationKind: BindingRecord['destinationKind'] = declaration.destinationKind;
    if (declaration.destinationKind === 'queue' && this.streams.has(declaration.destination)) {
      destinationKind = 'stream';
      this.resolveStream(principal, declaration.destination, 'write');
    } else if (declaration.destinationKind === 'queue') {
      this.resolveQueue(principal, owner, declaration.destination, 'write');
    } else {
      if (!this.router.hasExchange(declaration.destination)) throw this.exchangeNotFound(declaration.destination);
      this.authorize(principal, 'write', { kind: 'exchange', name: declaration.destination });
    }
    this.authorize(principal, 'read', { kind: 'exchange', name: declaration.source, routingKey: declaration.routingKey });
    return {
      source: declaration.source,
      destination: declaration.destination,
      destinationKind,
      routingKey: declaration.routingKey,
      arguments: declaration.arguments ?? {},
    };
  }

  private isDurableBinding(record: BindingRecord): boolean {
    const source = this.router.getExchange(record.source);
    if (!source?.durable) return false;
    if (record.destinationKind === 'exchange') return this.router.getExchange(record.destination)?.durable ?? false;
    if (record.destinationKind === 'stream') return this.streams.has(record.destination);
    const queue = this.queues.get(record.destination);
    return queue !== undefined && queue.durable && !queue.record.exclusive;
  }

  listBindings(): readonly BindingRecord[] {
    return this.router.listBindings();
  }

  listExchanges(): readonly ExchangeRecord[] {
    return this.router.listExchanges();
  }

  // -------------------------------------------------------------------------------------------------
  // Topics: a name in the shared topic space (`amq.topic`) plus its registry entry. With retention the
  // topic also gets a stream of the same name, bound to `amq.topic` with the topic's name as key.

  async createTopic(principal: Principal, input: CreateTopicInput): Promise<TopicRecord> {
    this.assertOpen();
    this.authorize(principal, 'configure', { kind: 'topic', name: input.name });
    if (typeof input.name === 'string' && (this.queues.has(input.name) || this.streams.has(input.name)) && input.retention) {
      throw new BrokerError('PRECONDITION_FAILED', `a queue or stream named '${input.name}' exists already`, { topic: input.name });
    }
    const topic = this.topics.create(input);
    try {
      if (topic.retention) await this.attachTopicStream(topic.name, topic.retention);
    } catch (error) {
      this.topics.delete(topic.name);
      throw error;
    }
    await this.metadata.save();
    return topic;
  }

  async updateTopic(principal: Principal, name: string, patch: TopicPatch): Promise<TopicRecord> {
    this.assertOpen();
    this.authorize(principal, 'configure', { kind: 'topic', name });
    const before = this.topics.require(name);
    const topic = this.topics.update(name, patch);
    const stream = this.streams.get(name);
    if (!topic.retention && stream && before.retention) {
      await this.removeStream(stream);
    } else if (topic.retention && !stream) {
      await this.attachTopicStream(name, topic.retention);
    } else if (topic.retention && stream && JSON.stringify(topic.retention) !== JSON.stringify(before.retention)) {
      // In place, so the stream's readers keep reading.
      const args = retentionArguments(topic.retention);
      stream.reconfigure(args);
      this.streamArguments.set(name, args);
    }
    await this.metadata.save();
    return topic;
  }

  async deleteTopic(principal: Principal, name: string): Promise<void> {
    this.assertOpen();
    this.authorize(principal, 'configure', { kind: 'topic', name });
    const topic = this.topics.delete(name);
    const stream = this.streams.get(name);
    if (stream && topic.retention) await this.removeStream(stream);
    await this.metadata.save();
  }

  // -------------------------------------------------------------------------------------------------
  // Services: who produces and consumes which topic. Authorized as configure on the service.

  listServices(): readonly ServiceRecord[] {
    return this.services.list();
  }

  getService(name: string): ServiceRecord | undefined {
    return this.services.get(name);
  }

  /**
   * Creates or replaces a service. Throws INVALID_NAME / INVALID_ARGUMENT for a bad record, and
   * PRECONDITION_FAILED when it names a topic the broker does not have (create the topic first).
   */
  async putService(principal: Principal, input: ServiceInput): Promise<ServicePutResult> {
    this.assertOpen();
    const checked = this.services.check(input);
    this.authorize(principal, 'configure', { kind: 'service', name: checked.name });
    const missing = [...new Set([...checked.produces, ...checked.consumes])].filter((topic) => !this.topics.has(topic));
    if (missing.length > 0) {
      const one = missing.length === 1;
      throw new BrokerError(
        'PRECONDITION_FAILED',
        `service '${checked.name}' names ${one ? 'a topic that does not exist' : 'topics that do not exist'}: ${missing.join(', ')}; create ${one ? 'it' : 'them'} first`,
        { service: checked.name, topics: missing },
      );
    }
    const result = this.services.put(checked);
    if (result.outcome !== 'unchanged') await this.metadata.save();
    return result;
  }

  /** Throws SERVICE_NOT_FOUND. The service's queues stay: they hold messages. */
  async deleteService(principal: Principal, name: string): Promise<void> {
    this.assertOpen();
    this.authorize(principal, 'configure', { kind: 'service', name });
    this.services.delete(name);
    await this.metadata.save();
  }

  private async attachTopicStream(name: string, retention: TopicRetention): Promise<void> {
    this.streams.set(name, await this.openStream(name, retentionArguments(retention)));
    this.router.bind({ source: 'amq.topic', destination: name, destinationKind: 'stream', routingKey: name, arguments: {} });
  }

  // -------------------------------------------------------------------------------------------------
  // Publishing

  /**
   * Routes and stores a message. Unroutable messages are dropped (the outcome says so, for `mandatory`).
   * Throws EXCHANGE_NOT_FOUND, and ACCESS_REFUSED for internal exchanges or a refused write.
   */
  publish(principal: Principal, message: Message, extraRoutingKeys?: readonly string[]): PublishOutcome {
    this.assertOpen();
    const exchange = this.router.getExchange(message.exchange);
    if (message.exchange !== '' && !exchange) throw this.exchangeNotFound(message.exchange);
    if (exchange?.internal) {
      throw new BrokerError(
        'ACCESS_REFUSED',
        `cannot publish to internal exchange '${message.exchange}' in vhost '/'`,
        { exchange: message.exchange },
      );
    }
    this.authorize(principal, 'write', { kind: 'exchange', name: message.exchange, routingKey: message.routingKey });
    if (extraRoutingKeys !== undefined) {
      for (const routingKey of extraRoutingKeys) this.authorize(principal, 'write', { kind: 'exchange', name: message.exchange, routingKey });
    }
    this.metrics.count('courier_messages_published_total');
    this.publishedCount += 1;
    const route = this.router.route(message.exchange, message.routingKey, message.headers, this.routeScratch);
    if (extraRoutingKeys !== undefined && extraRoutingKeys.length > 0) this.routeAlso(message, extraRoutingKeys, route);
    return this.store(message, route);
  }

  /**
   * Sender-selected distribution (AMQP's CC / BCC headers): the message also goes where each extra
   * routing key leads through the same exchange; every queue or stream gets it once.
   */
  private routeAlso(message: Message, routingKeys: readonly string[], into: RouteResult): void {
    const extra = new RouteResult();
    for (const routingKey of routingKeys) {
      this.router.route(message.exchange, routingKey, message.headers, extra);
      for (const name of extra.queues) if (!into.queues.includes(name)) into.queues.push(name);
      for (const name of extra.streams) if (!into.streams.includes(name)) into.streams.push(name);
    }
  }

  private store(message: Message, route: RouteResult, exclude?: (queue: string) => boolean): PublishOutcome {
    let encoded: Uint8Array | undefined;
    let routed = 0;
    let rejected = false;
    let durable: Promise<void> = RESOLVED;
    let waits: Promise<void>[] | undefined;
    let flow: FlowGate | undefined;
    for (const name of route.queues) {
      const queue = this.queues.get(name);
      if (!queue) {
        // The default exchange names streams too (they share the queues' namespace).
        const stream = this.streams.get(name);
        if (stream && !exclude?.(name)) {
          encoded ??= encodeMessage(message);
          durable = this.appendToStream(stream, message, encoded, durable, (waits ??= []));
          routed += 1;
        }
        continue;
      }
      if (exclude?.(name)) continue;
      if (queue.deliverDirect(message)) {
        routed += 1;
        continue;
      }
      encoded ??= encodeMessage(message);
      // What the store took in memory is what its log says (the log knows its own bookkeeping).
      const inMemory = !this.isOnDisk(queue);
      const memoryBefore = inMemory ? queue.memoryBytes : 0;
      if (queue.enqueue(message, encoded, message.persistent) === 'rejected') {
        rejected = true;
        continue;
      }
      routed += 1;
      if (flow === undefined && queue.pressesPublishers) flow = queue.flow;
      if (inMemory) this.memoryGuard.added(queue.memoryBytes - memoryBefore);
      if (message.persistent && queue.durable) {
        const flushed = queue.flush();
        if (durable === RESOLVED) durable = flushed;
        else if (durable !== flushed) (waits ??= []).push(flushed);
      }
    }
    for (const name of route.streams) {
      const stream = this.streams.get(name);
      if (!stream || exclude?.(name)) continue;
      encoded ??= encodeMessage(message);
      durable = this.appendToStream(stream, message, encoded, durable, (waits ??= []));
      routed += 1;
    }
    if (waits && waits.length > 0) durable = Promise.all([durable, ...waits]).then(() => undefined);
    if (routed === 0) this.metrics.count('courier_messages_unroutable_total');
    return { routed, rejected, durable, alreadyDurable: durable === RESOLVED, flow };
  }

  /** Streams keep every message, persistent or not; confirms wait for the stream's flush. */
  private appendToStream(
    stream: Stream,
    message: Message,
    encoded: Uint8Array,
    durable: Promise<void>,
    waits: Promise<void>[],
  ): Promise<void> {
    stream.append(message, encoded);
    const flushed = stream.flush();
    if (durable === RESOLVED) return flushed;
    if (durable !== flushed) waits.push(flushed);
    return durable;
  }

  private deadLetter(queue: Queue, message: Message, reason: DeadLetterReason): void {
    const exchange = queue.policy.deadLetterExchange;
    if (exchange === undefined || this.closing) return;
    if (exchange !== '' && !this.router.hasExchange(exchange)) {
      this.logger.warn({ queue: queue.name, exchange, reason }, 'dead-letter exchange missing: message dropped');
      return;
    }
    const copy = deadLetteredCopy(message, queue.name, reason, queue.policy.deadLetterRoutingKey, exchange, this.clock.now());
    const route = this.router.route(exchange, copy.routingKey, copy.headers, new RouteResult());
    this.store(copy, route, (target) => wouldCycle(copy, target));
  }

  // -------------------------------------------------------------------------------------------------
  // Retained messages: a durable last-message-per-routing-key store (MQTT retained messages), kept in
  // its own log of the durable log store. It authorizes nothing itself: adapters store a message only
  // after publishing it succeeded, and read it only for a subscription the broker accepted.

  get retained(): RetainedStore {
    this.assertOpen();
    this.retainedStore ??= new RetainedStore({
      openLog: () =>
        this.options.logStore.open(RETAINED_LOG_NAME, {
          fsync: this.fsync,
          ...(this.options.segmentBytes === undefined ? {} : { segmentBytes: this.options.segmentBytes }),
        }),
      clock: this.clock,
      logger: this.logger,
    });
    return this.retainedStore;
  }

  /**
   * A durable last-value-per-key store of its own (log `amq.kv.<name>`), for state an adapter must keep
   * across restarts that is neither a queue nor a binding (MQTT: QoS 2 packet identifiers, delayed wills).
   * Same semantics and group commit as `retained`; clients never match it.
   */
  keyedStore(name: string): RetainedStore {
    this.assertOpen();
    let store = this.keyedStores.get(name);
    if (!store) {
      store = new RetainedStore({
        openLog: () =>
          this.options.logStore.open(`${KEYED_STORE_LOG_PREFIX}${name}`, {
            fsync: this.fsync,
            ...(this.options.segmentBytes === undefined ? {} : { segmentBytes: this.options.segmentBytes }),
          }),
        clock: this.clock,
        logger: this.logger,
      });
      this.keyedStores.set(name, store);
    }
    return store;
  }

  // -------------------------------------------------------------------------------------------------
  // Lifecycle

  get isClosing(): boolean {
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing) throw new BrokerError('BROKER_CLOSED', 'the broker is shutting down');
  }

  /** Closes connections (unacked messages stay stored), flushes every log, and closes the stores. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.memoryGuard.stop();
    // Quiesce first: consumers leaving and channels returning messages must not deliver, expire or
    // dead-letter anything (a message past its delivery limit stays stored, as it was).
    for (const queue of this.queues.values()) queue.quiesce();
    for (const connection of [...this.connections]) connection.closeChannels();
    await Promise.all([...this.nameLocks.values()]);
    await this.metadata.idle();
    for (const queue of this.queues.values()) await queue.close();
    this.queues.clear();
    for (const stream of this.streams.values()) await stream.close();
    this.streams.clear();
    await this.retainedStore?.close();
    for (const store of this.keyedStores.values()) await store.close();
    await this.options.logStore.close();
    await this.options.transientLogStore.close();
    await this.options.metadataStore.close();
  }
}

function retentionArguments(retention: TopicRetention): HeaderTable {
  const args: HeaderTable = {};
  if (retention.maxAgeMs !== undefined) args['x-max-age'] = `${Math.max(1, Math.ceil(retention.maxAgeMs / 1000))}s`;
  if (retention.maxBytes !== undefined) args['x-max-length-bytes'] = retention.maxBytes;
  return args;
}

function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
