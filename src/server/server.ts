import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { Broker } from '../core/broker.js';
import { BrokerError } from '../core/errors.js';
import { DEFAULT_FLOW_LIMITS } from '../core/flow/queue-flow.js';
import { silentLogger } from '../core/null-ports.js';
import type { Clock, CorruptionReport, Logger, Metrics } from '../core/ports.js';
import { applyStartupTopology, loadTopologyFile } from '../management/topology/index.js';
import { MetricsRegistry } from '../observability/metrics-registry.js';
import { createManagementApi } from '../management/index.js';
import { consoleRoutes } from '../management/console/index.js';
import { createHttpApi, openApiDocument } from '../protocols/http/index.js';
import { AllowAllAuthorizer, DefaultAuthenticator } from '../security/index.js';
import { acquireDataDirLock, FileLogStore, FileMetadataStore, SpillingLogStore } from '../storage/index.js';
import type { ListenAddress } from '../transport/bind.js';
import { HttpListener } from '../transport/http-listener.js';
import { CleanupStack } from './cleanup-stack.js';
import { prepareDataDir } from './data-dir.js';
import { DiskSpaceMonitor } from './disk-space-monitor.js';
import { healthRoutes, type ServerState } from './health-routes.js';
import { HttpRouter } from './http-router.js';
import { metricsRoutes } from './metrics-routes.js';
import {
  planProtocolListeners,
  startProtocolListener,
  type ProtocolAdapterFactory,
  type ProtocolName,
  type RunningProtocolListener,
  type WebSocketEndpoint,
} from './listeners.js';
import { builtInProtocolAdapters } from './protocol-adapters.js';
import { flagOf, settingByKey, type ServerConfig } from './settings.js';

export type ListenerName = ProtocolName | 'http';

export type ServerAddresses = Readonly<Partial<Record<ListenerName, ListenAddress>>>;

export interface StartServerOptions {
  readonly logger?: Logger;
  /** Shown in the startup line. */
  readonly version?: string;
  readonly clock?: Clock;
  /**
   * Where the core reports. Defaults to a registry of the server's own, served at GET /metrics and closed
   * with the server; a MetricsRegistry given here is served too (and left open), any other Metrics is not.
   */
  readonly metrics?: Metrics;
  /** The protocol adapters to serve; defaults to every adapter built so far. */
  readonly protocolAdapters?: readonly ProtocolAdapterFactory[];
}

export interface ServerHandle {
  /** Where each started listener listens (the real port when the config asked for 0). */
  readonly addresses: ServerAddresses;
  readonly broker: Broker;
  readonly state: ServerState;
  /**
   * Stops accepting, ends sessions, closes the broker (which flushes and fsyncs every log), closes HTTP
   * and releases the data-dir lock. Idempotent. Rejects with the first failure after trying every step.
   */
  close(): Promise<void>;
}

export const logsDirectoryName = 'logs';
export const metadataFileName = 'metadata.json';
export const transientDirectoryName = 'transient';
/** A transient queue holding more than this in memory moves its messages to disk (DESIGN §4, docs/architecture.md). */
const TRANSIENT_SPILL_BYTES = 4 * 1024 * 1024;
/** Smaller segments than durable logs' default: a drained backlog gives its disk space back sooner. */
const TRANSIENT_SEGMENT_BYTES = 16 * 1024 * 1024;

function childLogger(logger: Logger, component: string): Logger {
  const withChild = logger as Logger & { child?: (bindings: Record<string, unknown>) => Logger };
  return typeof withChild.child === 'function' ? withChild.child({ component }) : logger;
}

