import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { BrokerError } from '../core/errors.js';
import type { RawSettingValue } from './setting-types.js';
import { envVarOf, fileKeyOf, flagOf, settingByKey, settings, type AnySetting, type ServerConfig } from './settings.js';
import { didYouMean } from '../core/suggest.js';

export interface ParsedFlags {
  readonly help: boolean;
  /** Setting name -> raw value as typed; the last occurrence of a repeated flag wins. */
  readonly values: ReadonlyMap<string, string>;
}

function configError(message: string, cause?: unknown): BrokerError {
  return new BrokerError('CONFIG_INVALID', message, undefined, cause === undefined ? undefined : { cause });
}

const settingNames = settings.map((definition) => definition.name);

/**
 * Reads `courier serve` flags. parseArgs runs in non-strict mode so that every mistake is worded here,
 * naming the flag and suggesting the closest one, instead of surfacing node's generic messages.
 */
export function parseServeFlags(args: readonly string[]): ParsedFlags {
  const options = Object.fromEntries(settingNames.map((name) => [name, { type: 'string' as const }]));
  const { tokens } = parseArgs({
    args: [...args],
    options: { ...options, help: { type: 'boolean', short: 'h' } },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  if (tokens.some((token) => token.kind === 'option' && (token.name === 'help' || token.name === 'h'))) {
    return { help: true, values: new Map() };
  }
  const values = new Map<string, string>();
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      throw configError(`unexpected argument "${token.value}": courier serve takes only flags (see courier serve --help)`);
    }
    if (!settingNames.includes(token.name)) {
      const hint = didYouMean(token.name, settingNames, (name) => `--${name}`);
      throw configError(`unknown flag ${token.rawName}${hint} (see courier serve --help)`);
    }
    // Without an inline value parseArgs takes the next argument even when it is the next flag.
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('--'))) {
      throw configError(`missing value for ${token.rawName}`);
    }
    values.set(token.name, token.value);
  }
  return { help: false, values };
}

export interface ConfigInputs {
  readonly flags: ReadonlyMap<string, string>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Relative paths from flags and the environment resolve against it. */
  readonly cwd: string;
  readonly readTextFile: (path: string) => Promise<string>;
}

export interface ResolvedConfig {
  readonly config: ServerConfig;
  /** Things worth a log line but not worth refusing to start (unknown COURIER_* variables). */
  readonly warnings: readonly string[];
}

interface ConfigFile {
  readonly path: string;
  readonly values: ReadonlyMap<string, unknown>;
}

type Candidate =
  | { readonly source: 'flag' | 'env' | 'default'; readonly raw: unknown }
  | { readonly source: 'file'; readonly raw: unknown; readonly path: string };

function envValue(env: ConfigInputs['env'], name: string): string | undefined {
  const value = env[name];
  // An empty variable (VAR= in a compose file) means "not set", not "set to nothing".
  return value === undefined || value === '' ? undefined : value;
}

function describeRaw(raw: unknown): string {
  return typeof raw === 'string' ? JSON.stringify(raw) : `"${JSON.stringify(raw)}"`;
}

function errorReason(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'no such file';
    if (code === 'EACCES') return 'permission denied';
    if (code === 'EISDIR') return 'it is a directory';
    return error.message.split('\n')[0] ?? error.message;
  }
  return String(error);
}

async function loadConfigFile(path: string, readTextFile: ConfigInputs['readTextFile']): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readTextFile(path);
  } catch (error) {
    throw configError(`cannot read config file ${path}: ${errorReason(error)}`, error);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw configError(`config file ${path} is not valid YAML: ${errorReason(error)}`, error);
  }
  if (document === null || document === undefined) return { path, values: new Map() };
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw configError(`config file ${path} must be a mapping of setting names to values`);
  }
  const fileKeys = settings.flatMap((definition) => fileKeyOf(definition) ?? []);
  const values = new Map<string, unknown>();
  for (const [key, value] of Object.entries(document)) {
    if (!fileKeys.includes(key)) {
      const reason = settingNames.includes(key)
        ? 'it can only be given as a flag or an environment variable'
        : `unknown setting${didYouMean(key, fileKeys, (name) => name)}`;
      throw configError(`config file ${path}: "${key}": ${reason}`);
    }
    values.set(key, value);
  }
  return { path, values };
}

function candidateFor(definition: AnySetting, inputs: ConfigInputs, file: ConfigFile | undefined): Candidate {
  const flag = inputs.flags.get(definition.name);
  if (flag !== undefined) return { source: 'flag', raw: flag };
  const env = envValue(inputs.env, envVarOf(definition));
  if (env !== undefined) return { source: 'env', raw: env };
  const fileKey = fileKeyOf(definition);
  if (file && fileKey !== undefined && file.values.has(fileKey)) {
    return { source: 'file', raw: file.values.get(fileKey), path: file.path };
  }
  return { source: 'default', raw: definition.default };
}

function isScalar(raw: unknown): raw is RawSettingValue {
  return typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean';
}

function parseCandidate(definition: AnySetting, candidate: Candidate, cwd: string): unknown {
  if (candidate.source === 'default' && candidate.raw === undefined) return undefined;
  const baseDir = candidate.source === 'file' ? dirname(candidate.path) : cwd;
  const parsed = isScalar(candidate.raw) ? definition.type.parse(candidate.raw, { baseDir }) : undefined;
  if (parsed !== undefined) return parsed;
  const where =
    candidate.source === 'flag'
      ? flagOf(definition)
      : candidate.source === 'env'
        ? envVarOf(definition)
        : candidate.source === 'file'
          ? `${definition.name} in ${candidate.path}`
          : `the default of ${flagOf(definition)}`;
  throw new BrokerError(
    candidate.source === 'default' ? 'INTERNAL' : 'CONFIG_INVALID',
    `invalid value ${describeRaw(candidate.raw)} for ${where}: expected ${definition.type.expected}`,
  );
}

/** Settles every setting from flag > environment > config file > default, and validates it. */
export async function resolveConfig(inputs: ConfigInputs): Promise<ResolvedConfig> {
  const configSetting = settingByKey('configFile');
  const configFile = parseCandidate(configSetting, candidateFor(configSetting, inputs, undefined), inputs.cwd);
  const file = typeof configFile === 'string' ? await loadConfigFile(configFile, inputs.readTextFile) : undefined;

  const entries = settings.map((definition) => [
    definition.key,
    parseCandidate(definition, candidateFor(definition, inputs, file), inputs.cwd),
  ]);
  // The table defines ServerConfig, and each parse returns the type its row declares.
  const config = Object.fromEntries(entries) as ServerConfig;

  const knownEnv = new Set(settings.map(envVarOf));
  const warnings = Object.keys(inputs.env)
    .filter((name) => name.startsWith('COURIER_') && !knownEnv.has(name))
    .sort()
    .map((name) => `ignoring unknown environment variable ${name}${didYouMean(name, [...knownEnv], (known) => known)}`);
  return { config, warnings };
}
