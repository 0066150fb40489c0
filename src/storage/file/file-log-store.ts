/**
 * The file implementation of the LogStore port: one directory per log under `directory`, named by
 * log-name.ts so any UTF-8 queue or stream name is safe on disk.
 */
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BrokerError } from '../../core/errors.js';
import type { CorruptionReport, Log, LogOptions, LogStore } from '../../core/ports.js';
import { FileLog } from './file-log.js';
import { ioError, syncDirectory } from './fs-util.js';
import { NAME_FILE, decodeLogName, encodeLogName, isHashedDirectory } from './log-name.js';
import { DEFAULT_INDEX_INTERVAL_BYTES } from './segment-index.js';

export interface FileLogStoreOptions {
  readonly directory: string;
  /** Told about every damaged record found (log line and metric); defaults to a process warning. */
  readonly onCorruption?: (report: CorruptionReport) => void;
  /** Told how long each segment fdatasync took, in seconds. */
  readonly onSync?: (seconds: number) => void;
  /** Segment size for logs opened without one. */
  readonly defaultSegmentBytes?: number;
  /** Bytes between sparse index entries; smaller means shorter scans and bigger indexes. */
  readonly indexIntervalBytes?: number;
}

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

interface OpenEntry {
  readonly promise: Promise<FileLog>;
  log?: FileLog;
}

export class FileLogStore implements LogStore {
  private readonly directory: string;
  private readonly onCorruption: (report: CorruptionReport) => void;
  private readonly onSync: ((seconds: number) => void) | undefined;
  private readonly defaultSegmentBytes: number;
  private readonly indexIntervalBytes: number;
  private readonly logs = new Map<string, OpenEntry>();

  constructor(options: FileLogStoreOptions) {
    this.directory = options.directory;
    this.onCorruption = options.onCorruption ?? warnAboutCorruption;
    this.onSync = options.onSync;
    this.defaultSegmentBytes = positiveOr(options.defaultSegmentBytes, DEFAULT_SEGMENT_BYTES, 'defaultSegmentBytes');
    this.indexIntervalBytes = positiveOr(options.indexIntervalBytes, DEFAULT_INDEX_INTERVAL_BYTES, 'indexIntervalBytes');
  }

  /** Returns the open log when `name` is open already (options of the first open stay in force). */
  async open(name: string, options: LogOptions): Promise<Log> {
    for (;;) {
      const entry = this.logs.get(name);
      if (!entry) break;
      const log = await entry.promise.catch(() => undefined);
      if (log && !log.isClosing) return log;
      await log?.close().catch(() => undefined);
      if (this.logs.get(name) === entry) this.logs.delete(name);
    }
    const segmentBytes = positiveOr(options.segmentBytes, this.defaultSegmentBytes, 'segmentBytes');
    const entry: OpenEntry = {
      promise: this.openLog(name, options, segmentBytes).then((log) => {
        entry.log = log;
        return log;
      }),
    };
    this.logs.set(name, entry);
    entry.promise.catch(() => {
      if (this.logs.get(name) === entry) this.logs.delete(name);
    });
    return entry.promise;
  }

  private async openLog(name: string, options: LogOptions, segmentBytes: number): Promise<FileLog> {
    const { directory: encoded, hashed } = encodeLogName(name);
    const directory = join(this.directory, encoded);
    let created: string | undefined;
    try {
      created = await mkdir(directory, { recursive: true });
    } catch (error) {
      throw ioError(`creating log directory ${directory}`, error);
    }
    if (hashed) await this.checkNameFile(name, directory, created !== undefined);
    if (created !== undefined && options.fsync.mode !== 'never') await syncDirectory(this.directory);
    return FileLog.open({
      name,
      directory,
      fsync: options.fsync,
      segmentBytes,
      indexIntervalBytes: this.indexIntervalBytes,
      onCorruption: this.onCorruption,
      ...(this.onSync ? { onSync: this.onSync } : {}),
      onClosed: (log) => {
        const entry = this.logs.get(name);
        if (entry?.log === log) this.logs.delete(name);
      },
    });
  }

  /** Long names live in hashed directories; the name file says which log a directory holds. */
  private async checkNameFile(name: string, directory: string, fresh: boolean): Promise<void> {
    const path = join(directory, NAME_FILE);
    if (!fresh) {
      try {
        const stored = await readFile(path, 'utf8');
        if (stored === name) return;
        throw new BrokerError('STORAGE_CORRUPT', `log directory ${directory} belongs to another log name (${JSON.stringify(stored.slice(0, 80))})`, {
          log: name,
        });
      } catch (error) {
        if (error instanceof BrokerError) throw error;
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(`reading ${path}`, error);
      }
    }
    try {
      await writeFile(path, name, 'utf8');
    } catch (error) {
      throw ioError(`writing ${path}`, error);
    }
  }

  async remove(name: string): Promise<void> {
    const entry = this.logs.get(name);
    if (entry) {
      const log = await entry.promise.catch(() => undefined);
      await log?.close().catch(() => undefined);
      if (this.logs.get(name) === entry) this.logs.delete(name);
    }
    const directory = join(this.directory, encodeLogName(name).directory);
    try {
      await rm(directory, { recursive: true, force: true });
    } catch (error) {
      throw ioError(`removing log directory ${directory}`, error);
    }
  }

  async list(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw ioError(`listing ${this.directory}`, error);
    }
    const names = await Promise.all(
      entries.map(async (entry) => {
        const plain = decodeLogName(entry);
        if (plain !== undefined) return plain;
        if (!isHashedDirectory(entry)) return undefined;
        try {
          return await readFile(join(this.directory, entry, NAME_FILE), 'utf8');
        } catch {
          return undefined;
        }
      }),
    );
    return names.filter((name): name is string => name !== undefined);
  }

  /** Closes every open log. The store stays usable: a later open reopens from disk. */
  async close(): Promise<void> {
    const entries = [...this.logs.values()];
    const results = await Promise.allSettled(
      entries.map(async (entry) => {
        const log = await entry.promise.catch(() => undefined);
        await log?.close();
      }),
    );
    for (const result of results) if (result.status === 'rejected') throw result.reason;
  }
}

function positiveOr(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new BrokerError('INVALID_ARGUMENT', `${what} must be a positive integer, got ${value}`);
  }
  return value;
}

function warnAboutCorruption(report: CorruptionReport): void {
  process.emitWarning(
    `log ${JSON.stringify(report.log)}: ${report.reason} in ${report.location} (offset ${report.offset ?? 'unknown'}); ${report.action} ${report.bytes} bytes`,
    { code: 'COURIER_STORAGE_CORRUPT' },
  );
}
