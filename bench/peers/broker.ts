/**
 * A broker the benchmark runs: Courier from this checkout, or a peer. Each launcher starts its broker on
 * loopback only, on ports clear of Courier's defaults (MQTT 1883, AMQP 5672, STOMP 61613, HTTP 8080,
 * Kafka 9092), in a fresh work dir, and stops what it started by pid.
 */
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

export type Protocol = 'mqtt' | 'amqp' | 'nats' | 'http' | 'stomp';

export const LOOPBACK = '127.0.0.1';

export interface RunningBroker {
  readonly name: string;
  readonly version: string;
  readonly host: string;
  readonly ports: Readonly<Partial<Record<Protocol, number>>>;
  /** The process whose tree is measured (CPU seconds, RSS). */
  readonly pid: number;
  /** How it was configured, in a few words each, for the report. */
  readonly settings: readonly string[];
  stop(): Promise<void>;
}

export interface BrokerLauncher {
  readonly name: string;
  readonly protocols: readonly Protocol[];
  /** Why it cannot run here (not installed, adapter not built...), or undefined when it can. */
  unavailable(): Promise<string | undefined>;
  start(workDir: string): Promise<RunningBroker>;
}

/** Looks `name` up on PATH and in the sbin directories Debian installs daemons to. */
export async function findExecutable(name: string): Promise<string | undefined> {
  const directories = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const directory of directories) {
    if (!directory) continue;
    const candidate = join(directory, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export const NOT_INSTALLED = 'not installed: run `bash bench/peers/install.sh` (root)';
