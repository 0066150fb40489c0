import type { ManagementClient } from '../management/topology/index.js';
import { commandHelp, parseCommandArgs, usageError, type FlagSpec, type ParsedArgs } from './args.js';
import type { CliIo } from './cli-io.js';
import { ExitCode, type Command } from './command.js';
import { clientFor, connectionFlags, jsonFlag } from './connection-flags.js';
import { didYouMean } from '../core/suggest.js';

export interface SubcommandContext {
  readonly parsed: ParsedArgs;
  readonly io: CliIo;
  readonly client: ManagementClient;
  readonly json: boolean;
  /** Prints `value` as indented JSON (for --json). */
  readonly printJson: (value: unknown) => void;
}

export interface Subcommand {
  readonly name: string;
  readonly aliases?: readonly string[];
  /** After `courier <command> <name>`, e.g. `<name> [--durable]`. */
  readonly usage: string;
  readonly summary: string;
  readonly description: string;
  readonly flags: readonly FlagSpec[];
  run(context: SubcommandContext): Promise<number>;
}

/** `courier <resource> <action> ...`: one Command per resource, its actions as subcommands with their own help. */
export function resourceCommand(name: string, summary: string, subcommands: readonly Subcommand[]): Command {
  const find = (action: string | undefined): Subcommand | undefined =>
    subcommands.find((sub) => sub.name === action || (sub.aliases ?? []).includes(action ?? ''));
  const flagsOf = (sub: Subcommand): FlagSpec[] => [...sub.flags, ...connectionFlags, jsonFlag];
  const help = (): string => {
    const width = Math.max(...subcommands.map((sub) => sub.name.length)) + 4;
    return [
      `Usage: courier ${name} <action> [flags]`,
      '',
      summary,
      '',
      'Actions:',
      ...subcommands.map((sub) => `  ${sub.name.padEnd(width)}${sub.summary}`),
      '',
      `courier ${name} <action> --help shows an action's flags. Every action talks to the REST API of a`,
      'running broker: --url (or COURIER_URL, default http://127.0.0.1:8080), --user and --password',
      '(or COURIER_USER / COURIER_PASSWORD, default guest/guest); --json prints JSON instead of a table.',
      '',
    ].join('\n');
  };
  return {
    name,
    summary,
    help,
    async run(args: readonly string[], io: CliIo): Promise<number> {
      const [action, ...rest] = args;
      if (action === undefined || action === '--help' || action === '-h' || action === 'help') {
        if (action === undefined) {
          io.stderr(`courier ${name}: no action given\n${help()}`);
          return ExitCode.usage;
        }
        io.stdout(help());
        return ExitCode.ok;
      }
      const sub = find(action);
      if (!sub) {
        const names = subcommands.map((candidate) => candidate.name);
        throw usageError(`${name}: unknown action "${action}"${didYouMean(action, names, (n) => n)}; use one of ${names.join(', ')}`);
      }
      const command = `${name} ${sub.name}`;
      const parsed = parseCommandArgs(command, rest, flagsOf(sub));
      if (parsed.help) {
        io.stdout(commandHelp([`courier ${command} ${sub.usage}`.trimEnd()], sub.description, flagsOf(sub)));
        return ExitCode.ok;
      }
      return sub.run({
        parsed,
        io,
        client: clientFor(parsed, io),
        json: parsed.booleans.has('json'),
        printJson: (value) => io.stdout(`${JSON.stringify(value, null, 2)}\n`),
      });
    },
  };
}