function formatAddress(address: ListenAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/**
 * The composition root: data dir and its lock, storage, broker core, HTTP and protocol listeners, in that
 * order, undone in reverse on a failed start or on close. Nothing here touches `process`: the CLI owns
 * signals and exit codes, so tests can run several servers in one process.
 */
export async function startServer(config: ServerConfig, options: StartServerOptions = {}): Promise<ServerHandle> {
  const logger = options.logger ?? silentLogger;
  const log = childLogger(logger, 'server');
  const cleanup = new CleanupStack(log);
  let ownRegistry: MetricsRegistry | undefined;
  const metrics: Metrics = options.metrics ?? (ownRegistry = new MetricsRegistry({ logger: childLogger(logger, 'metrics') }));
  const exposed = metrics instanceof MetricsRegistry ? metrics : undefined;
  if (ownRegistry) {
    const registry = ownRegistry;
    cleanup.push('close metrics registry', () => registry.close());
  }
  const addresses: Partial<Record<ListenerName, ListenAddress>> = {};
  let state: ServerState = 'starting';
  let broker: Broker;
  // Enabled in the config but without an adapter yet: named in the startup line so nobody hunts for them.
  const notBuilt: ProtocolName[] = [];
  // WebSocket endpoints of protocol adapters (STOMP at /stomp...), by path; filled once the broker is up.
  const webSockets = new Map<string, WebSocketEndpoint>();
  // The HTTP messaging API (/api/...): its routes exist from the start and answer 503 until attached.
  const httpApi = createHttpApi({ maxBodyBytes: config.httpBodyLimit });
  // The management API (/api/overview, /api/queues...); it serves /api/openapi.json with its paths added.
  const management = createManagementApi({ openApi: openApiDocument });
  const routeUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const endpoint = webSockets.get((request.url ?? '/').split('?', 1)[0]!);
    if (endpoint) endpoint.handleUpgrade(request, socket, head);
    else socket.end(`HTTP/1.1 ${state === 'ready' ? '404 Not Found' : '503 Service Unavailable'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };

  try {
    // An invalid topology file stops the start before anything is opened or locked.
    const topology = config.topology === undefined ? undefined : await loadTopologyFile(config.topology);
    await prepareDataDir(config.dataDir, [logsDirectoryName]);
    const lock = await acquireDataDirLock(config.dataDir);
    cleanup.push('release data dir lock', () => lock.release());

    // HTTP comes up before recovery so that /readyz can say "starting" while a long backlog is recovered.
    if (config.httpPort !== null) {
      const routes = [...healthRoutes(() => state), ...(exposed ? metricsRoutes(exposed) : []), ...management.routes, ...httpApi.routes, ...consoleRoutes()];
      const router = new HttpRouter(routes, childLogger(logger, 'http'));
      const http = await HttpListener.open({
        host: config.bind,
        port: config.httpPort,
        portSetting: flagOf(settingByKey('httpPort')),
        hostSetting: flagOf(settingByKey('bind')),
        handler: router.handle,
        onUpgrade: routeUpgrade,
        onError: (error) => log.error({ err: error, listener: 'http' }, 'listener error'),
      });
      addresses.http = http.address;
      cleanup.push('close http listener', () => http.close());
    }

    const storageLog = childLogger(logger, 'storage');
    const logStore = new FileLogStore({
      directory: join(config.dataDir, logsDirectoryName),
      defaultSegmentBytes: config.segmentBytes,
      onCorruption: (report: CorruptionReport) => {
        storageLog.warn({ ...report }, `log damage found: ${report.action} ${report.bytes} bytes`);
        metrics.count('courier_storage_corruptions_total', 1, { action: report.action });
      },
      onSync: (seconds) => metrics.observe('courier_storage_fsync_seconds', seconds),
    });
    // Transient queues: in memory while small, on disk (never synced, emptied at start) once backlogged.
    const transientLogStore = await SpillingLogStore.create({
      directory: join(config.dataDir, transientDirectoryName),
      spillBytes: TRANSIENT_SPILL_BYTES,
      segmentBytes: Math.min(config.segmentBytes, TRANSIENT_SEGMENT_BYTES),
      onCorruption: (report: CorruptionReport) => storageLog.warn({ ...report }, `transient log damage found: ${report.action} ${report.bytes} bytes`),
      onSpillFailure: (name, error) => storageLog.warn({ err: error, log: name }, 'transient queue could not move to disk: it stays in memory'),
    });
    const metadataStore = new FileMetadataStore({ path: join(config.dataDir, metadataFileName) });
    cleanup.push('close stores', async () => {
      await logStore.close();
      await transientLogStore.close();
      await metadataStore.close();
    });

    const opened = await Broker.open({
      logStore,
      transientLogStore,
      metadataStore,
      authorizer: new AllowAllAuthorizer(),
      logger: childLogger(logger, 'broker'),
      metrics,
      fsync: config.fsync,
      segmentBytes: config.segmentBytes,
      transientMemoryLimitBytes: config.memoryHighWatermark,
      publisherFlow: { ...DEFAULT_FLOW_LIMITS, maxHoldMs: config.flowControlMaxHold },
      ...(options.clock ? { clock: options.clock } : {}),
    });
    broker = opened;
    // The broker owns the stores from here on and closes them itself.
    cleanup.pop('close stores');
    cleanup.push('close broker', () => opened.close());
    if (config.diskFreeLimit > 0) {
      const diskMonitor = new DiskSpaceMonitor({
        directory: config.dataDir,
        limitBytes: config.diskFreeLimit,
        alarms: opened.alarms,
        metrics,
        logger: childLogger(logger, 'broker'),
      });
      await diskMonitor.start();
      cleanup.push('stop disk space monitor', () => diskMonitor.stop());
    }
    if (exposed) {
      exposed.attachBroker(opened);
      // Unwinding detaches before the broker closes: a scrape during shutdown reads no closing queues.
      cleanup.push('detach broker from metrics', () => exposed.attachBroker(undefined));
    }

    // Applied before any API or listener serves a client: the first publisher finds every service queue.
    if (topology) await applyStartupTopology(opened, topology, childLogger(logger, 'topology'));
    const listeners: RunningProtocolListener[] = [];
    const authenticator = await DefaultAuthenticator.create({});
    const context = {
      broker: opened,
      logger: childLogger(logger, 'protocol'),
      authenticator,
      ...(options.version === undefined ? {} : { serverVersion: options.version }),
    };
    httpApi.attach(context);
    cleanup.push('close http api', () => httpApi.close());
    management.attach(context);
    cleanup.push('close management api', () => management.close());
    // The JSON messaging protocol at /ws lives with the HTTP API and is closed by it.
    if (addresses.http) webSockets.set(httpApi.webSocket.path, httpApi.webSocket);
    for (const plan of planProtocolListeners(config, options.protocolAdapters ?? builtInProtocolAdapters)) {
      if (plan.status === 'not-built') notBuilt.push(plan.protocol);
      if (plan.status !== 'start') continue;
      const listener = await startProtocolListener(plan, config.bind, context);
      listeners.push(listener);
      addresses[plan.protocol] = listener.address;
      cleanup.push(`close ${plan.protocol} listener`, () => listener.close());
    }
    if (addresses.http) {
      for (const factory of options.protocolAdapters ?? builtInProtocolAdapters) {
        if (!factory.webSocket) continue;
        const { path } = factory.webSocket;
        const endpoint = factory.webSocket.create(context);
        webSockets.set(path, endpoint);
        cleanup.push(`close ${factory.protocol} websocket endpoint`, () => {
          webSockets.delete(path);
          return endpoint.close();
        });
      }
    }
    // Unwinding runs this first: every listener refuses new clients before any session is ended.
    cleanup.push('stop accepting', () => {
      state = 'stopping';
      for (const listener of listeners) listener.stopAccepting();
    });
  } catch (error) {
    state = 'stopping';
    await cleanup.unwind();
    throw error;
  }

  state = 'ready';
  log.info(
    {
      version: options.version ?? 'unknown',
      dataDir: config.dataDir,
      listeners: Object.fromEntries(Object.entries(addresses).map(([name, address]) => [name, formatAddress(address)])),
      ...(notBuilt.length > 0 ? { notYetAvailable: notBuilt } : {}),
    },
    'courier started',
  );

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    state = 'stopping';
    log.info({}, 'stopping');
    const failures = await cleanup.unwind();
    if (failures.length > 0) {
      const first = failures[0];
      throw first instanceof BrokerError
        ? first
        : new BrokerError('INTERNAL', 'shutdown did not complete cleanly; the log has details', undefined, { cause: first });
    }
    log.info({}, 'courier stopped');
  };

  return {
    addresses,
    broker,
    get state() {
      return state;
    },
    close: () => (closing ??= close()),
  };
}
