/**
 * NATS from Debian's package: core NATS on 127.0.0.1:14222 and its MQTT gateway on 127.0.0.1:11886,
 * which needs JetStream (store in the work dir): NATS keeps MQTT sessions and QoS 1 messages in
 * JetStream streams, so its MQTT QoS 1 figures are those of a persisting broker (acknowledged before
 * any fsync, as JetStream does by default).
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LOOPBACK, NOT_INSTALLED, findExecutable, type BrokerLauncher, type RunningBroker } from './broker.js';
import { ManagedProcess, waitForPort, waitForPortFree } from './managed-process.js';

export const NATS_PORT = 14222;
export const NATS_MQTT_PORT = 11886;

export const natsLauncher: BrokerLauncher = {
  name: 'nats',
  protocols: ['nats', 'mqtt'],
  unavailable: async () => ((await findExecutable('nats-server')) ? undefined : NOT_INSTALLED),
  async start(workDir: string): Promise<RunningBroker> {
    const binary = await findExecutable('nats-server');
    if (!binary) throw new Error(`nats ${NOT_INSTALLED}`);
    for (const port of [NATS_PORT, NATS_MQTT_PORT]) await waitForPortFree(LOOPBACK, port, 5_000);
    const config = join(workDir, 'nats.conf');
    await writeFile(
      config,
      [
        `listen: "${LOOPBACK}:${NATS_PORT}"`,
        'server_name: courier_bench',
        `jetstream { store_dir: ${JSON.stringify(join(workDir, 'jetstream'))} }`,
        `mqtt { listen: "${LOOPBACK}:${NATS_MQTT_PORT}" }`,
        '',
      ].join('\n'),
    );
    const child = await ManagedProcess.start({ label: 'nats', command: binary, args: ['-c', config], logFile: join(workDir, 'nats.log') });
    try {
      await waitForPort(LOOPBACK, NATS_PORT, 15_000, child);
      await waitForPort(LOOPBACK, NATS_MQTT_PORT, 15_000, child);
    } catch (error) {
      await child.stop();
      throw error;
    }
    const { stdout } = await promisify(execFile)(binary, ['--version']);
    return {
      name: 'nats',
      version: /v?(\d+\.\d+\.\d+)/.exec(stdout)?.[1] ?? 'unknown',
      host: LOOPBACK,
      ports: { nats: NATS_PORT, mqtt: NATS_MQTT_PORT },
      pid: child.pid,
      settings: ['core NATS + MQTT gateway (MQTT state and QoS 1 in JetStream, file store)'],
      stop: async () => {
        await child.stop();
      },
    };
  },
};
