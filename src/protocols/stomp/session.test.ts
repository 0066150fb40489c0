/**
 * StompSession against a real broker over memory stores, with a wire that records frames: receipts wait
 * for the fsync that covers the message (the log's flush is held back here), a failed flush is an ERROR,
 * and deliveries pause while the wire is full.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Broker } from '../../core/broker.js';
import { BrokerError } from '../../core/errors.js';
import { silentLogger } from '../../core/null-ports.js';
import type { Authenticator, Log, LogOptions, LogRecord, LogStore } from '../../core/ports.js';
import { MemoryLogStore, MemoryMetadataStore } from '../../storage/index.js';
import type { StompFrame } from './codec/frame.js';
import { defaultStompLimits } from './codec/limits.js';
import { FrameParser } from './codec/parser.js';
import { StompSession, type StompWire } from './session.js';

/** A log whose flushes wait until the test lets them go (or fails them). */
class GatedLog implements Log {
  private gates: { resolve: () => void; reject: (error: Error) => void }[] = [];
  held = true;

  constructor(private readonly inner: Log) {}

  get name(): string {
    return this.inner.name;
  }
  get startOffset(): number {
    return this.inner.startOffset;
  }
  get endOffset(): number {
    return this.inner.endOffset;
  }
  get memoryBytes(): number {
    return this.inner.memoryBytes;
  }

