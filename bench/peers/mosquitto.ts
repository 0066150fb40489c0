/**
 * Mosquitto from Debian's package, with a generated config: one listener on 127.0.0.1:11883, anonymous
 * access, no persistence (Mosquitto only ever saves its in-memory state to disk periodically, it has no
 * per-message durability to turn on), and two limits raised so that it measures a broker rather than
 * its defaults:
 * - max_queued_messages 1,000,000 (default 1,000): beyond it Mosquitto silently drops QoS 1 messages for
 *   a subscriber that is behind, which a fixed-count throughput run would count as loss;
 * - max_inflight_messages 100 (default 20): the same window Courier's MQTT adapter keeps per subscriber.
 * set_tcp_nodelay true: with Nagle's algorithm on, small QoS 0/1 messages wait up to 40 ms in the kernel.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LOOPBACK, NOT_INSTALLED, findExecutable, type BrokerLauncher, type RunningBroker } from './broker.js';
import { ManagedProcess, waitForPort, waitForPortFree } from './managed-process.js';

export const MOSQUITTO_MQTT_PORT = 11883;

const SETTINGS = [
  `listener ${MOSQUITTO_MQTT_PORT} ${LOOPBACK}`,
  'allow_anonymous true',
  'persistence false',
  'max_queued_messages 1000000',
  'max_inflight_messages 100',
  'set_tcp_nodelay true',
];

async function version(binary: string): Promise<string> {
  // `mosquitto -h` prints its version first and exits with status 3.
  const output = await promisify(execFile)(binary, ['-h']).then(
    (result) => result.stdout,
    (error: { stdout?: string }) => error.stdout ?? '',
  );
  return /version (\S+)/.exec(output)?.[1] ?? 'unknown';
}

export const mosquittoLauncher: BrokerLauncher = {
  name: 'mosquitto',
  protocols: ['mqtt'],
  unavailable: async () => ((await findExecutable('mosquitto')) ? undefined : NOT_INSTALLED),
  async start(workDir: string): Promise<RunningBroker> {
    const binary = await findExecutable('mosquitto');
    if (!binary) throw new Error(`mosquitto ${NOT_INSTALLED}`);
    await waitForPortFree(LOOPBACK, MOSQUITTO_MQTT_PORT, 5_000);
    const config = join(workDir, 'mosquitto.conf');
    // Running as root, mosquitto switches to its own user: everything it reads must be world-readable.
    await writeFile(config, `${SETTINGS.join('\n')}\nlog_dest stderr\nlog_type error\nlog_type warning\n`, { mode: 0o644 });
    const child = await ManagedProcess.start({
      label: 'mosquitto',
      command: binary,
      args: ['-c', config],
      logFile: join(workDir, 'mosquitto.log'),
    });
    try {
      await waitForPort(LOOPBACK, MOSQUITTO_MQTT_PORT, 15_000, child);
    } catch (error) {
      await child.stop();
      throw error;
    }
    return {
      name: 'mosquitto',
      version: await version(binary),
      host: LOOPBACK,
      ports: { mqtt: MOSQUITTO_MQTT_PORT },
      pid: child.pid,
      settings: SETTINGS.slice(1),
      stop: async () => {
        await child.stop();
      },
    };
  },
};
