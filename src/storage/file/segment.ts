/**
 * One segment file of a log: its name, its file handle (opened lazily, shared by readers and the writer,
 * closed only when nobody uses it) and its sparse index.
 */
import { open } from 'node:fs/promises';
import { unlinkIfPresent } from './fs-util.js';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { SegmentIndex } from './segment-index.js';

const OFFSET_DIGITS = 20;
export const SEGMENT_SUFFIX = '.log';
export const INDEX_SUFFIX = '.idx';
const SEGMENT_NAME = /^(\d{20})\.log$/;

export function segmentFileName(baseOffset: number): string {
  return String(baseOffset).padStart(OFFSET_DIGITS, '0') + SEGMENT_SUFFIX;
}

export function indexFileName(baseOffset: number): string {
  return String(baseOffset).padStart(OFFSET_DIGITS, '0') + INDEX_SUFFIX;
}

/** The base offset named by a segment file, or undefined for other files. */
export function parseSegmentFileName(fileName: string): number | undefined {
  const match = SEGMENT_NAME.exec(fileName);
  if (!match) return undefined;
  const base = Number(match[1]);
  return Number.isSafeInteger(base) ? base : undefined;
}

export class Segment {
  readonly path: string;
  readonly indexPath: string;
  /** Bytes of complete records in the file. */
  writtenBytes: number;
  /** Bytes of records appended to this segment, including those still buffered. */
  size: number;
  /** Present for the active segment; loaded on demand for sealed ones. */
  index: SegmentIndex | undefined;
  /** Loading of a sealed segment's index, shared by concurrent readers. */
  indexLoading: Promise<SegmentIndex | undefined> | undefined;
  sealed = false;
  /** False until the writer first writes to a new segment (its creation then needs a directory sync). */
  hasBeenWritten: boolean;
  private handlePromise: Promise<FileHandle> | undefined;
  private users = 0;
  private retired = false;
  private idleWaiters: (() => void)[] = [];
  /** Positions where damage was already reported, so repeated reads do not repeat the report. */
  readonly reportedDamage = new Set<number>();

  constructor(
    directory: string,
    readonly baseOffset: number,
    size: number,
    private exists: boolean,
  ) {
    this.path = join(directory, segmentFileName(baseOffset));
    this.indexPath = join(directory, indexFileName(baseOffset));
    this.writtenBytes = size;
    this.size = size;
    this.hasBeenWritten = exists;
  }

  get isRetired(): boolean {
    return this.retired;
  }

  get hasOpenHandle(): boolean {
    return this.handlePromise !== undefined;
  }

  get inUse(): boolean {
    return this.users > 0;
  }

  /**
   * Takes a use of the file handle (creating the file for a new segment); pair with release().
   * Undefined once the segment is retired (deleted by truncation or removal).
   */
  async acquire(): Promise<FileHandle | undefined> {
    if (this.retired) return undefined;
    this.users++;
    try {
      return await this.handle();
    } catch (error) {
      this.release();
      throw error;
    }
  }

  release(): void {
    this.users--;
    if (this.users === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Creates the file of a new segment now rather than at its first write. */
  async create(): Promise<void> {
    await this.handle();
  }

  private handle(): Promise<FileHandle> {
    if (!this.handlePromise) {
      const flags = this.exists ? 'r+' : 'wx+';
      this.exists = true;
      this.handlePromise = open(this.path, flags);
      // A failed open is retried by the next use rather than cached.
      this.handlePromise.catch(() => {
        this.handlePromise = undefined;
      });
    }
    return this.handlePromise;
  }

  /** Closes the handle if nobody uses it; the next acquire reopens it. */
  async closeIfIdle(): Promise<void> {
    if (this.users > 0 || !this.handlePromise) return;
    const pending = this.handlePromise;
    this.handlePromise = undefined;
    const handle = await pending.catch(() => undefined);
    await handle?.close();
  }

  private waitIdle(): Promise<void> {
    if (this.users === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Waits for current users, then closes the handle. The segment may be used again afterwards. */
  async close(): Promise<void> {
    await this.waitIdle();
    await this.closeIfIdle();
  }

  /** Stops new uses, waits for current ones, closes and deletes the segment and its index file. */
  async retire(): Promise<void> {
    this.retired = true;
    await this.close();
    this.index = undefined;
    await unlinkIfPresent(this.path);
    await unlinkIfPresent(this.indexPath);
  }
}
