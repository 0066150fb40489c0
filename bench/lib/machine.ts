/** What a benchmark ran on: figures are only comparable between runs on the same kind of machine. */
import { statfs } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, release, totalmem, type as osType } from 'node:os';

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryBytes: number;
  readonly node: string;
  readonly v8: string;
  readonly os: string;
  /** 1, 5 and 15 minute load averages when the run started: other work on the machine skews the figures. */
  readonly loadAverage: readonly number[];
}

export function describeMachine(): MachineInfo {
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryBytes: totalmem(),
    node: process.version,
    v8: process.versions.v8,
    os: `${osType()} ${release()}`,
    loadAverage: loadavg().map((load) => Number(load.toFixed(2))),
  };
}

export function machineLine(machine: MachineInfo): string {
  const gib = (machine.memoryBytes / 2 ** 30).toFixed(1);
  return `${machine.cpus} CPUs (${machine.cpuModel}), ${gib} GiB RAM, Node ${machine.node}, ${machine.os}, load ${machine.loadAverage.join(' ')}`;
}

/** Bytes free for an unprivileged writer on the file system holding `path`. */
export async function freeBytes(path: string): Promise<number> {
  const stats = await statfs(path);
  return stats.bavail * stats.bsize;
}
