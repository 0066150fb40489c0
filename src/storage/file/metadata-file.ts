/**
 * The file implementation of the MetadataStore port: one JSON file holding the whole snapshot, wrapped
 * with a format name, a version and a SHA-256 of the snapshot's JSON text, replaced atomically (temp
 * file + fsync + rename + fsync of the directory). A damaged file is an error, never an empty broker.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BrokerError } from '../../core/errors.js';
import { emptySnapshot } from '../../core/ports.js';
import type { MetadataSnapshot, MetadataStore } from '../../core/ports.js';
import { errorCode, ioError, syncDirectory } from './fs-util.js';
import { fromTaggedJson, toTaggedJson } from './tagged-json.js';
import type { Json } from './tagged-json.js';

const FORMAT = 'courier-metadata';
const VERSION = 1;

export interface FileMetadataStoreOptions {
  readonly path: string;
}

export class FileMetadataStore implements MetadataStore {
  private readonly path: string;
  /** Settles after the last save started so far. */
  private chain: Promise<void> = Promise.resolve();
  /** The save not started yet, shared by every caller until it starts; it writes the latest snapshot. */
  private queued: Promise<void> | undefined;
  private latest: MetadataSnapshot | undefined;

  constructor(options: FileMetadataStoreOptions) {
    this.path = options.path;
  }

  async load(): Promise<MetadataSnapshot> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return emptySnapshot();
      throw ioError(`reading metadata file ${this.path}`, error, { path: this.path });
    }
    return decodeMetadata(text, this.path);
  }

  /**
   * Saves are serialized; saves requested while one is being written are coalesced into the next write,
   * which stores the latest snapshot. Do not mutate a snapshot after handing it over.
   */
  save(snapshot: MetadataSnapshot): Promise<void> {
    this.latest = snapshot;
    if (!this.queued) {
      const queued = this.chain.then(() => {
        this.queued = undefined;
        const latest = this.latest!;
        this.latest = undefined;
        return this.write(latest);
      });
      this.queued = queued;
      this.chain = queued.catch(() => undefined);
    }
    return this.queued;
  }

  async close(): Promise<void> {
    await this.chain;
  }

  private async write(snapshot: MetadataSnapshot): Promise<void> {
    let text: string;
    try {
      text = encodeMetadata(snapshot);
    } catch (error) {
      throw new BrokerError('INVALID_ARGUMENT', `metadata snapshot cannot be stored: ${String(error)}`, {}, { cause: error });
    }
    const temporary = `${this.path}.tmp`;
    try {
      await mkdir(dirname(this.path), { recursive: true });
      const handle = await open(temporary, 'w');
      try {
        await handle.writeFile(text, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, this.path);
    } catch (error) {
      throw ioError(`writing metadata file ${this.path}`, error, { path: this.path });
    }
    await syncDirectory(dirname(this.path));
  }
}

export function encodeMetadata(snapshot: MetadataSnapshot): string {
  const body = JSON.stringify(toTaggedJson(snapshot));
  return `{"format":"${FORMAT}","version":${VERSION},"sha256":"${sha256(body)}","snapshot":${body}}\n`;
}

/** Decodes a metadata file's text; throws METADATA_CORRUPT naming `path` for anything but a good file. */
export function decodeMetadata(text: string, path: string): MetadataSnapshot {
  const corrupt = (reason: string, cause?: unknown): BrokerError =>
    new BrokerError(
      'METADATA_CORRUPT',
      `metadata file ${path} is damaged (${reason}); refusing to start with empty metadata. Restore it from a backup or move it away to start empty.`,
      { path, reason },
      cause === undefined ? undefined : { cause },
    );
  let wrapper: unknown;
  try {
    wrapper = JSON.parse(text);
  } catch (error) {
    throw corrupt(text.length === 0 ? 'the file is empty' : 'not valid JSON', error);
  }
  if (!isObject(wrapper) || wrapper.format !== FORMAT) throw corrupt('not a Courier metadata file');
  if (wrapper.version !== VERSION) throw corrupt(`unsupported version ${JSON.stringify(wrapper.version)}`);
  if (typeof wrapper.sha256 !== 'string' || !('snapshot' in wrapper)) throw corrupt('checksum or snapshot missing');
  const body = JSON.stringify(wrapper.snapshot);
  if (sha256(body) !== wrapper.sha256) throw corrupt('checksum mismatch');
  let snapshot: unknown;
  try {
    snapshot = fromTaggedJson(wrapper.snapshot as Json);
  } catch (error) {
    throw corrupt(String(error), error);
  }
  const shapeProblem = describeShapeProblem(snapshot);
  if (shapeProblem) throw corrupt(shapeProblem);
  return snapshot as MetadataSnapshot;
}

function describeShapeProblem(snapshot: unknown): string | undefined {
  if (!isObject(snapshot)) return 'the snapshot is not an object';
  if (snapshot.version !== 1) return `unsupported snapshot version ${JSON.stringify(snapshot.version)}`;
  for (const key of ['exchanges', 'queues', 'streams', 'bindings', 'topics'] as const) {
    const list = snapshot[key];
    if (!Array.isArray(list) || !list.every(isObject)) return `${key} is not a list of records`;
  }
  // Files written before services existed have no list: they load as having none.
  if (snapshot.services !== undefined && (!Array.isArray(snapshot.services) || !snapshot.services.every(isObject))) {
    return 'services is not a list of records';
  }
  if (!isObject(snapshot.streamOffsets)) return 'streamOffsets is not an object';
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
