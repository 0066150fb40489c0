/**
 * Courier from this checkout (`node bin/courier.js serve`, the compiled build), with a fresh data dir in
 * the work dir, bound to loopback on non-default ports: MQTT 21883, HTTP 28080, AMQP 25672 for AMQP
 * scenarios, STOMP 21613 for STOMP scenarios; Kafka off. Settings are otherwise the defaults a user gets (fsync always,
 * log level info, to a file).
 */
import { execFile } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { LOOPBACK, type BrokerLauncher, type Protocol, type RunningBroker } from './broker.js';
import { ManagedProcess, waitForPort, waitForPortFree } from './managed-process.js';

export const COURIER_MQTT_PORT = 21883;
export const COURIER_HTTP_PORT = 28080;
/** Only for AMQP scenarios; otherwise the AMQP listener stays off. */
export const COURIER_AMQP_PORT = 25672;
/** Only for STOMP scenarios; otherwise the STOMP listener stays off. */
export const COURIER_STOMP_PORT = 21613;

// Compiled to dist/bench/peers/courier.js: the checkout is three levels up.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const LAUNCHER = join(ROOT, 'bin', 'courier.js');
const ADAPTERS = join(ROOT, 'dist', 'src', 'server', 'protocol-adapters.js');
const HTTP_API = join(ROOT, 'dist', 'src', 'protocols', 'http', 'api.js');

/** The protocol adapters `courier serve` runs in this build, read from the compiled registry. */
async function builtAdapters(): Promise<Set<Protocol>> {
  const source = await readFile(ADAPTERS, 'utf8').catch(() => '');
  const found = new Set<Protocol>();
  if (/protocols\/mqtt\//.test(source)) found.add('mqtt');
  if (/protocols\/amqp\//.test(source)) found.add('amqp');
  if (/protocols\/stomp\//.test(source)) found.add('stomp');
  // The HTTP messaging API is part of the server, not a listed adapter.
  if (await access(HTTP_API).then(() => true, () => false)) found.add('http');
  return found;
}

async function describeVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version?: string };
  const commit = await promisify(execFile)('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).then(
    (result) => result.stdout.trim(),
    () => '',
  );
  return `${pkg.version ?? '?'}${commit ? ` (${commit})` : ''}`;
}

export interface CourierLaunchOptions {
  /** Write a V8 CPU profile of each Courier run into this directory (node --cpu-prof), for a flame graph. */
  readonly cpuProfileDirectory?: string;
}

/** Courier's launcher for scenarios over `protocol`: unavailable while that adapter is not built. */
export function courierLauncher(protocol: Protocol, options: CourierLaunchOptions = {}): BrokerLauncher {
  const nodeFlags = options.cpuProfileDirectory ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDirectory}`] : [];
  return {
    name: 'courier',
    protocols: [protocol],
    unavailable: async () => ((await builtAdapters()).has(protocol) ? undefined : `${protocol.toUpperCase()} adapter not built`),
    async start(workDir: string): Promise<RunningBroker> {
      const amqpPort = protocol === 'amqp' ? COURIER_AMQP_PORT : 0;
      const stompPort = protocol === 'stomp' ? COURIER_STOMP_PORT : 0;
      for (const port of [COURIER_MQTT_PORT, COURIER_HTTP_PORT, ...(amqpPort ? [amqpPort] : []), ...(stompPort ? [stompPort] : [])]) await waitForPortFree(LOOPBACK, port, 5_000);
      const child = await ManagedProcess.start({
        label: 'courier',
        command: process.execPath,
        args: [
          ...nodeFlags,
          LAUNCHER,
          'serve',
          '--data-dir',
          join(workDir, 'data'),
          '--bind',
          LOOPBACK,
          '--mqtt-port',
          String(COURIER_MQTT_PORT),
          '--amqp-port',
          String(amqpPort),
          '--stomp-port',
          String(stompPort),
          '--kafka-port',
          '0',
          '--http-port',
          String(COURIER_HTTP_PORT),
        ],
        cwd: workDir,
        logFile: join(workDir, 'courier.log'),
      });
      try {
        await waitForPort(LOOPBACK, COURIER_MQTT_PORT, 30_000, child);
        if (amqpPort) await waitForPort(LOOPBACK, amqpPort, 30_000, child);
        if (stompPort) await waitForPort(LOOPBACK, stompPort, 30_000, child);
        if (protocol === 'http') await waitForPort(LOOPBACK, COURIER_HTTP_PORT, 30_000, child);
      } catch (error) {
        await child.stop();
        throw error;
      }
      return {
        name: 'courier',
        version: await describeVersion(),
        host: LOOPBACK,
        ports: { mqtt: COURIER_MQTT_PORT, http: COURIER_HTTP_PORT, ...(amqpPort ? { amqp: amqpPort } : {}), ...(stompPort ? { stomp: stompPort } : {}) },
        pid: child.pid,
        settings: [
          `node ${process.version}, default settings (fsync always, log level info to a file)`,
          ...(options.cpuProfileDirectory ? [`CPU profiled (--cpu-prof) into ${options.cpuProfileDirectory}`] : []),
        ],
        stop: async () => {
          await child.stop();
        },
      };
    },
  };
}
