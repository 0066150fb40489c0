import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isBrokerError } from '../../core/errors.js';
import { emptySnapshot } from '../../core/ports.js';
import type { MetadataSnapshot } from '../../core/ports.js';
import { FileMetadataStore } from './metadata-file.js';
import { fromTaggedJson, toTaggedJson } from './tagged-json.js';
import { makeTempDir, removeDir } from './test-support.js';

async function withDir(body: (directory: string) => Promise<void>): Promise<void> {
  const directory = await makeTempDir('courier-metadata-');
  try {
    await body(directory);
  } finally {
    await removeDir(directory);
  }
}

const tricky = {
  bytes: new Uint8Array([0, 1, 254, 255]),
  big: -(2n ** 70n),
  nan: Number.NaN,
  inf: Number.POSITIVE_INFINITY,
  negativeZero: -0,
  $bytes: 'a header named like a tag',
  $$x: 1,
  nested: { list: [1n, new Uint8Array(0), null, 'text', { $bigint: 'not a tag' }] },
  ['__proto__']: 'stays a key',
};

function sampleSnapshot(name = 'q'): MetadataSnapshot {
  return {
    ...emptySnapshot(),
    exchanges: [{ name: 'x', type: 'topic', durable: true, autoDelete: false, internal: false, arguments: {} }],
    queues: [{ name, durable: true, autoDelete: false, exclusive: false, arguments: tricky }],
    bindings: [{ source: 'x', destination: name, destinationKind: 'queue', routingKey: 'a.#', arguments: {} }],
    topics: [{ name: 't', displayName: 'T', description: '', createdAt: 1, updatedAt: 2, retention: { maxAgeMs: 10 } }],
    streamOffsets: { s: { reader: 42 } },
  };
}

function corruptCheck(path: string) {
  return (error: unknown): boolean => {
    assert.ok(isBrokerError(error, 'METADATA_CORRUPT'), String(error));
    assert.ok(error.message.includes(path), error.message);
    return true;
  };
}

describe('tagged JSON', () => {
  it('round-trips bytes, bigints, special numbers and $-keys', () => {
    const decoded = fromTaggedJson(JSON.parse(JSON.stringify(toTaggedJson(tricky))) as never) as typeof tricky;
    assert.deepEqual(decoded, tricky);
    assert.ok(Object.is(decoded.negativeZero, -0));
    assert.ok(decoded.bytes instanceof Uint8Array);
    assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
  });
});

describe('FileMetadataStore', () => {
  it('returns an empty snapshot when nothing was saved', () =>
    withDir(async (directory) => {
      const store = new FileMetadataStore({ path: join(directory, 'metadata.json') });
      assert.deepEqual(await store.load(), emptySnapshot());
    }));

  it('saves atomically and loads the snapshot back losslessly', () =>
    withDir(async (directory) => {
      const path = join(directory, 'nested', 'metadata.json');
      const snapshot = sampleSnapshot();
      await new FileMetadataStore({ path }).save(snapshot);
      assert.deepEqual(await readdir(join(directory, 'nested')), ['metadata.json']);
      const loaded = await new FileMetadataStore({ path }).load();
      assert.deepEqual(loaded, snapshot);
      const text = await readFile(path, 'utf8');
      assert.match(text, /^\{"format":"courier-metadata","version":1,"sha256":"[0-9a-f]{64}"/);
    }));

  it('serializes and coalesces concurrent saves; the last one wins', () =>
    withDir(async (directory) => {
      const path = join(directory, 'metadata.json');
      const store = new FileMetadataStore({ path });
      const saves = Array.from({ length: 20 }, (_, i) => store.save(sampleSnapshot(`q${i}`)));
      assert.equal(saves[5], saves[19], 'saves queued behind a running one share one write');
      await Promise.all(saves);
      await store.close();
      assert.equal((await store.load()).queues[0]!.name, 'q19');
      assert.deepEqual(await readdir(directory), ['metadata.json']);
    }));

  it('refuses damaged files with METADATA_CORRUPT naming the file', () =>
    withDir(async (directory) => {
      const path = join(directory, 'metadata.json');
      const store = new FileMetadataStore({ path });
      await store.save(sampleSnapshot());
      const good = await readFile(path, 'utf8');
      const damaged = [
        good.replace('"name":"q"', '"name":"r"'),
        good.slice(0, good.length - 20),
        '',
        'garbage',
        good.replace('"version":1', '"version":9'),
        JSON.stringify({ format: 'something-else' }),
        good.replace(/"sha256":"[0-9a-f]+"/, '"sha256":"00"'),
      ];
      for (const text of damaged) {
        await writeFile(path, text);
        await assert.rejects(store.load(), corruptCheck(path), text.slice(0, 60));
      }
    }));

  it('refuses a file whose checksum matches but whose content is not a snapshot', () =>
    withDir(async (directory) => {
      const path = join(directory, 'metadata.json');
      await new FileMetadataStore({ path }).save({ ...emptySnapshot(), queues: 'oops' } as unknown as MetadataSnapshot);
      await assert.rejects(new FileMetadataStore({ path }).load(), corruptCheck(path));
    }));
});
