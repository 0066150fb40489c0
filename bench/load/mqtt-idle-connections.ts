/**
 * Load-generator worker for connection scale (a worker process, see worker-process.ts): opens
 * `connections` MQTT connections (clean session, keep-alive off, so idle ones send nothing), at most
 * `concurrency` handshakes at a time, and reports `ready` once every one has its CONNACK. The harness
 * then samples the broker, and `go` ends the hold: the report goes out and the connections close.
 */
import { fileURLToPath } from 'node:url';
import { BenchConnection } from './mqtt-connection.js';
import { nowNs, serveWorker, type Worker } from './worker-process.js';

export const IDLE_CONNECTIONS_SCRIPT = fileURLToPath(import.meta.url);

export interface IdleConnectionsConfig {
  readonly host: string;
  readonly port: number;
  readonly clientIdPrefix: string;
  readonly connections: number;
  readonly concurrency: number;
}

export interface IdleConnectionsReport {
  readonly connected: number;
  /** CLOCK_MONOTONIC ns of the first TCP connect and of the last CONNACK. */
  readonly startNs: number;
  readonly endNs: number;
  readonly cpuUserMicros: number;
  readonly cpuSystemMicros: number;
  /** Open-files limit the process ran with (after the harness's `ulimit -n`). */
  readonly fdLimit: string;
}

async function fdLimit(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const limits = await readFile('/proc/self/limits', 'utf8').catch(() => '');
  const line = limits.split('\n').find((candidate) => candidate.startsWith('Max open files'));
  return line ? line.replace(/\s+/g, ' ').trim().split(' ').slice(3, 5).join('/') : 'unknown';
}

export async function createIdleConnections(config: IdleConnectionsConfig): Promise<Worker<IdleConnectionsReport>> {
  const connections: BenchConnection[] = [];
  const cpuAtStart = process.cpuUsage();
  const startNs = nowNs();
  let next = 0;
  let failure: Error | undefined;
  const lane = async (): Promise<void> => {
    while (next < config.connections && !failure) {
      const index = next++;
      try {
        connections.push(await BenchConnection.open(config.host, config.port, { clientId: `${config.clientIdPrefix}-${index}`, cleanSession: true, keepAliveSeconds: 0 }));
      } catch (error) {
        failure ??= error instanceof Error ? error : new Error(String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(config.concurrency, config.connections) }, lane));
  if (failure) {
    await Promise.all(connections.map((connection) => connection.close()));
    throw new Error(`${connections.length} of ${config.connections} connected, then: ${failure.message}`);
  }
  const endNs = nowNs();
  const cpu = process.cpuUsage(cpuAtStart);
  const limit = await fdLimit();

  let lostConnection: Error | undefined;
  for (const connection of connections) connection.onFailure((error) => (lostConnection ??= error));
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const result = held.then(() => {
    // A connection the broker dropped while the harness measured invalidates the run.
    if (lostConnection) throw lostConnection;
    return { connected: connections.length, startNs, endNs, cpuUserMicros: cpu.user, cpuSystemMicros: cpu.system, fdLimit: limit };
  });
  return {
    go: () => release(),
    publishersDone: () => undefined,
    result,
    close: async () => {
      // In batches, so closing 2,500 sockets does not queue 2,500 timers at once.
      for (let index = 0; index < connections.length; index += 500) {
        await Promise.all(connections.slice(index, index + 500).map((connection) => connection.close()));
      }
    },
  };
}

if (process.argv[1] === IDLE_CONNECTIONS_SCRIPT) serveWorker(createIdleConnections);
