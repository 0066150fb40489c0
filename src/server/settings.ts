import { BrokerError } from '../core/errors.js';
import {
  byteSize,
  directory,
  duration,
  fsyncPolicy,
  host,
  listenerPort,
  oneOf,
  optionalFile,
  type SettingType,
} from './setting-types.js';

export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

export interface SettingDefinition<K extends string, T> {
  /** Flag name without dashes; the config file key and the environment variable derive from it. */
  readonly name: string;
  /** Property of ServerConfig. */
  readonly key: K;
  readonly type: SettingType<T>;
  /** The default in the form a user would write it; parsed like any other value (undefined: no default). */
  readonly default: string | undefined;
  readonly description: string;
  /** False for settings that cannot sit in the config file (the config file's own path). */
  readonly inConfigFile: boolean;
}

function setting<const K extends string, T>(
  definition: Omit<SettingDefinition<K, T>, 'inConfigFile'> & { readonly inConfigFile?: boolean },
): SettingDefinition<K, T> {
  return { ...definition, inConfigFile: definition.inConfigFile ?? true };
}

/**
 * Every setting of `courier serve`, in the order --help and docs/configuration.md show them. This table
 * drives flag parsing, environment and config-file lookup, validation, --help and the documentation test.
 * Flag names are a public contract (scripts rely on them): rename nothing, only add.
 */
export const settings = [
  setting({
    name: 'config',
    key: 'configFile',
    type: optionalFile,
    default: undefined,
    description: 'YAML file with settings; its keys are the flag names without the leading dashes.',
    inConfigFile: false,
  }),
  setting({
    name: 'topology',
    key: 'topology',
    type: optionalFile,
    default: undefined,
    description:
      'Topology file (courier.yaml: topics, exchanges, queues, bindings, services) applied at start before clients are accepted; an invalid file or a conflict stops the start (docs/topology.md).',
  }),
  setting({
    name: 'data-dir',
    key: 'dataDir',
    type: directory,
    default: './data',
    description: 'Directory holding logs, metadata and the lock file; created when missing.',
  }),
  setting({
    name: 'bind',
    key: 'bind',
    type: host,
    default: '127.0.0.1',
    description: 'Address every listener binds to (0.0.0.0 for all IPv4 interfaces).',
  }),
  setting({
    name: 'mqtt-port',
    key: 'mqttPort',
    type: listenerPort,
    default: '1883',
    description: 'MQTT 3.1.1/5 listener port; 0 disables it.',
  }),
  setting({
    name: 'amqp-port',
    key: 'amqpPort',
    type: listenerPort,
    default: '5672',
    description: 'AMQP 0-9-1 listener port; 0 disables it.',
  }),
  setting({
    name: 'stomp-port',
    key: 'stompPort',
    type: listenerPort,
    default: '61613',
    description: 'STOMP 1.2 listener port; 0 disables it.',
  }),
  setting({
    name: 'http-port',
    key: 'httpPort',
    type: listenerPort,
    default: '8080',
    description: 'HTTP listener port (messaging API, health checks, metrics and the WebSockets /ws, /stomp, /mqtt); 0 disables it.',
  }),
  setting({
    name: 'http-body-limit',
    key: 'httpBodyLimit',
    type: byteSize(1024, 256 * 1024 ** 2, '1KiB', '256MiB'),
    default: '1MiB',
    description:
      'Largest HTTP API request body (bigger ones get 413 before they are buffered) and largest /ws WebSocket message (bigger ones close the socket with 1009).',
  }),
  setting({
    name: 'kafka-port',
    key: 'kafkaPort',
    type: listenerPort,
    default: '9092',
    description: 'Kafka listener port (once the Kafka adapter exists); 0 disables it.',
  }),
  setting({
    name: 'log-level',
    key: 'logLevel',
    type: oneOf(logLevels, 'LEVEL'),
    default: 'info',
    description: 'Least severe log level written (JSON lines on stdout): trace, debug, info, warn, error, fatal or silent.',
  }),
  setting({
    name: 'fsync',
    key: 'fsync',
    type: fsyncPolicy,
    default: 'always',
    description:
      'Default for durable queues and streams of when appends reach the disk: always (fsync before each confirm, batched), never (left to the OS), or an interval such as 10ms.',
  }),
  setting({
    name: 'segment-bytes',
    key: 'segmentBytes',
    type: byteSize(64 * 1024, 1024 ** 3, '64KiB', '1GiB'),
    default: '64MiB',
    description: 'Size at which a log segment file is rolled (64KiB to 1GiB); units B, KiB, MiB, GiB.',
  }),
  setting({
    name: 'memory-high-watermark',
    key: 'memoryHighWatermark',
    type: byteSize(1024 * 1024, 1024 ** 4, '1MiB', '1TiB'),
    default: '256MiB',
    description:
      'Bytes that messages of transient queues may hold in memory; above it publishers are blocked (AMQP connection.blocked, MQTT and STOMP stop being read, HTTP 503) until it falls below 80% of it.',
  }),
  setting({
    name: 'disk-free-limit',
    key: 'diskFreeLimit',
    type: byteSize(0, 1024 ** 4, '0B', '1TiB'),
    default: '50MiB',
    description: 'Free space the data directory\'s disk must keep; below it publishers are blocked as for the memory watermark (0 turns the check off).',
  }),
  setting({
    name: 'flow-control-max-hold',
    key: 'flowControlMaxHold',
    type: duration(0, 60_000, '0ms', '60s'),
    default: '250ms',
    description:
      'Publisher flow control: a publisher feeding a queue whose backlog passes 400 messages (or 2MiB) while its consumers drain it is not read until the queue is back to 200 (1MiB), for at most this long; a queue that does not drain in that time buffers on disk instead until it has drained. 0ms turns flow control off.',
  }),
] as const;

export type AnySetting = (typeof settings)[number];

type SettingValue<S> = S extends SettingDefinition<string, infer T> ? T : never;

/**
 * The resolved configuration. Listener ports are null when disabled. Given to startServer directly,
 * a port of 0 asks the OS for a free port (the command line cannot express this: there 0 disables).
 */
export type ServerConfig = { readonly [S in AnySetting as S['key']]: SettingValue<S> };

export type ListenerPortKey = 'mqttPort' | 'amqpPort' | 'stompPort' | 'httpPort' | 'kafkaPort';

export function flagOf(definition: AnySetting): string {
  return `--${definition.name}`;
}

export function envVarOf(definition: AnySetting): string {
  return `COURIER_${definition.name.toUpperCase().replace(/-/g, '_')}`;
}

export function fileKeyOf(definition: AnySetting): string | undefined {
  return definition.inConfigFile ? definition.name : undefined;
}

export function settingByKey(key: keyof ServerConfig): AnySetting {
  const found = settings.find((definition) => definition.key === key);
  // The table and ServerConfig derive from each other, so every key has its row.
  if (!found) throw new BrokerError('INTERNAL', `no setting for ${key}`);
  return found;
}
