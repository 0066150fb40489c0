/**
 * Where a profiled process spent its CPU: self time per function and per source file, summed over the
 * V8 CPU profiles (`node --cpu-prof`) in a directory. The .cpuprofile files themselves open as flame
 * graphs in Chrome DevTools (Performance > Load profile) or speedscope.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatNumber, formatTable } from './table.js';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

export interface SelfTime {
  readonly name: string;
  readonly micros: number;
}

export interface ProfileSummary {
  readonly profiles: number;
  /** Sampled time that was not idle, in microseconds. */
  readonly busyMicros: number;
  readonly functions: readonly SelfTime[];
  readonly files: readonly SelfTime[];
}

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function fileOf(url: string): string {
  if (!url) return '(native / V8)';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  return path.startsWith(ROOT) ? relative(ROOT, path) : path;
}

function add(map: Map<string, number>, key: string, micros: number): void {
  map.set(key, (map.get(key) ?? 0) + micros);
}

/** Self time of each function and file over `profiles`, largest first. */
export function summariseProfiles(profiles: readonly CpuProfile[]): ProfileSummary {
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  let busy = 0;
  for (const profile of profiles) {
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const samples = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    for (let index = 0; index < samples.length; index++) {
      const node = nodes.get(samples[index]!);
      const micros = Math.max(0, deltas[index] ?? 0);
      if (!node || node.callFrame.functionName === '(idle)') continue;
      busy += micros;
      const frame = node.callFrame;
      const file = fileOf(frame.url);
      add(functions, `${frame.functionName || '(anonymous)'} ${frame.url ? `${file}:${frame.lineNumber + 1}` : ''}`.trim(), micros);
      add(files, file, micros);
    }
  }
  const sorted = (map: Map<string, number>): SelfTime[] => [...map].map(([name, micros]) => ({ name, micros })).sort((a, b) => b.micros - a.micros);
  return { profiles: profiles.length, busyMicros: busy, functions: sorted(functions), files: sorted(files) };
}

/** Reads every .cpuprofile in `directory` and prints the `top` functions and files by self time. */
export async function summariseCpuProfiles(directory: string, top: number): Promise<string> {
  const names = (await readdir(directory).catch(() => [] as string[])).filter((name) => name.endsWith('.cpuprofile'));
  if (names.length === 0) return `no CPU profile in ${directory}`;
  const profiles = await Promise.all(names.map(async (name) => JSON.parse(await readFile(join(directory, name), 'utf8')) as CpuProfile));
  const summary = summariseProfiles(profiles);
  const share = (micros: number): string => `${formatNumber((100 * micros) / summary.busyMicros, 1)}%`;
  const table = (label: string, rows: readonly SelfTime[]): string =>
    formatTable([label, 'self ms', 'share'], rows.slice(0, top).map((row) => [row.name, formatNumber(row.micros / 1000, 0), share(row.micros)]), 1);
  return [
    `CPU profile of Courier: ${names.length} profile(s) in ${directory}, ${formatNumber(summary.busyMicros / 1e6, 2)} s busy (flame graph: open a .cpuprofile in Chrome DevTools or speedscope)`,
    table('function (self time)', summary.functions),
    '',
    table('file (self time)', summary.files),
  ].join('\n');
}
