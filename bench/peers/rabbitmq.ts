/**
 * RabbitMQ from Debian's package, run straight from /usr/lib/rabbitmq/bin (the /usr/sbin wrapper would
 * switch to the rabbitmq user and its system dirs) with everything in the work dir: config, enabled
 * plugins (rabbitmq_mqtt, rabbitmq_stomp; rabbitmq_management only for the HTTP scenario), Mnesia and
 * message stores, logs, the Erlang cookie (HOME). AMQP on 127.0.0.1:15672, MQTT on 127.0.0.1:11885,
 * STOMP on 127.0.0.1:11613, the management API (when on) on 127.0.0.1:15673 (its default 15672 is our
 * AMQP port), Erlang distribution on 127.0.0.1:35672, and an epmd of its
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
export const RABBITMQ_STOMP_PORT = 11613;
export const RABBITMQ_MANAGEMENT_PORT = 15673;
const DIST_PORT = 35672;
const EPMD_PORT = 14369;
const SERVER_SCRIPT = '/usr/lib/rabbitmq/bin/rabbitmq-server';

const CONFIG = [
  `listeners.tcp.1 = ${LOOPBACK}:${RABBITMQ_AMQP_PORT}`,
  `mqtt.listeners.tcp.1 = ${LOOPBACK}:${RABBITMQ_MQTT_PORT}`,
  'mqtt.allow_anonymous = true',
  'mqtt.prefetch = 100',
  `stomp.listeners.tcp.1 = ${LOOPBACK}:${RABBITMQ_STOMP_PORT}`,
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

export interface RabbitmqOptions {
  /**
   * Also run the management plugin (its HTTP API: the HTTP scenario's peer). Off otherwise: its stats
   * collection costs CPU in every other scenario.
   */
  readonly management?: boolean;
}

export const rabbitmqLauncher: BrokerLauncher = rabbitmqLauncherWith({});

export function rabbitmqLauncherWith(options: RabbitmqOptions): BrokerLauncher {
  const management = options.management === true;
  return {
    name: 'rabbitmq',
    protocols: ['mqtt', 'amqp', 'stomp', ...(management ? (['http'] as const) : [])],
    unavailable: async () => ((await findExecutable('rabbitmq-server')) && (await findExecutable('epmd')) ? undefined : NOT_INSTALLED),
    async start(workDir: string): Promise<RunningBroker> {
      // Erlang binds its distribution port without SO_REUSEADDR, so connections of the previous instance
      // still in TIME_WAIT (up to 60 s) make a start right after a stop fail with dist_port_already_used.
      for (let attempt = 1; ; attempt++) {
        const clashesBefore = await distPortClashes(workDir);
        try {
          return await startOnce(workDir, management);
        } catch (error) {
          if (attempt >= START_ATTEMPTS || (await distPortClashes(workDir)) === clashesBefore) throw error;
          await new Promise((resolve) => setTimeout(resolve, DIST_PORT_RETRY_MS));
        }
      }
    },
  };
}

async function startOnce(workDir: string, management: boolean): Promise<RunningBroker> {
  const epmdBinary = await findExecutable('epmd');
  if (!epmdBinary) throw new Error(`rabbitmq ${NOT_INSTALLED}`);
  const extraPorts = management ? [RABBITMQ_MANAGEMENT_PORT] : [];
  for (const port of [RABBITMQ_AMQP_PORT, RABBITMQ_MQTT_PORT, RABBITMQ_STOMP_PORT, ...extraPorts, DIST_PORT, EPMD_PORT]) await waitForPortFree(LOOPBACK, port, 10_000);
  await mkdir(join(workDir, 'mnesia'), { recursive: true });
  await mkdir(join(workDir, 'log'), { recursive: true });
  const config = management ? [...CONFIG, `management.tcp.ip = ${LOOPBACK}`, `management.tcp.port = ${RABBITMQ_MANAGEMENT_PORT}`] : CONFIG;
  await writeFile(join(workDir, 'rabbitmq.conf'), `${config.join('\n')}\n`);
  await writeFile(join(workDir, 'enabled_plugins'), `[rabbitmq_mqtt,rabbitmq_stomp${management ? ',rabbitmq_management' : ''}].\n`);

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
    await waitForPort(LOOPBACK, RABBITMQ_STOMP_PORT, 30_000, server);
    if (management) await waitForPort(LOOPBACK, RABBITMQ_MANAGEMENT_PORT, 30_000, server);
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
    ports: { mqtt: RABBITMQ_MQTT_PORT, amqp: RABBITMQ_AMQP_PORT, stomp: RABBITMQ_STOMP_PORT, ...(management ? { http: RABBITMQ_MANAGEMENT_PORT } : {}) },
    pid: running.pid,
    settings: [
      'rabbitmq_mqtt plugin, mqtt.prefetch 100; rabbitmq_stomp plugin',
      ...(management ? ['rabbitmq_management plugin (HTTP API; default stats collection)'] : []),
      'Debian defaults otherwise (Erlang scheduler busy-wait included)',
    ],
    stop: async () => {
      await running.stop(30_000);
      await epmd.stop();
    },
  };
}
