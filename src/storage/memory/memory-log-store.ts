/**
 * The memory implementation of the LogStore port. Logs survive close() of their handles and of the store
 * (until removed), so a restart over the same store instance behaves like a restart over the same files.
 */
import type { Log, LogOptions, LogStore } from '../../core/ports.js';
import { MemoryLog, MemoryLogData } from './memory-log.js';

export class MemoryLogStore implements LogStore {
  private readonly data = new Map<string, MemoryLogData>();
  private readonly handles = new Map<string, MemoryLog>();

  open(name: string, _options: LogOptions): Promise<Log> {
    const current = this.handles.get(name);
    if (current && !current.isClosed) return Promise.resolve(current);
    let data = this.data.get(name);
    if (!data) {
      data = new MemoryLogData();
      this.data.set(name, data);
    }
    const log = new MemoryLog(name, data);
    this.handles.set(name, log);
    return Promise.resolve(log);
  }

  async remove(name: string): Promise<void> {
    await this.handles.get(name)?.close();
    this.handles.delete(name);
    this.data.delete(name);
  }

  list(): Promise<string[]> {
    return Promise.resolve([...this.data.keys()]);
  }

  async close(): Promise<void> {
    await Promise.all([...this.handles.values()].map((log) => log.close()));
    this.handles.clear();
  }
}
