import { isAbsolute, relative, resolve } from 'node:path';
import {
  applyTopology,
  formatPlan,
  loadTopologyFile,
  planTopology,
  RestTopologyTarget,
  type Plan,
} from '../management/topology/index.js';
import { commandHelp, parseCommandArgs, stringFlag, usageError, type FlagSpec } from './args.js';
import type { CliIo } from './cli-io.js';
import { ExitCode, type Command } from './command.js';
import { clientFor, connectionFlags, jsonFlag } from './connection-flags.js';

const fileFlag: FlagSpec = { name: 'file', short: 'f', type: 'string', placeholder: 'FILE', description: 'The topology file (default ./courier.yaml).' };
const flags: readonly FlagSpec[] = [fileFlag, ...connectionFlags, jsonFlag];

/** The path as given, relative to the working directory when it is inside it (shorter error lines). */
function displayPath(path: string, cwd: string): string {
  const relativePath = relative(cwd, path);
  return relativePath !== '' && !relativePath.startsWith('..') && !isAbsolute(relativePath) ? relativePath : path;
}

function prepare(name: string, args: readonly string[], io: CliIo) {
  const parsed = parseCommandArgs(name, args, flags);
  if (parsed.positionals.length > 0) {
    throw usageError(`${name}: unexpected argument "${parsed.positionals[0]}"; give the file with -f (see courier ${name} --help)`);
  }
  const path = resolve(io.cwd, stringFlag(parsed, 'file') ?? 'courier.yaml');
  return { parsed, path, shown: displayPath(path, io.cwd) };
}

function planJson(plan: Plan): unknown {
  return { actions: plan.actions, conflicts: plan.conflicts, drift: plan.drift, unchanged: plan.unchanged };
}

export const planCommand: Command = {
  name: 'plan',
  summary: 'Show what applying a topology file would change on the running broker.',
  help: () =>
    commandHelp(
      ['courier plan [-f courier.yaml] [--url URL] [--json]'],
      [
        'Compares the file with the broker and prints the changes apply would make: + create, ~ update in',
        'place, ! conflict (the broker cannot change it without a delete; apply refuses), ? on the broker',
        'but not in the file (left alone). Exit 0 with or without changes to make, 1 on conflicts or',
        'errors, 2 when the file is invalid (each mistake listed as file:line:column). See docs/topology.md.',
      ].join('\n'),
      flags,
    ),
  async run(args, io) {
    const { parsed, path, shown } = prepare('plan', args, io);
    if (parsed.help) {
      io.stdout(this.help());
      return ExitCode.ok;
    }
    const topology = await loadTopologyFile(path, shown);
    const plan = await planTopology(topology.desired, new RestTopologyTarget(clientFor(parsed, io)));
    io.stdout(parsed.booleans.has('json') ? `${JSON.stringify(planJson(plan), null, 2)}\n` : formatPlan(plan));
    return plan.conflicts.length > 0 ? ExitCode.failure : ExitCode.ok;
  },
};

export const applyCommand: Command = {
  name: 'apply',
  summary: 'Create what a topology file declares on the running broker (idempotent).',
  help: () =>
    commandHelp(
      ['courier apply [-f courier.yaml] [--url URL] [--json]'],
      [
        'Plans as courier plan does, then creates the missing exchanges and queues, the topics, and the',
        'bindings, in that order, and updates topic display names, descriptions and retention. Applying',
        'again changes nothing. Nothing is deleted: things on the broker that the file does not declare',
        'are listed and left alone. With any conflict nothing is changed and the exit code is 1.',
      ].join('\n'),
      flags,
    ),
  async run(args, io) {
    const { parsed, path, shown } = prepare('apply', args, io);
    if (parsed.help) {
      io.stdout(this.help());
      return ExitCode.ok;
    }
    const topology = await loadTopologyFile(path, shown);
    const target = new RestTopologyTarget(clientFor(parsed, io));
    const json = parsed.booleans.has('json');
    const plan = await planTopology(topology.desired, target);
    if (plan.conflicts.length > 0) {
      if (json) io.stdout(`${JSON.stringify({ applied: [], ...(planJson(plan) as object) }, null, 2)}\n`);
      else io.stdout(formatPlan(plan));
      io.stderr(`courier: ${plan.conflicts.length} conflict${plan.conflicts.length === 1 ? '' : 's'} with the broker; nothing was changed\n`);
      return ExitCode.failure;
    }
    const result = await applyTopology(topology.desired, target);
    if (json) {
      io.stdout(`${JSON.stringify({ applied: result.applied, ...(planJson(result.plan) as object) }, null, 2)}\n`);
      return ExitCode.ok;
    }
    io.stdout(formatPlan(result.plan));
    io.stdout(
      result.applied.length === 0
        ? `Nothing to apply: ${shown} matches the broker.\n`
        : `Applied ${result.applied.length} change${result.applied.length === 1 ? '' : 's'} from ${shown}.\n`,
    );
    return ExitCode.ok;
  },
};
