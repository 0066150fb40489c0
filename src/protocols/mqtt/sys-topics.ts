/**
 * Broker statistics under `$SYS/broker/...`, as Mosquitto publishes them: retained QoS 0 messages,
 * published when the adapter starts and then every interval. Filters starting with a wildcard do not
 * match them [MQTT-4.7.2-1] (the sessions' topic matching sees to that).
 */
import type { Broker } from '../../core/broker.js';
import type { Connection } from '../../core/connection.js';
import type { Logger, TimerHandle } from '../../core/ports.js';
import { toCoreMessage } from './convert.js';

/** Counters the sessions of one adapter add to: MQTT packets of any type, as Mosquitto counts "messages". */
export interface MqttStats {
  packetsReceived: number;
  packetsSent: number;
}

export interface SysTopicsOptions {
  readonly broker: Broker;
  readonly logger: Logger;
  readonly stats: MqttStats;
  readonly intervalMs: number;
  readonly version: string;
  /** MQTT clients connected right now. */
  readonly connectedClients: () => number;
}

/** Load averages over 1, 5 and 15 minutes, Mosquitto's `load/.../1min` etc. */
const LOAD_WINDOWS = [
  ['1min', 60_000],
  ['5min', 300_000],
  ['15min', 900_000],
] as const;

class LoadAverage {
  private readonly values = LOAD_WINDOWS.map(() => 0);
  private last: number;

  constructor(private readonly read: () => number) {
    this.last = read();
  }

  /** Folds the rate (per minute) since the last update into each exponentially decaying average. */
  update(elapsedMs: number): void {
    const current = this.read();
    const perMinute = elapsedMs > 0 ? ((current - this.last) * 60_000) / elapsedMs : 0;
    this.last = current;
    LOAD_WINDOWS.forEach(([, windowMs], i) => {
      const decay = Math.exp(-elapsedMs / windowMs);
      this.values[i] = this.values[i]! * decay + perMinute * (1 - decay);
    });
  }

  entries(prefix: string): [string, string][] {
    return LOAD_WINDOWS.map(([name], i) => [`${prefix}/${name}`, this.values[i]!.toFixed(2)]);
  }
}

export class SysTopicsPublisher {
  private readonly startedAt: number;
  private lastTickAt: number;
  private timer: TimerHandle | undefined;
  private connection: Connection | undefined;
  private readonly received: LoadAverage;
  private readonly sent: LoadAverage;

  constructor(private readonly options: SysTopicsOptions) {
    const clock = options.broker.clock;
    this.startedAt = clock.now();
    this.lastTickAt = this.startedAt;
    this.received = new LoadAverage(() => options.stats.packetsReceived);
    this.sent = new LoadAverage(() => options.stats.packetsSent);
  }

  start(): void {
    try {
      this.connection = this.options.broker.connect({ username: 'courier-sys', tags: [] }, { protocol: 'mqtt', remoteAddress: '', clientId: '$SYS', internal: true });
    } catch (error) {
      this.failed(error); // the broker is closing
      return;
    }
    this.tick();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
    const connection = this.connection;
    this.connection = undefined;
    void connection?.close().catch(() => undefined);
  }

  private tick(): void {
    const now = this.options.broker.clock.now();
    this.received.update(now - this.lastTickAt);
    this.sent.update(now - this.lastTickAt);
    this.lastTickAt = now;
    const stats = this.options.stats;
    const values: [string, string][] = [
      ['version', this.options.version],
      ['uptime', `${Math.floor((now - this.startedAt) / 1000)} seconds`],
      ['clients/connected', String(this.options.connectedClients())],
      ['messages/received', String(stats.packetsReceived)],
      ['messages/sent', String(stats.packetsSent)],
      ...this.received.entries('load/messages/received'),
      ...this.sent.entries('load/messages/sent'),
    ];
    for (const [name, value] of values) this.publish(`$SYS/broker/${name}`, value, now);
    this.timer = this.options.broker.clock.setTimer(this.options.intervalMs, () => this.tick());
  }

  private publish(topic: string, value: string, now: number): void {
    const connection = this.connection;
    if (!connection) return;
    const message = toCoreMessage({ topic, payload: Buffer.from(value), qos: 0, retain: true }, now);
    try {
      connection.publish(message);
      void this.options.broker.retained.set(message.routingKey, message).catch((error: unknown) => this.failed(error));
    } catch (error) {
      this.failed(error);
    }
  }

  private failed(error: unknown): void {
    this.options.logger.debug({ err: error }, 'publishing $SYS statistics failed');
  }
}
