import { ManagementClient } from '../management/topology/index.js';
import type { CliIo } from './cli-io.js';
import { stringFlag, type FlagSpec, type ParsedArgs } from './args.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** How every management command finds the broker: flag, then environment, then the default. */
export const connectionFlags: readonly FlagSpec[] = [
  { name: 'url', type: 'string', placeholder: 'URL', description: `Broker HTTP address (env COURIER_URL; default ${DEFAULT_URL}).` },
  { name: 'user', type: 'string', placeholder: 'NAME', description: 'User name (env COURIER_USER; default guest).' },
  { name: 'password', type: 'string', placeholder: 'SECRET', description: 'Password (env COURIER_PASSWORD; default guest).' },
];

export const jsonFlag: FlagSpec = { name: 'json', type: 'boolean', description: 'Print JSON for scripts instead of a table.' };

function fromEnv(io: CliIo, name: string): string | undefined {
  const value = io.env[name];
  return value === undefined || value === '' ? undefined : value;
}

export function clientFor(parsed: ParsedArgs, io: CliIo): ManagementClient {
  return new ManagementClient({
    url: stringFlag(parsed, 'url') ?? fromEnv(io, 'COURIER_URL') ?? DEFAULT_URL,
    user: stringFlag(parsed, 'user') ?? fromEnv(io, 'COURIER_USER') ?? 'guest',
    password: stringFlag(parsed, 'password') ?? fromEnv(io, 'COURIER_PASSWORD') ?? 'guest',
  });
}
