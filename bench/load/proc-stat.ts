/**
 * CPU time and resident memory of a broker, read from /proc, for the broker's process and every process
 * below it (RabbitMQ is a shell script over an Erlang VM and its helpers). Linux only.
 */
import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

export interface ProcessSample {
  /** user + system CPU seconds so far, summed over the processes. */
  readonly cpuSeconds: number;
  /** Resident set, summed over the processes. */
  readonly rssBytes: number;
}

export interface ProcStatFields {
  readonly ppid: number;
  readonly utimeTicks: number;
  readonly stimeTicks: number;
  readonly rssPages: number;
}

/** Parses /proc/<pid>/stat; the command name may hold spaces and parentheses, so fields count from the last ')'. */
export function parseProcStat(text: string): ProcStatFields | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).trim().split(' ');
  // fields[0] is field 3 (state) of proc(5): ppid is field 4, utime 14, stime 15, rss 24.
  const at = (field: number): number => Number(fields[field - 3]);
  const parsed = { ppid: at(4), utimeTicks: at(14), stimeTicks: at(15), rssPages: at(24) };
  return Object.values(parsed).every((value) => Number.isFinite(value)) ? parsed : undefined;
}

function systemConstant(name: string, fallback: number): number {
  try {
    const value = Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim());
    return Number.isFinite(value) && value > 0 ? value : fallback;
  } catch {
    return fallback;
  }
}

const CLOCK_TICKS = systemConstant('CLK_TCK', 100);
const PAGE_BYTES = systemConstant('PAGESIZE', 4096);

export class ProcessTreeProbe {
  private readonly ticksPerSecond = CLOCK_TICKS;
  private readonly pageBytes = PAGE_BYTES;
  private pids: number[];

  constructor(private readonly rootPid: number) {
    this.pids = [rootPid];
  }

  /** Finds the root's descendants again (call once the broker is up: its helpers exist by then). */
  async refresh(): Promise<readonly number[]> {
    const parents = new Map<number, number>();
    for (const name of await readdir('/proc')) {
      const pid = Number(name);
      if (!Number.isInteger(pid)) continue;
      const fields = parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''));
      if (fields) parents.set(pid, fields.ppid);
    }
    const tree = new Set<number>([this.rootPid]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const [pid, ppid] of parents) {
        if (!tree.has(pid) && tree.has(ppid)) {
          tree.add(pid);
          grew = true;
        }
      }
    }
    this.pids = [...tree];
    return this.pids;
  }

  async sample(): Promise<ProcessSample> {
    let ticks = 0;
    let pages = 0;
    for (const pid of this.pids) {
      const fields = parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''));
      if (!fields) continue;
      ticks += fields.utimeTicks + fields.stimeTicks;
      pages += fields.rssPages;
    }
    return { cpuSeconds: ticks / this.ticksPerSecond, rssBytes: pages * this.pageBytes };
  }
}

/** Samples RSS on a timer to keep the peak between the start and stop of a run. */
export class PeakRssSampler {
  private peak = 0;
  private timer: NodeJS.Timeout | undefined;
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly probe: ProcessTreeProbe,
    private readonly intervalMs = 100,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.pending = this.probe.sample().then((sample) => {
        if (sample.rssBytes > this.peak) this.peak = sample.rssBytes;
      });
    }, this.intervalMs);
  }

  async stop(): Promise<number> {
    if (this.timer) clearInterval(this.timer);
    await this.pending;
    const last = await this.probe.sample();
    return Math.max(this.peak, last.rssBytes);
  }
}

export interface MachineCpuSample {
  /** CPU seconds spent busy (user, nice, system, irq, softirq, steal) over all cores since boot. */
  readonly busySeconds: number;
  /** Of which steal: time the hypervisor gave this VM's vCPUs to someone else. */
  readonly stealSeconds: number;
}

/** Parses the aggregate `cpu` line of /proc/stat (ticks per second given). */
export function parseMachineCpu(text: string, ticksPerSecond: number): MachineCpuSample | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith('cpu '));
  if (!line) return undefined;
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  return { busySeconds: (user + nice + system + irq + softirq + steal) / ticksPerSecond, stealSeconds: steal / ticksPerSecond };
}

/** The whole machine's CPU use: whatever else ran during a measurement shows here and not in the broker's. */
export async function sampleMachineCpu(): Promise<MachineCpuSample> {
  const sample = parseMachineCpu(await readFile('/proc/stat', 'utf8'), CLOCK_TICKS);
  return sample ?? { busySeconds: Number.NaN, stealSeconds: Number.NaN };
}

export interface QuietWait {
  /** Cores busy over the last one-second window before the run started. */
  readonly busyCores: number;
  readonly waitedMs: number;
  /** False when the machine was still busier than asked at the deadline (the run went ahead anyway). */
  readonly quiet: boolean;
}

/**
 * Waits, up to `timeoutMs`, for a one-second window in which the whole machine used less than
 * `maxBusyCores`: on a shared machine, other work (builds, test suites) otherwise lands in one broker's
 * figures and not another's.
 */
export async function waitForQuietMachine(maxBusyCores: number, timeoutMs: number): Promise<QuietWait> {
  const started = performance.now();
  for (;;) {
    const before = await sampleMachineCpu();
    const windowStart = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const after = await sampleMachineCpu();
    const busyCores = (after.busySeconds - before.busySeconds) / ((performance.now() - windowStart) / 1000);
    const waitedMs = performance.now() - started;
    if (busyCores < maxBusyCores) return { busyCores, waitedMs, quiet: true };
    if (waitedMs >= timeoutMs) return { busyCores, waitedMs, quiet: false };
  }
}
