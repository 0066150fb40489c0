import type { Broker, BindingDeclaration, ExchangeDeclaration, PublishOutcome, QueueDeclaration, QueueDeclared } from './broker.js';
import type { Channel, ConsumeOptions, ConsumerCallbacks, Delivery, StreamConsumeOptions } from './channel.js';
import { BrokerError } from './errors.js';
import type { Message } from './message/message.js';
import type { Principal } from './ports.js';

export interface ConnectionInfo {
  readonly protocol: string;
  readonly remoteAddress: string;
  readonly clientId?: string;
}

/**
 * A client's connection as the core sees it: who it is (every operation is authorized for its
 * principal), which channels it has, and which exclusive queues it owns (deleted when it closes).
 */
export class Connection {
  private readonly channels = new Map<number, Channel>();
  private nextChannelId = 1;
  private closed = false;
  readonly connectedAt: number;

  constructor(
    private readonly broker: Broker,
    readonly id: number,
    readonly principal: Principal,
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
    const channel = this.broker.newChannel(channelId);
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

  publish(message: Message): PublishOutcome {
    return this.broker.publish(this.principal, message);
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
