import { parseArgs } from 'node:util';
import { BrokerError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';

export interface FlagSpec {
  readonly name: string;
  readonly short?: string;
  /** Boolean flags take no value; string flags take one (repeatable when `multiple`). */
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  /** Shown in help: `--name PLACEHOLDER`. */
  readonly placeholder?: string;
  readonly description: string;
}

export interface ParsedArgs {
  readonly help: boolean;
  readonly positionals: readonly string[];
  readonly strings: ReadonlyMap<string, readonly string[]>;
  readonly booleans: ReadonlySet<string>;
}

export function usageError(message: string): BrokerError {
  return new BrokerError('CONFIG_INVALID', message);
}

/**
 * Reads a command's flags. Like `courier serve`, mistakes are worded here (the flag, the closest known one,
 * the command's help) rather than surfacing node's generic parseArgs messages. Exit 2 through CONFIG_INVALID.
 */
export function parseCommandArgs(command: string, args: readonly string[], flags: readonly FlagSpec[]): ParsedArgs {
  const options = Object.fromEntries(
    flags.map((flag) => [flag.name, { type: flag.type, ...(flag.short === undefined ? {} : { short: flag.short }) }]),
  );
  const { tokens } = parseArgs({
    args: [...args],
    options: { ...options, help: { type: 'boolean', short: 'h' } },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const strings = new Map<string, string[]>();
  const booleans = new Set<string>();
  const positionals: string[] = [];
  let help = false;
  const names = flags.map((flag) => flag.name);
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.name === 'help' || token.name === 'h') {
      help = true;
      continue;
    }
    const flag = flags.find((candidate) => candidate.name === token.name || candidate.short === token.name);
    if (!flag) {
      throw usageError(`unknown flag ${token.rawName}${didYouMean(token.name, names, (name) => `--${name}`)} (see courier ${command} --help)`);
    }
    if (flag.type === 'boolean') {
      if (token.inlineValue) throw usageError(`${token.rawName} takes no value`);
      booleans.add(flag.name);
      continue;
    }
    // Without an inline value parseArgs takes the next argument even when it is the next flag.
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('--'))) {
      throw usageError(`missing value for ${token.rawName}`);
    }
    const list = strings.get(flag.name) ?? [];
    if (!flag.multiple) list.length = 0;
    list.push(token.value);
    strings.set(flag.name, list);
  }
  return { help, positionals, strings, booleans };
}

export function stringFlag(parsed: ParsedArgs, name: string): string | undefined {
  return parsed.strings.get(name)?.at(-1);
}

export function integerFlag(parsed: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const raw = stringFlag(parsed, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw usageError(`invalid value "${raw}" for --${name}: expected a whole number ${min}-${max}`);
  }
  return value;
}

/** `key=value` pairs of a repeatable flag; a value that reads as a number or true/false becomes one when `typed`. */
export function pairsFlag(parsed: ParsedArgs, name: string, typed: boolean): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const raw of parsed.strings.get(name) ?? []) {
    const at = raw.indexOf('=');
    if (at <= 0) throw usageError(`invalid value "${raw}" for --${name}: expected key=value`);
    const key = raw.slice(0, at);
    const value = raw.slice(at + 1);
    out[key] = typed ? typedValue(value) : value;
  }
  return out;
}

function typedValue(text: string): string | number | boolean {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^-?\d+$/.test(text) && Number.isSafeInteger(Number(text))) return Number(text);
  return text;
}

export function expectPositionals(command: string, parsed: ParsedArgs, names: readonly string[], optional: readonly string[] = []): string[] {
  const { positionals } = parsed;
  if (positionals.length < names.length) {
    throw usageError(`${command}: missing ${names.slice(positionals.length).map((name) => `<${name}>`).join(' ')} (see courier ${command} --help)`);
  }
  if (positionals.length > names.length + optional.length) {
    throw usageError(`${command}: unexpected argument "${positionals[names.length + optional.length]}" (see courier ${command} --help)`);
  }
  return [...positionals];
}

/** Help for one command: usage lines, a description, and its flags aligned. */
export function commandHelp(usage: readonly string[], description: string, flags: readonly FlagSpec[]): string {
  const rows = [...flags, { name: 'help', short: 'h', type: 'boolean' as const, description: 'Show this help.' }].map((flag) => {
    const names = `${flag.short ? `-${flag.short}, ` : ''}--${flag.name}${flag.type === 'string' ? ` ${flag.placeholder ?? 'VALUE'}` : ''}`;
    return [names, flag.description] as const;
  });
  const width = Math.max(...rows.map(([names]) => names.length)) + 2;
  return [
    ...usage.map((line, index) => `${index === 0 ? 'Usage: ' : '       '}${line}`),
    '',
    description,
    '',
    'Flags:',
    ...rows.map(([names, text]) => `  ${names.padEnd(width)}${text}`),
    '',
  ].join('\n');
}
