/**
 * Helpers the benchmark scenarios share: bounded waits, load-generator workers that are always gone
 * at the end of a run (killed by pid if they hang), cores from CPU times, and the scenario command line.
 */
import { WorkerProcess } from '../load/worker-process.js';

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export type SpawnWorker = <R>(script: string, config: unknown, label: string) => WorkerProcess<R>;

/** Starts workers, runs `body`, and makes sure every worker is gone afterwards. */
export async function withWorkers<T>(body: (spawn: SpawnWorker) => Promise<T>): Promise<T> {
  const workers: WorkerProcess<unknown>[] = [];
  const spawn: SpawnWorker = <R>(script: string, config: unknown, label: string): WorkerProcess<R> => {
    const worker = new WorkerProcess<R>(script, config, label);
    workers.push(worker);
    return worker;
  };
  try {
    return await body(spawn);
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.kill()));
    throw error;
  } finally {
    await Promise.all(workers.map((worker) => withTimeout(worker.exited, 10_000, worker.label).catch(() => worker.kill())));
  }
}

/** Cores used over an interval from CPU microseconds and the interval in ns. */
export function cores(userMicros: number, systemMicros: number, ns: number): number {
  return ns > 0 ? (userMicros + systemMicros) / 1000 / (ns / 1e6) : Number.NaN;
}

export interface ScenarioOptions {
  readonly quick: boolean;
  readonly runs: number;
  readonly messages: number | undefined;
  readonly against: readonly string[];
  readonly courier: boolean;
  readonly keep: boolean;
  readonly cpuProfile: boolean;
  readonly quietWaitSeconds: number;
}

/** The options every scenario script takes; `known` checks a peer name. */
export function parseScenarioOptions(argv: readonly string[], usageText: string, known: (peer: string) => boolean): ScenarioOptions {
  const usage = (problem: string): never => {
    console.error(`${problem}\n${usageText}`);
    process.exit(2);
  };
  let quick = false;
  let runs: number | undefined;
  let messages: number | undefined;
  let against: string[] = [];
  let courier = true;
  let keep = false;
  let cpuProfile = false;
  let quietWaitSeconds: number | undefined;
  const positive = (value: string | undefined): number | undefined => (value && Number.isInteger(Number(value)) && Number(value) > 0 ? Number(value) : undefined);
  for (const arg of argv) {
    const [name, value] = arg.split('=', 2) as [string, string | undefined];
    if (name === '--help' || name === '-h') {
      console.log(usageText);
      process.exit(0);
    }
    if (name === '--quick' && value === undefined) quick = true;
    else if (name === '--runs' && positive(value)) runs = positive(value);
    else if (name === '--messages' && positive(value)) messages = positive(value);
    else if (name === '--against' && value !== undefined) against = value.split(',').filter(Boolean);
    else if (name === '--no-courier' && value === undefined) courier = false;
    else if (name === '--keep' && value === undefined) keep = true;
    else if (name === '--cpu-prof' && value === undefined) cpuProfile = true;
    else if (name === '--quiet-wait' && value && Number(value) >= 0) quietWaitSeconds = Number(value);
    else usage(`unknown argument ${arg}`);
  }
  for (const peer of against) if (!known(peer)) usage(`unknown peer '${peer}'`);
  return { quick, runs: runs ?? (quick ? 1 : 3), messages, against, courier, keep, cpuProfile, quietWaitSeconds: quietWaitSeconds ?? (quick ? 0 : 30) };
}
