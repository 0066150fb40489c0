/**
 * The MQTT scenarios and their cases. Throughput cases publish a fixed number of messages from one
 * publisher and count deliveries at 1 or 10 subscribers; counts are sized for a few seconds a run on a
 * two-core machine (--quick: about a tenth). The latency case publishes at a fixed rate for a fixed time.
 */

export type MqttScenario = 'mqtt-qos0' | 'mqtt-qos1' | 'mqtt-latency' | 'mqtt-fanin' | 'mqtt-durable';

export const MQTT_SCENARIOS: readonly MqttScenario[] = ['mqtt-qos0', 'mqtt-qos1', 'mqtt-latency', 'mqtt-fanin', 'mqtt-durable'];

export interface ThroughputCase {
  readonly kind: 'throughput';
  readonly id: string;
  readonly title: string;
  readonly qos: 0 | 1;
  readonly bodyBytes: number;
  /** Subscribing connections (fan-out), spread over `subscriberProcesses` processes. */
  readonly subscribers: number;
  readonly subscriberProcesses: number;
  /** Messages published in all, split evenly over `publishers` (each a process of its own: fan-in). */
  readonly messages: number;
  readonly publishers: number;
  /** Subscribers connect with clean session 0: at QoS 1 their queues are durable (Courier writes them to disk). */
  readonly persistentSession: boolean;
  /** QoS 1: most unacknowledged messages per publisher. */
  readonly window: number;
}

export interface LatencyCase {
  readonly kind: 'latency';
  readonly id: string;
  readonly title: string;
  readonly qos: 1;
  readonly bodyBytes: number;
  readonly ratePerSecond: number;
  /** Measured seconds, after `warmupSeconds` left out of the figures. */
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly window: number;
}

export type MqttCase = ThroughputCase | LatencyCase;

/** Unacknowledged QoS 1 messages a publisher keeps, as shared/PEER-BASELINE.md measured the peers. */
const WINDOW = 1000;

function throughput(qos: 0 | 1, bodyBytes: number, subscribers: number, messages: number, publishers = 1, persistentSession = false): ThroughputCase {
  const body = bodyBytes >= 1024 ? `${bodyBytes / 1024} KiB` : `${bodyBytes} B`;
  const durable = persistentSession ? '-durable' : '';
  return {
    kind: 'throughput',
    id: `qos${qos}-${publishers}to${subscribers}-${bodyBytes}b${durable}`,
    title: `QoS ${qos}, ${publishers} -> ${subscribers}, ${body}${persistentSession ? ', persistent session' : ''}`,
    qos,
    bodyBytes,
    subscribers,
    // One process holds up to 5 subscribing connections: 1 -> 10 reads with two processes (two cores).
    subscriberProcesses: Math.ceil(subscribers / 5),
    messages,
    publishers,
    persistentSession,
    window: WINDOW,
  };
}

/** Publishers of the fan-in cases, one process each. */
export const FAN_IN_PUBLISHERS = 10;

export function casesOf(scenario: MqttScenario, quick: boolean): readonly MqttCase[] {
  const scale = (full: number, small: number): number => (quick ? small : full);
  switch (scenario) {
    case 'mqtt-qos0':
      return [
        throughput(0, 16, 1, scale(1_000_000, 100_000)),
        throughput(0, 1024, 1, scale(300_000, 30_000)),
        throughput(0, 16, 10, scale(200_000, 20_000)),
        throughput(0, 1024, 10, scale(50_000, 5_000)),
      ];
    case 'mqtt-qos1':
      return [
        throughput(1, 16, 1, scale(300_000, 30_000)),
        throughput(1, 1024, 1, scale(200_000, 20_000)),
        throughput(1, 16, 10, scale(50_000, 5_000)),
        throughput(1, 1024, 10, scale(30_000, 3_000)),
      ];
    case 'mqtt-fanin':
      // N -> 1: ten publisher processes into one subscriber (the 1 -> 1 and 1 -> 10 cases are above).
      return [
        throughput(0, 16, 1, scale(1_000_000, 100_000), FAN_IN_PUBLISHERS),
        throughput(0, 1024, 1, scale(300_000, 30_000), FAN_IN_PUBLISHERS),
        throughput(1, 16, 1, scale(300_000, 30_000), FAN_IN_PUBLISHERS),
        throughput(1, 1024, 1, scale(200_000, 20_000), FAN_IN_PUBLISHERS),
      ];
    case 'mqtt-durable':
      // QoS 1 into a persistent session's queue, which Courier keeps durable (fsync always): a publish is
      // acknowledged once on disk. Counts stay under the session queue's 100,000-message cap (drop-head).
      return [
        throughput(1, 16, 1, scale(100_000, 20_000), 1, true),
        throughput(1, 1024, 1, scale(100_000, 20_000), 1, true),
      ];
    case 'mqtt-latency':
      return [
        {
          kind: 'latency',
          id: 'qos1-5000-per-s',
          title: 'QoS 1 at 5,000 msg/s, 16 B, 1 -> 1',
          qos: 1,
          bodyBytes: 16,
          ratePerSecond: 5000,
          seconds: scale(20, 5),
          warmupSeconds: scale(2, 1),
          window: WINDOW,
        },
      ];
  }
}
