import { isBrokerError } from '../core/errors.js';
import { readPackageVersion } from '../server/package-info.js';
import { processIo, type CliIo } from './cli-io.js';
import { ExitCode, type Command } from './command.js';
import { consumeCommand, publishCommand } from './message-commands.js';
import { resourceCommands } from './resource-commands.js';
import { serveCommand } from './serve-command.js';
import { applyCommand, planCommand } from './topology-commands.js';

/** Subcommands: the broker itself, then the management commands that talk to a running one over REST. */
export const commands: readonly Command[] = [serveCommand, planCommand, applyCommand, ...resourceCommands, publishCommand, consumeCommand];

export function usage(): string {
  const width = Math.max(...commands.map((command) => command.name.length)) + 4;
  return [
    'Usage: courier <command> [flags]',
    '',
    'Commands:',
    ...commands.map((command) => `  ${command.name.padEnd(width)}${command.summary}`),
    '',
    'Flags:',
    '  --version     Print the version.',
    '  -h, --help    Show this help (courier <command> --help for a command\'s flags).',
    '',
  ].join('\n');
}

function findCommand(name: string | undefined): Command | undefined {
  return commands.find((command) => command.name === name);
}

async function dispatch(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--version' || first === '-v') {
    io.stdout(`${await readPackageVersion()}\n`);
    return ExitCode.ok;
  }
  if (first === '--help' || first === '-h') {
    io.stdout(usage());
    return ExitCode.ok;
  }
  if (first === 'help') {
    const topic = findCommand(rest[0]);
    if (rest[0] !== undefined && !topic) {
      io.stderr(`courier: unknown command "${rest[0]}"\n${usage()}`);
      return ExitCode.usage;
    }
    io.stdout(topic ? topic.help() : usage());
    return ExitCode.ok;
  }
  if (first === undefined) {
    io.stderr(`courier: no command given\n${usage()}`);
    return ExitCode.usage;
  }
  const command = findCommand(first);
  if (!command) {
    io.stderr(`courier: unknown command "${first}" (run courier --help)\n`);
    return ExitCode.usage;
  }
  return command.run(rest, io);
}

/**
 * The `courier` command. Resolves with the exit code. A failure is one line on stderr, `courier: <message>`,
 * without a stack trace: exit 2 for a wrong command line or configuration, 1 for anything else.
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`courier: ${isBrokerError(error) ? message : `unexpected error: ${message}`}\n`);
    return isBrokerError(error, 'CONFIG_INVALID') ? ExitCode.usage : ExitCode.failure;
  }
}
