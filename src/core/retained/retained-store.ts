/**
 * A durable "last message per key" store: MQTT retained messages use it with routing keys as keys, and
 * any adapter with the same need (a STOMP or HTTP "last value") can share it.
 *
 * Storage: one log of records `set` = [u16 key length][key UTF-8][encoded message] and `clear` =
 * [key UTF-8]. Recovery replays the log and keeps the last record per key. Every entry stays in memory
 * (one message per key, as Mosquitto keeps them), so lookups never touch the disk.
 *
 * Compaction: once dead records outnumber live entries (and a minimum), the live entries are appended
 * again, with their original timestamps, and the segments wholly before the copies are deleted. Records
 * that survive in a partly kept segment are harmless: the copies come after them, and the last record
 * of a key wins.
 */
import { BrokerError } from '../errors.js';
import type { Message } from '../message/message.js';
import { decodeMessage, encodeMessage } from '../message/message-codec.js';
import type { Clock, Log, Logger } from '../ports.js';
import { KeyTrie } from './key-trie.js';

/** The log the broker opens for the store: `amq.` names cannot be declared by clients, so it never collides. */
export const RETAINED_LOG_NAME = 'amq.retained';
/**
 * Logs of named keyed stores (`Broker.keyedStore`): an adapter's small durable state (MQTT: QoS 2 packet
 * identifiers and delayed wills), kept apart from the retained messages that clients can match.
 */
export const KEYED_STORE_LOG_PREFIX = 'amq.kv.';

const KIND_SET = 1;
const KIND_CLEAR = 2;
const MAX_KEY_BYTES = 0xffff;
const DEFAULT_MIN_GARBAGE = 1024;

export interface RetainedMessage {
  readonly key: string;
  readonly message: Message;
  /** When it was stored (ms since the epoch): with `message.properties.expiration` it gives the expiry. */
  readonly storedAt: number;
}

