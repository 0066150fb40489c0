import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../clock.js';
import { isBrokerError } from '../errors.js';
import { createMessage, type Message } from '../message/message.js';
import { silentLogger } from '../null-ports.js';
import type { Log } from '../ports.js';
import { ArrayLog } from '../stream/test-log.js';
import { KeyTrie } from './key-trie.js';
import { RetainedStore } from './retained-store.js';

function text(body: string, init: Partial<Message> = {}): Message {
  return createMessage({ exchange: 'amq.topic', ...init, body: new TextEncoder().encode(body) });
}

function bodyOf(message: Message | undefined): string | undefined {
  return message ? new TextDecoder().decode(message.body) : undefined;
}

/** A log whose `close` keeps the records, so a new store can recover from it as after a restart. */
function reopenable(log: ArrayLog): () => Promise<Log> {
  const handle = new Proxy(log, {
    get(target, property) {
      if (property === 'close') return () => Promise.resolve();
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return () => Promise.resolve(handle);
}

function storeOver(log: ArrayLog, clock = new ManualClock(), minGarbage?: number): RetainedStore {
  return new RetainedStore({
    openLog: reopenable(log),
    clock,
    logger: silentLogger,
    ...(minGarbage === undefined ? {} : { minGarbageForCompaction: minGarbage }),
  });
}

describe('KeyTrie', () => {
  it('matches stored keys with topic patterns, each value once', () => {
    const trie = new KeyTrie<string>();
    for (const key of ['a.b.c', 'a.b', 'a', 'a..c', 'x.y', '']) trie.set(key, key);
    const match = (pattern: string): string[] => trie.match(pattern).sort();
    assert.deepEqual(match('a.*'), ['a.b']);
    assert.deepEqual(match('a.#'), ['a', 'a..c', 'a.b', 'a.b.c']);
    assert.deepEqual(match('#'), ['', 'a', 'a..c', 'a.b', 'a.b.c', 'x.y']);
    assert.deepEqual(match('*.*.c'), ['a..c', 'a.b.c']);
    assert.deepEqual(match('#.c.#'), ['a..c', 'a.b.c']);
    assert.deepEqual(match('#.#.#'), match('#'));
    assert.deepEqual(match('a.b.c'), ['a.b.c']);
    assert.deepEqual(match('nope.#'), []);
  });

  it('deletes keys and prunes their branches', () => {
    const trie = new KeyTrie<number>();
    trie.set('a.b.c', 1);
    trie.set('a.b', 2);
    assert.equal(trie.delete('a.b.c'), 1);
    assert.equal(trie.delete('a.b.c'), undefined);
    assert.equal(trie.size, 1);
    assert.deepEqual(trie.match('#'), [2]);
    assert.equal(trie.delete('a.b'), 2);
    assert.deepEqual(trie.values(), []);
  });

  it('handles keys of tens of thousands of words without deep recursion', () => {
    const trie = new KeyTrie<string>();
    const deep = Array.from({ length: 50_000 }, () => 'w').join('.');
    trie.set(deep, 'deep');
    assert.deepEqual(trie.match('#'), ['deep']);
    assert.deepEqual(trie.values(), ['deep']);
    assert.equal(trie.delete(deep), 'deep');
  });
});

describe('RetainedStore', () => {
  it('keeps the last message per key and removes it on clear', async () => {
    const store = storeOver(new ArrayLog());
    await store.set('home.lamp', text('on'));
    await store.set('home.lamp', text('off'));
    await store.set('home.door', text('open'));
    assert.equal(bodyOf((await store.get('home.lamp'))?.message), 'off');
    assert.deepEqual((await store.match('home.*')).map((entry) => entry.key).sort(), ['home.door', 'home.lamp']);
    await store.clear('home.lamp');
    await store.clear('never.set');
    assert.equal(await store.get('home.lamp'), undefined);
    assert.equal(await store.count(), 1);
  });

  it('recovers the last value of every key from its log', async () => {
    const log = new ArrayLog();
    const clock = new ManualClock();
    const first = storeOver(log, clock);
    await first.set('a', text('1'));
    await first.set('b', text('2', { headers: { h: 'v' }, properties: { contentType: 'text/plain' } }));
    await first.set('a', text('3'));
    await first.clear('b');
    await first.set('c', text('4'));
    await first.close();

    const second = storeOver(log, clock);
    const entries = await second.match('#');
    assert.deepEqual(entries.map((entry) => [entry.key, bodyOf(entry.message)]).sort(), [
      ['a', '3'],
      ['c', '4'],
    ]);
    assert.equal(entries.find((entry) => entry.key === 'a')!.storedAt, clock.now());
  });

  it('compacts: live entries are copied forward and old segments deleted; recovery still sees the last values', async () => {
    const log = new ArrayLog({ segmentBytes: 512 });
    const store = storeOver(log, new ManualClock(), 8);
    for (let round = 0; round < 50; round++) {
      for (const key of ['k1', 'k2', 'k3']) await store.set(key, text(`${key}-${round}`));
    }
    await store.clear('k3');
    await store.set('k4', text('last'));
    // Give a running compaction its turns.
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.ok(log.endOffset - log.startOffset < 60, `log holds ${log.endOffset - log.startOffset} of ${log.endOffset} records`);
    const recovered = storeOver(log);
    assert.deepEqual((await recovered.match('#')).map((entry) => [entry.key, bodyOf(entry.message)]).sort(), [
      ['k1', 'k1-49'],
      ['k2', 'k2-49'],
      ['k4', 'last'],
    ]);
  });

  it('hides messages whose expiration has passed since they were stored', async () => {
    const clock = new ManualClock();
    const store = storeOver(new ArrayLog(), clock);
    await store.set('short', text('soon gone', { properties: { expiration: 1000 } }));
    await store.set('long', text('stays'));
    clock.advance(999);
    assert.equal(bodyOf((await store.get('short'))?.message), 'soon gone');
    clock.advance(1);
    assert.equal(await store.get('short'), undefined);
    assert.deepEqual((await store.match('#')).map((entry) => entry.key), ['long']);
  });

  it('keeps a copy that does not share the caller buffer', async () => {
    const store = storeOver(new ArrayLog());
    const chunk = new TextEncoder().encode('xxxxpayloadxxxx');
    await store.set('k', createMessage({ body: chunk.subarray(4, 11) }));
    chunk.fill(0);
    assert.equal(bodyOf((await store.get('k'))?.message), 'payload');
  });

  it('opens its log on first use only, and refuses work after close', async () => {
    let opened = 0;
    const log = new ArrayLog();
    const store = new RetainedStore({
      openLog: () => {
        opened += 1;
        return Promise.resolve(log);
      },
      clock: new ManualClock(),
      logger: silentLogger,
    });
    assert.equal(opened, 0);
    await Promise.all([store.get('a'), store.set('a', text('x')), store.match('#')]);
    assert.equal(opened, 1);
    await store.close();
    await assert.rejects(store.get('a'), (error) => isBrokerError(error, 'BROKER_CLOSED'));
  });
});
