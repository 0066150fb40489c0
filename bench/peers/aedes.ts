/**
 * Aedes (npm) in a node process of its own, on 127.0.0.1:11884, with its default in-memory persistence:
 * like Mosquitto here, nothing it holds is durable. See aedes-server.mjs.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { LOOPBACK, type BrokerLauncher, type RunningBroker } from './broker.js';
import { ManagedProcess, waitForPort, waitForPortFree } from './managed-process.js';

export const AEDES_MQTT_PORT = 11884;

// Compiled to dist/bench/peers/; the server script is plain JS and stays in bench/peers/.
const SERVER_SCRIPT = fileURLToPath(new URL('../../../bench/peers/aedes-server.mjs', import.meta.url));

/** Prints the installed Aedes version, found where aedes-server.mjs would load it from. */
const PROBE = `
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
let entry;
try { entry = fileURLToPath(import.meta.resolve('aedes')); } catch (error) {
  const dir = process.env.COURIER_BENCH_AEDES_DIR; if (!dir) throw error;
  entry = createRequire(join(dir, 'package.json')).resolve('aedes'); }
console.log(JSON.parse(readFileSync(join(dirname(entry), 'package.json'), 'utf8')).version);`;

async function aedesVersion(): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', PROBE], { cwd: join(SERVER_SCRIPT, '..') });
    return stdout.trim() || 'unknown';
  } catch {
    return undefined;
  }
}

export const aedesLauncher: BrokerLauncher = {
  name: 'aedes',
  protocols: ['mqtt'],
  unavailable: async () =>
    (await aedesVersion()) === undefined
      ? 'not installed: aedes is an npm dev dependency (or set COURIER_BENCH_AEDES_DIR to a dir where `npm install --prefix DIR aedes` put it)'
      : undefined,
  async start(workDir: string): Promise<RunningBroker> {
    await waitForPortFree(LOOPBACK, AEDES_MQTT_PORT, 5_000);
    const child = await ManagedProcess.start({
      label: 'aedes',
      command: process.execPath,
      args: [SERVER_SCRIPT, String(AEDES_MQTT_PORT)],
      cwd: join(SERVER_SCRIPT, '..'),
      logFile: join(workDir, 'aedes.log'),
    });
    try {
      await waitForPort(LOOPBACK, AEDES_MQTT_PORT, 15_000, child);
    } catch (error) {
      await child.stop();
      throw error;
    }
    return {
      name: 'aedes',
      version: (await aedesVersion()) ?? 'unknown',
      host: LOOPBACK,
      ports: { mqtt: AEDES_MQTT_PORT },
      pid: child.pid,
      settings: ['Aedes.createBroker() defaults: in-memory persistence and emitter', `node ${process.version}, TCP_NODELAY on`],
      stop: async () => {
        await child.stop();
      },
    };
  },
};