export interface RetainedStoreOptions {
  /** Opens (and recovers) the store's log; called on first use, so a broker that never retains has no log. */
  readonly openLog: () => Promise<Log>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Dead records tolerated before a compaction, at least (default 1024). */
  readonly minGarbageForCompaction?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export class RetainedStore {
  private readonly entries = new KeyTrie<RetainedMessage>();
  private log: Log | undefined;
  private opening: Promise<Log> | undefined;
  /** First offset recovery needs: records before it were superseded by a compaction's copies. */
  private liveFrom = 0;
  private compacting: Promise<void> | undefined;
  private closed = false;
  private readonly minGarbage: number;

  constructor(private readonly options: RetainedStoreOptions) {
    this.minGarbage = options.minGarbageForCompaction ?? DEFAULT_MIN_GARBAGE;
  }

  /** Stores `message` as the value of `key`, replacing any; resolves once it is durable. */
  async set(key: string, message: Message): Promise<void> {
    const log = await this.ready();
    const keyBytes = encodeKey(key);
    const storedAt = this.options.clock.now();
    const payload = setPayload(keyBytes, encodeMessage(message));
    log.append(KIND_SET, storedAt, payload);
    // The stored copy, decoded from the record: it owns exactly its bytes, where the caller's body may be
    // a view into a larger buffer (a socket chunk) that would otherwise stay alive as long as the entry.
    this.entries.set(key, { key, message: decodeMessage(payload.subarray(2 + keyBytes.byteLength)), storedAt });
    this.maybeCompact(log);
    await log.flush();
  }

  /** Removes the value of `key` (nothing happens when there is none); resolves once that is durable. */
  async clear(key: string): Promise<void> {
    const log = await this.ready();
    const keyBytes = encodeKey(key);
    if (this.entries.delete(key) === undefined) return;
    log.append(KIND_CLEAR, this.options.clock.now(), keyBytes);
    this.maybeCompact(log);
    await log.flush();
  }

  /** The live (unexpired) value of `key`. */
  async get(key: string): Promise<RetainedMessage | undefined> {
    await this.ready();
    const entry = this.entries.get(key);
    return entry && !this.isExpired(entry, this.options.clock.now()) ? entry : undefined;
  }

  /** Live values whose key matches a topic pattern (`*` one word, `#` zero or more), in no particular order. */
  async match(pattern: string): Promise<RetainedMessage[]> {
    await this.ready();
    const now = this.options.clock.now();
    return this.entries.match(pattern).filter((entry) => !this.isExpired(entry, now));
  }

  /** Number of stored values, expired ones not yet compacted away included. */
  async count(): Promise<number> {
    await this.ready();
    return this.entries.size;
  }

  /** Waits for a running compaction, then closes the log (flushing it). Later calls fail with BROKER_CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const log = await this.opening?.catch(() => undefined);
    await this.compacting;
    await log?.close();
  }

  private isExpired(entry: RetainedMessage, now: number): boolean {
    const ttl = entry.message.properties.expiration;
    return ttl !== undefined && entry.storedAt + ttl <= now;
  }

  private ready(): Promise<Log> {
    if (this.closed) return Promise.reject(new BrokerError('BROKER_CLOSED', 'the retained message store is closed'));
    if (this.log) return Promise.resolve(this.log);
    this.opening ??= this.open().catch((error: unknown) => {
      // A failed open (disk trouble) is retried by the next call rather than remembered forever.
      this.opening = undefined;
      throw error;
    });
    return this.opening;
  }

  private async open(): Promise<Log> {
    const log = await this.options.openLog();
    let corrupt = 0;
    await log.scan(log.startOffset, (record) => {
      try {
        this.replay(record.kind, record.timestamp, record.payload);
      } catch {
        corrupt += 1;
      }
    });
    if (corrupt > 0) this.options.logger.warn({ log: log.name, records: corrupt }, 'skipped unreadable retained-message records');
    this.liveFrom = log.startOffset;
    this.log = log;
    return log;
  }

  private replay(kind: number, timestamp: number, payload: Uint8Array): void {
    if (kind === KIND_CLEAR) {
      this.entries.delete(decoder.decode(payload));
      return;
    }
    if (kind !== KIND_SET) return;
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const keyLength = view.getUint16(0);
    const key = decoder.decode(payload.subarray(2, 2 + keyLength));
    // The scan's payload is only valid during the visit: the message keeps a copy.
    const message = decodeMessage(payload.slice(2 + keyLength));
    this.entries.set(key, { key, message, storedAt: timestamp });
  }

  private maybeCompact(log: Log): void {
    if (this.compacting) return;
    const live = this.entries.size;
    const dead = log.endOffset - this.liveFrom - live;
    if (dead < Math.max(this.minGarbage, live)) return;
    this.compacting = this.compact(log).finally(() => {
      this.compacting = undefined;
    });
  }

  private async compact(log: Log): Promise<void> {
    const now = this.options.clock.now();
    const from = log.endOffset;
    for (const entry of this.entries.values()) {
      if (this.isExpired(entry, now)) {
        // Dropped for good once the segments before the copies go; until then its old record is expired anyway.
        this.entries.delete(entry.key);
        continue;
      }
      log.append(KIND_SET, entry.storedAt, setPayload(encodeKey(entry.key), encodeMessage(entry.message)));
    }
    this.liveFrom = from;
    try {
      await log.flush();
      await log.truncateBefore(from);
    } catch (error) {
      this.options.logger.error({ log: log.name, err: error }, 'compacting retained messages failed');
    }
  }
}

function encodeKey(key: string): Uint8Array {
  const bytes = encoder.encode(key);
  if (bytes.byteLength > MAX_KEY_BYTES) {
    throw new BrokerError('INVALID_ARGUMENT', `retained message key is longer than ${MAX_KEY_BYTES} bytes`);
  }
  return bytes;
}

function setPayload(key: Uint8Array, message: Uint8Array): Uint8Array {
  const payload = new Uint8Array(2 + key.byteLength + message.byteLength);
  payload[0] = key.byteLength >>> 8;
  payload[1] = key.byteLength & 0xff;
  payload.set(key, 2);
  payload.set(message, 2 + key.byteLength);
  return payload;
}