  get sizeBytes(): number {
    return this.inner.sizeBytes;
  }
  append(kind: number, timestamp: number, payload: Uint8Array): number {
    return this.inner.append(kind, timestamp, payload);
  }
  async flush(): Promise<void> {
    await this.inner.flush();
    if (!this.held) return;
    await new Promise<void>((resolve, reject) => this.gates.push({ resolve, reject }));
  }
  release(): void {
    this.held = false;
    for (const gate of this.gates.splice(0)) gate.resolve();
  }
  fail(error: Error): void {
    for (const gate of this.gates.splice(0)) gate.reject(error);
  }
  get waiting(): number {
    return this.gates.length;
  }
  read(from: number, maxRecords: number, maxBytes: number): Promise<LogRecord[]> {
    return this.inner.read(from, maxRecords, maxBytes);
  }
  scan(from: number, visit: (record: LogRecord) => void): Promise<void> {
    return this.inner.scan(from, visit);
  }
  offsetForTimestamp(timestamp: number): Promise<number> {
    return this.inner.offsetForTimestamp(timestamp);
  }
  truncateBefore(offset: number): Promise<void> {
    return this.inner.truncateBefore(offset);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

class GatedLogStore implements LogStore {
  private readonly inner = new MemoryLogStore();
  readonly logs = new Map<string, GatedLog>();

  async open(name: string, options: LogOptions): Promise<Log> {
    const log = new GatedLog(await this.inner.open(name, options));
    this.logs.set(name, log);
    return log;
  }
  remove(name: string): Promise<void> {
    return this.inner.remove(name);
  }
  list(): Promise<string[]> {
    return this.inner.list();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

class RecordingWire implements StompWire {
  readonly remoteAddress = '127.0.0.1';
  readonly frames: StompFrame[] = [];
  private readonly parser = new FrameParser();
  /** Writes accepted before the wire reports itself full. */
  room = Infinity;
  ended = false;

  write(bytes: Uint8Array): boolean {
    this.parser.push(bytes);
    for (let frame = this.parser.next(); frame; frame = this.parser.next()) this.frames.push(frame);
    this.room -= 1;
    return this.room > 0;
  }
  pause(): void {}
  resume(): void {}
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.ended = true;
  }
  commands(): string[] {
    return this.frames.map((frame) => frame.command);
  }
}

const allowGuest: Authenticator = { authenticate: () => Promise.resolve({ username: 'guest', tags: [] }) };

async function settle(turns = 10): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise<void>((resolve) => setImmediate(resolve));
  assert.ok(condition(), `timed out waiting for ${what}`);
}

async function openSession() {
  const logStore = new GatedLogStore();
  const broker = await Broker.open({
    logStore,
    transientLogStore: new MemoryLogStore(),
    metadataStore: new MemoryMetadataStore(),
    fsync: { mode: 'always' },
  });
  const wire = new RecordingWire();
  const session = new StompSession(
    wire,
    { broker, logger: silentLogger, authenticator: allowGuest },
    { serverName: 'Courier/test', limits: defaultStompLimits, heartBeatMinimumMs: 100, connectTimeoutMs: 60_000, lingerMs: 10 },
  );
  const frame = (text: string): void => session.receive(Buffer.from(text, 'latin1'));
  frame('CONNECT\naccept-version:1.2\n\n\0');
  await until(() => wire.frames.length === 1, 'CONNECTED');
  assert.equal(wire.frames[0]!.command, 'CONNECTED');
  return {
    broker,
    logStore,
    wire,
    session,
    frame,
    async close() {
      await session.shutdown();
      await broker.close();
    },
  };
}

describe('StompSession receipts', () => {
  it('sends a SEND receipt only after the flush that makes the message durable, and keeps receipts in order', async () => {
    const s = await openSession();
    try {
      s.frame('SEND\ndestination:/queue/durable\npersistent:true\nreceipt:r1\n\nkeep me\0');
      await until(() => s.logStore.logs.get('durable')?.waiting === 1, 'the flush of the message');
      // A later frame's receipt must not overtake the held one.
      s.frame('BEGIN\ntransaction:t\nreceipt:r2\n\n\0');
      await settle();
      assert.deepEqual(s.wire.commands(), ['CONNECTED']);
      s.logStore.logs.get('durable')!.release();
      await until(() => s.wire.frames.length === 3, 'both receipts');
      assert.deepEqual(
        s.wire.frames.slice(1).map((frame) => frame.headers.get('receipt-id')),
        ['r1', 'r2'],
      );
    } finally {
      await s.close();
    }
  });

  it('answers a failed flush with an ERROR naming the receipt, then closes', async () => {
    const s = await openSession();
    try {
      s.frame('SEND\ndestination:/queue/broken\npersistent:true\nreceipt:r1\n\nx\0');
      await until(() => s.logStore.logs.get('broken')?.waiting === 1, 'the flush of the message');
      s.logStore.logs.get('broken')!.fail(new BrokerError('STORAGE_IO', 'disk on fire'));
      await until(() => s.wire.frames.length === 2, 'the ERROR');
      const error = s.wire.frames[1]!;
      assert.equal(error.command, 'ERROR');
      assert.equal(error.headers.get('receipt-id'), 'r1');
      assert.equal(error.headers.get('courier-error-code'), 'STORAGE_IO');
      assert.equal(s.wire.ended, true);
    } finally {
      await s.close();
    }
  });

  it('sends a non-persistent SEND receipt at once', async () => {
    const s = await openSession();
    try {
      s.frame('SEND\ndestination:/queue/light\nreceipt:r1\n\nx\0');
      await until(() => s.wire.frames.length === 2, 'the receipt');
      assert.equal(s.wire.frames[1]!.headers.get('receipt-id'), 'r1');
    } finally {
      await s.close();
    }
  });
});

describe('StompSession flow control', () => {
  it('stops delivering while the wire is full and goes on once it drains', async () => {
    const s = await openSession();
    try {
      s.logStore.logs.clear();
      s.frame('SUBSCRIBE\nid:s\ndestination:/queue/flood\nreceipt:sub\n\n\0');
      await until(() => s.wire.frames.length === 2, 'the SUBSCRIBE receipt');
      for (const log of s.logStore.logs.values()) log.release();
      s.wire.room = 3;
      for (let i = 0; i < 10; i++) s.frame(`SEND\ndestination:/queue/flood\n\nm${i}\0`);
      await settle();
      const delivered = (): number => s.wire.frames.filter((frame) => frame.command === 'MESSAGE').length;
      assert.equal(delivered(), 3, 'deliveries stopped when the wire said it was full');
      assert.equal(s.broker.getQueue('flood')!.messageCount, 7);
      s.wire.room = Infinity;
      s.session.drained();
      await until(() => delivered() === 10, 'the rest after drain');
    } finally {
      await s.close();
    }
  });
});
