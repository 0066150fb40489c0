/**
 * RabbitMQ from Debian's package, run straight from /usr/lib/rabbitmq/bin (the /usr/sbin wrapper would
 * switch to the rabbitmq user and its system dirs) with everything in the work dir: config, enabled
 * plugins (rabbitmq_mqtt), Mnesia and message stores, logs, the Erlang cookie (HOME). AMQP on
 * 127.0.0.1:15672, MQTT on 127.0.0.1:11885, Erlang distribution on 127.0.0.1:35672, and an epmd of its
 * own on 127.0.0.1:14369 started first (a foreground child, stopped by pid, rather than the daemon
 * Erlang would otherwise leave behind on every address). mqtt.prefetch 100 (default 10): the same
 * window toward a subscriber as Courier's and Mosquitto's here.
 */
import { readdir, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LOOPBACK, NOT_INSTALLED, findExecutable, type BrokerLauncher, type RunningBroker } from './broker.js';
import { ManagedProcess, waitForPort, waitForPortFree } from './managed-process.js';

export const RABBITMQ_AMQP_PORT = 15672;
export const RABBITMQ_MQTT_PORT = 11885;
const DIST_PORT = 35672;
const EPMD_PORT = 14369;
const SERVER_SCRIPT = '/usr/lib/rabbitmq/bin/rabbitmq-server';

const CONFIG = [
  `listeners.tcp.1 = ${LOOPBACK}:${RABBITMQ_AMQP_PORT}`,
  `mqtt.listeners.tcp.1 = ${LOOPBACK}:${RABBITMQ_MQTT_PORT}`,
  'mqtt.allow_anonymous = true',
  'mqtt.prefetch = 100',
  'loopback_users = none',
  'log.console = true',
  'log.console.level = warning',
  'log.file = false',
];

async function version(): Promise<string> {
  try {
    const entries = await readdir('/usr/lib/rabbitmq/lib');
    const server = entries.find((entry) => entry.startsWith('rabbitmq_server-'));
    return server ? server.slice('rabbitmq_server-'.length) : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Times a start is tried again when the distribution port is still held by the previous instance. */
const START_ATTEMPTS = 4;
const DIST_PORT_RETRY_MS = 20_000;

async function distPortClashes(workDir: string): Promise<number> {
  const log = await readFile(join(workDir, 'rabbitmq.log'), 'utf8').catch(() => '');
  return log.split('dist_port_already_used').length - 1;
}

export const rabbitmqLauncher: BrokerLauncher = {
  name: 'rabbitmq',
  protocols: ['mqtt', 'amqp'],
  unavailable: async () => ((await findExecutable('rabbitmq-server')) && (await findExecutable('epmd')) ? undefined : NOT_INSTALLED),
  async start(workDir: string): Promise<RunningBroker> {
    // Erlang binds its distribution port without SO_REUSEADDR, so connections of the previous instance
    // still in TIME_WAIT (up to 60 s) make a start right after a stop fail with dist_port_already_used.
    for (let attempt = 1; ; attempt++) {
      const clashesBefore = await distPortClashes(workDir);
      try {
        return await startOnce(workDir);
      } catch (error) {
        if (attempt >= START_ATTEMPTS || (await distPortClashes(workDir)) === clashesBefore) throw error;
        await new Promise((resolve) => setTimeout(resolve, DIST_PORT_RETRY_MS));
      }
    }
  },
};

async function startOnce(workDir: string): Promise<RunningBroker> {
  const epmdBinary = await findExecutable('epmd');
  if (!epmdBinary) throw new Error(`rabbitmq ${NOT_INSTALLED}`);
  for (const port of [RABBITMQ_AMQP_PORT, RABBITMQ_MQTT_PORT, DIST_PORT, EPMD_PORT]) await waitForPortFree(LOOPBACK, port, 10_000);
  await mkdir(join(workDir, 'mnesia'), { recursive: true });
  await mkdir(join(workDir, 'log'), { recursive: true });
  await writeFile(join(workDir, 'rabbitmq.conf'), `${CONFIG.join('\n')}\n`);
  await writeFile(join(workDir, 'enabled_plugins'), '[rabbitmq_mqtt].\n');

  const epmd = await ManagedProcess.start({
    label: 'epmd (rabbitmq)',
    command: epmdBinary,
    args: ['-address', LOOPBACK, '-port', String(EPMD_PORT)],
    logFile: join(workDir, 'epmd.log'),
  });
  let server: ManagedProcess | undefined;
  try {
    await waitForPort(LOOPBACK, EPMD_PORT, 10_000, epmd);
    server = await ManagedProcess.start({
      label: 'rabbitmq',
      command: SERVER_SCRIPT,
      args: [],
      cwd: workDir,
      logFile: join(workDir, 'rabbitmq.log'),
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: workDir,
        LANG: 'C.UTF-8',
        ERL_EPMD_PORT: String(EPMD_PORT),
        ERL_EPMD_ADDRESS: LOOPBACK,
        RABBITMQ_CONFIG_FILE: join(workDir, 'rabbitmq.conf'),
        RABBITMQ_ENABLED_PLUGINS_FILE: join(workDir, 'enabled_plugins'),
        RABBITMQ_MNESIA_BASE: join(workDir, 'mnesia'),
        RABBITMQ_LOG_BASE: join(workDir, 'log'),
        RABBITMQ_NODENAME: 'courierbench@localhost',
        RABBITMQ_DIST_PORT: String(DIST_PORT),
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
      },
    });
    await waitForPort(LOOPBACK, RABBITMQ_AMQP_PORT, 90_000, server);
    await waitForPort(LOOPBACK, RABBITMQ_MQTT_PORT, 30_000, server);
  } catch (error) {
    await server?.stop(30_000);
    await epmd.stop();
    throw error;
  }
  const running = server;
  return {
    name: 'rabbitmq',
    version: await version(),
    host: LOOPBACK,
    ports: { mqtt: RABBITMQ_MQTT_PORT, amqp: RABBITMQ_AMQP_PORT },
    pid: running.pid,
    settings: ['rabbitmq_mqtt plugin, mqtt.prefetch 100', 'Debian defaults otherwise (Erlang scheduler busy-wait included)'],
    stop: async () => {
      await running.stop(30_000);
      await epmd.stop();
    },
  };
}
