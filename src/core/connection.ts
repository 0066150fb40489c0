import type { Broker, BindingDeclaration, ExchangeDeclaration, PublishOutcome, QueueDeclaration, QueueDeclared } from './broker.js';
import type { Channel, ConsumeOptions, ConsumerCallbacks, Delivery, StreamConsumeOptions } from './channel.js';
import { BrokerError } from './errors.js';
import type { Message } from './message/message.js';
import type { Principal } from './ports.js';

export interface ConnectionInfo {
  readonly protocol: string;
  readonly remoteAddress: string;
  readonly clientId?: string;
  /** The broker's own (the `$SYS` publisher, the HTTP API's holder of pulled messages): not a client, so not listed. */
  readonly internal?: boolean;
}

/** Running totals of a connection, sampled by management into rates; bumped in place, never reallocated. */
export interface ConnectionCounters {
  published: number;
  delivered: number;
}

/**
 * How the protocol adapter ends its connection when an operator asks (management's close action):
 * it tells the client as its protocol does, then closes the core connection as on any other end.
 */
export type CloseRequestHandler = (reason: string) => void | Promise<void>;

/**
 * A client's connection as the core sees it: who it is (every operation is authorized for its
 * principal), which channels it has, and which exclusive queues it owns (deleted when it closes).
 */
export class Connection {
  private readonly channels = new Map<number, Channel>();
  private nextChannelId = 1;
  private closed = false;
  private closeRequestHandler: CloseRequestHandler | undefined;
  readonly connectedAt: number;
  readonly counters: ConnectionCounters = { published: 0, delivered: 0 };
  /**
   * The adapter stopped reading this publisher because a resource alarm is on (RabbitMQ's "blocked"
   * connection state); shown by management and set back by the adapter once the alarm clears.
   */
  publishBlocked = false;
  /** The adapter holds this publisher back because a queue it fed is congested (flow/queue-flow.ts). */
  publishHeld = false;

  constructor(
    private readonly broker: Broker,
    readonly id: number,
    /** Replaced only when the client re-authenticates (AMQP connection.update-secret, same username). */
    public principal: Principal,
    readonly info: ConnectionInfo,
  ) {
    this.connectedAt = broker.clock.now();
  }

  /** Opens a channel; `id` defaults to the next free number (AMQP passes its own). */
  openChannel(id?: number): Channel {
    this.assertOpen();
    const channelId = id ?? this.nextChannelId++;
    if (this.channels.has(channelId)) {
      throw new BrokerError('PRECONDITION_FAILED', `channel ${channelId} is already open`, { channel: channelId });
    }
    const channel = this.broker.newChannel(channelId, this.counters);
    this.channels.set(channelId, channel);
    return channel;
  }

  closeChannel(channel: Channel): void {
    channel.close();
    this.channels.delete(channel.id);
  }

  get channelCount(): number {
    return this.channels.size;
  }

  /** `extraRoutingKeys`: more keys to route the message with through its exchange (AMQP CC / BCC). */
  publish(message: Message, extraRoutingKeys?: readonly string[]): PublishOutcome {
    const outcome = this.broker.publish(this.principal, message, extraRoutingKeys);
    this.counters.published += 1;
    // Held back until the queue drains, a connection that also consumes from it would never see it drain.
    if (outcome.flow !== undefined && this.consumesFrom(outcome.flow.queueName)) return { ...outcome, flow: undefined };
    return outcome;
  }

  /** RabbitMQ's connection states: `blocked` by a resource alarm, in `flow` control, or `running`. */
  get state(): 'blocked' | 'flow' | 'running' {
    if (this.publishBlocked) return 'blocked';
    return this.publishHeld ? 'flow' : 'running';
  }

  private consumesFrom(queueName: string): boolean {
    for (const channel of this.channels.values()) if (channel.consumesFrom(queueName)) return true;
    return false;
  }

  /** Channels open now, for management's view of the connection. */
  listChannels(): readonly Channel[] {
    return [...this.channels.values()];
  }

  /** The adapter registers how it ends this connection when management asks (see `requestClose`). */
  onCloseRequest(handler: CloseRequestHandler): void {
    this.closeRequestHandler = handler;
  }

  /**
   * Ends the connection on an operator's request: through the adapter's handler, which tells the client
   * (AMQP connection.close 320, MQTT 5 DISCONNECT 0x98, STOMP ERROR), or, for a connection whose adapter
   * registered none, by closing the core connection alone.
   */
  async requestClose(reason: string): Promise<void> {
    if (this.closed) return;
    if (this.closeRequestHandler) await this.closeRequestHandler(reason);
    else await this.close();
  }

  declareExchange(declaration: ExchangeDeclaration, passive = false): Promise<void> {
    return this.broker.declareExchange(this.principal, declaration, passive);
  }

  deleteExchange(name: string, ifUnused = false): Promise<void> {
    return this.broker.deleteExchange(this.principal, name, ifUnused);
  }

  declareQueue(declaration: QueueDeclaration, passive = false): Promise<QueueDeclared> {
    return this.broker.declareQueue(this.principal, this, declaration, passive);
  }

  deleteQueue(name: string, options: { ifUnused?: boolean; ifEmpty?: boolean } = {}): Promise<number> {
    return this.broker.deleteQueue(this.principal, this, name, options);
  }

  purgeQueue(name: string): Promise<number> {
    return this.broker.purgeQueue(this.principal, this, name);
  }

  bind(declaration: BindingDeclaration): Promise<void> {
    return this.broker.bind(this.principal, this, declaration);
  }

  unbind(declaration: BindingDeclaration): Promise<void> {
    return this.broker.unbind(this.principal, this, declaration);
  }

  consume(channel: Channel, queueName: string, options: ConsumeOptions, callbacks: ConsumerCallbacks): string {
    const queue = this.broker.resolveQueue(this.principal, this, queueName, 'read');
    queue.touch();
    return channel.consume(queue, options, callbacks);
  }

  /** Consumes a stream from a start position (AMQP `x-stream-offset`). */
  consumeStream(channel: Channel, streamName: string, options: StreamConsumeOptions, callbacks: ConsumerCallbacks): string {
    const stream = this.broker.resolveStream(this.principal, streamName, 'read');
    return channel.consumeStream(stream, options, callbacks);
  }

  get(channel: Channel, queueName: string, noAck: boolean): Promise<Delivery | undefined> {
    const queue = this.broker.resolveQueue(this.principal, this, queueName, 'read');
    return channel.get(queue, noAck);
  }

  /** Calls `waiter` once when the queue may have a message to `get` (see Queue.whenReady); returns the cancel. */
  whenReady(queueName: string, waiter: () => void): () => void {
    return this.broker.resolveQueue(this.principal, this, queueName, 'read').whenReady(waiter);
  }

  /** Closes every channel (returning their unacked deliveries). Used at broker shutdown too. */
  closeChannels(): void {
    for (const channel of this.channels.values()) channel.close();
    this.channels.clear();
  }

  /** Closes the connection: channels first, then the exclusive queues it owns. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closeChannels();
    await this.broker.disconnect(this);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private assertOpen(): void {
    if (this.closed) throw new BrokerError('CHANNEL_CLOSED', `connection ${this.id} is closed`);
  }
}
