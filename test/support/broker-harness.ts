/** Opens real brokers over the memory or the file store for core behaviour tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../../src/core/broker.js';
import type { Channel, Delivery } from '../../src/core/channel.js';
import type { Connection } from '../../src/core/connection.js';
import { createMessage, type Message } from '../../src/core/message/message.js';
import type { Clock, FsyncPolicy, Principal } from '../../src/core/ports.js';
import { FileLogStore, FileMetadataStore, MemoryLogStore, MemoryMetadataStore } from '../../src/storage/index.js';

export const guest: Principal = { username: 'guest', tags: ['administrator'] };

export type StoreKind = 'memory' | 'file';

export interface Harness {
  broker: Broker;
  connection: Connection;
  channel: Channel;
  /** Closes the broker and opens a new one over the same stores (file) or the same memory stores. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  store?: StoreKind;
  clock?: Clock;
  fsync?: FsyncPolicy;
  segmentBytes?: number;
  directory?: string;
}

export async function openHarness(options: HarnessOptions = {}): Promise<Harness> {
  const kind = options.store ?? 'memory';
  const directory = options.directory ?? (kind === 'file' ? await mkdtemp(join(tmpdir(), 'courier-core-')) : undefined);
  const ownsDirectory = options.directory === undefined;
  const memoryLogs = new MemoryLogStore();
  const memoryMetadata = new MemoryMetadataStore();
  const open = async (): Promise<Broker> =>
    Broker.open({
      logStore: directory ? new FileLogStore({ directory: join(directory, 'logs') }) : memoryLogs,
      transientLogStore: new MemoryLogStore(),
      metadataStore: directory ? new FileMetadataStore({ path: join(directory, 'metadata.json') }) : memoryMetadata,
      ...(options.clock ? { clock: options.clock } : {}),
      fsync: options.fsync ?? { mode: 'never' },
      ...(options.segmentBytes ? { segmentBytes: options.segmentBytes } : {}),
    });
  const harness: Harness = {
    broker: await open(),
    connection: undefined as unknown as Connection,
    channel: undefined as unknown as Channel,
    async restart() {
      await harness.broker.close();
      harness.broker = await open();
      harness.connection = harness.broker.connect(guest, { protocol: 'test', remoteAddress: '127.0.0.1' });
      harness.channel = harness.connection.openChannel();
    },
    async close() {
      await harness.broker.close();
      if (directory && ownsDirectory) await rm(directory, { recursive: true, force: true });
    },
  };
  harness.connection = harness.broker.connect(guest, { protocol: 'test', remoteAddress: '127.0.0.1' });
  harness.channel = harness.connection.openChannel();
  return harness;
}

export function textMessage(text: string, init: Partial<Message> = {}): Message {
  return createMessage({ ...init, body: new TextEncoder().encode(text) });
}

export function bodyText(delivery: Delivery | undefined): string | undefined {
  return delivery ? new TextDecoder().decode(delivery.message.body) : undefined;
}

/** Publishes to the default exchange (routing key = queue name) and waits until it is durable. */
export async function publishTo(
  connection: Connection,
  queue: string,
  text: string,
  init: Partial<Message> = {},
): Promise<void> {
  const outcome = connection.publish(textMessage(text, { routingKey: queue, ...init }));
  await outcome.durable;
}

/** A consumer that records deliveries; `next(n)` waits (bounded) for n more. */
export class Recorder {
  readonly deliveries: Delivery[] = [];
  readonly cancelled: string[] = [];
  private waiters: Array<() => void> = [];

  readonly callbacks = {
    deliver: (delivery: Delivery): void => {
      this.deliveries.push(delivery);
      for (const waiter of this.waiters.splice(0)) waiter();
    },
    cancelled: (tag: string): void => {
      this.cancelled.push(tag);
    },
  };

  get texts(): string[] {
    return this.deliveries.map((delivery) => bodyText(delivery)!);
  }

  async waitFor(count: number, timeoutMs = 5000): Promise<Delivery[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.deliveries.length < count) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`expected ${count} deliveries, got ${this.deliveries.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.deliveries;
  }
}

/** Lets pending microtasks and I/O callbacks (log reads, state flushes) run. */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
