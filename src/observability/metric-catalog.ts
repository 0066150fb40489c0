/**
 * Every metric Courier exposes, with its type and HELP text: the core's (reported through the Metrics
 * port), the storage's, and those read at scrape time from the broker and the process. docs/metrics.md
 * lists the same names; a test keeps the two, and the names used in src/, in agreement.
 */
import type { ExpositionWriter, MetricType } from './exposition.js';

/** Where the values come from: pushed through the Metrics port, or read by the registry when scraped. */
export type MetricSource = 'reported' | 'broker' | 'process';

export interface MetricDescription {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labels: readonly string[];
  readonly source: MetricSource;
}

const rows: readonly MetricDescription[] = [
  // Reported by the core and the server through the Metrics port.
  {
    name: 'courier_messages_published_total',
    type: 'counter',
    help: 'Messages accepted for routing from publishers.',
    labels: [],
    source: 'reported',
  },
  {
    name: 'courier_messages_unroutable_total',
    type: 'counter',
    help: 'Published messages that no queue or stream took.',
    labels: [],
    source: 'reported',
  },
  {
    name: 'courier_messages_delivered_total',
    type: 'counter',
    help: 'Messages pushed to consumers, redeliveries included (basic.get fetches are not counted).',
    labels: ['queue'],
    source: 'reported',
  },
  {
    name: 'courier_messages_acked_total',
    type: 'counter',
    help: 'Deliveries acknowledged by consumers.',
    labels: ['queue'],
    source: 'reported',
  },
  {
    name: 'courier_messages_dead_lettered_total',
    type: 'counter',
    help: 'Messages dead-lettered, by reason (rejected, expired, maxlen, delivery_limit).',
    labels: ['queue', 'reason'],
    source: 'reported',
  },
  {
    name: 'courier_queue_rejected_total',
    type: 'counter',
    help: "Publishes refused by a queue's overflow policy (reject-publish, reject-publish-dlx).",
    labels: ['queue'],
    source: 'reported',
  },
  {
    name: 'courier_queues_declared_total',
    type: 'counter',
    help: 'Queues created by a declare.',
    labels: [],
    source: 'reported',
  },
  {
    name: 'courier_connections_opened_total',
    type: 'counter',
    help: 'Client connections opened, by protocol.',
    labels: ['protocol'],
    source: 'reported',
  },
  {
    name: 'courier_stream_appended_messages_total',
    type: 'counter',
    help: 'Messages appended to a stream.',
    labels: ['stream'],
    source: 'reported',
  },
  {
    name: 'courier_stream_appended_bytes_total',
    type: 'counter',
    help: 'Bytes of encoded messages (properties, headers and body) appended to a stream.',
    labels: ['stream'],
    source: 'reported',
  },
  {
    name: 'courier_stream_readers',
    type: 'gauge',
    help: 'Readers attached to a stream.',
    labels: ['stream'],
    source: 'reported',
  },
  {
    name: 'courier_stream_size_bytes',
    type: 'gauge',
    help: 'Bytes a stream occupied after its last retention pass.',
    labels: ['stream'],
    source: 'reported',
  },
  {
    name: 'courier_stream_retention_deleted_records_total',
    type: 'counter',
    help: 'Stream records removed by retention (max age, max bytes).',
    labels: ['stream'],
    source: 'reported',
  },
  {
    name: 'courier_stream_retention_errors_total',
    type: 'counter',
    help: 'Retention passes of a stream that failed; the log has details.',
    labels: ['stream'],
    source: 'reported',
  },
  {
    name: 'courier_storage_corruptions_total',
    type: 'counter',
    help: 'Damaged log records found, by what was done: a torn tail truncated, or a damaged range quarantined.',
    labels: ['action'],
    source: 'reported',
  },
  {
    name: 'courier_storage_fsync_seconds',
    type: 'histogram',
    help: 'Time each fdatasync of a log segment took (group commit: one covers many confirms), in seconds.',
    labels: [],
    source: 'reported',
  },
  {
    name: 'courier_resource_alarm',
    type: 'gauge',
    help: 'Whether a resource alarm is on (1) and publishers are blocked: memory (transient queues over memory-high-watermark) or disk (free space under disk-free-limit).',
    labels: ['resource'],
    source: 'reported',
  },
  {
    name: 'courier_resource_alarms_total',
    type: 'counter',
    help: 'Times a resource alarm went on, by resource.',
    labels: ['resource'],
    source: 'reported',
  },
  {
    name: 'courier_publisher_flow_holds_total',
    type: 'counter',
    help: 'Times publishers were held back (flow control) because a queue they fed had a backlog past the high mark while its consumers were taking messages.',
    labels: ['queue'],
    source: 'reported',
  },
  {
    name: 'courier_publisher_flow_timeouts_total',
    type: 'counter',
    help: 'Holds that ended after the longest hold without the queue draining: its consumers set the pace, so it buffers instead until drained.',
    labels: ['queue'],
    source: 'reported',
  },
  {
    name: 'courier_transient_memory_bytes',
    type: 'gauge',
    help: 'Bytes the messages of transient queues hold in memory, as last measured (every 100 ms); bounded by memory-high-watermark.',
    labels: [],
    source: 'reported',
  },
  {
    name: 'courier_disk_free_bytes',
    type: 'gauge',
    help: "Free bytes on the data directory's file system, as last checked (every 2 s) when disk-free-limit is on.",
    labels: [],
    source: 'reported',
  },
  // Read from the attached broker at each scrape.
  {
    name: 'courier_queue_messages_ready',
    type: 'gauge',
    help: 'Messages in a queue ready for delivery.',
    labels: ['queue'],
    source: 'broker',
  },
  {
    name: 'courier_queue_messages_unacked',
    type: 'gauge',
    help: 'Messages of a queue delivered and not yet acknowledged.',
    labels: ['queue'],
    source: 'broker',
  },
  {
    name: 'courier_queue_consumers',
    type: 'gauge',
    help: 'Consumers attached to a queue.',
    labels: ['queue'],
    source: 'broker',
  },
  {
    name: 'courier_queue_stored_bytes',
    type: 'gauge',
    help: "Bytes the queue's log occupies (records and framing, acknowledged ones until their segment is deleted).",
    labels: ['queue'],
    source: 'broker',
  },
  {
    name: 'courier_stream_messages',
    type: 'gauge',
    help: 'Records a stream retains.',
    labels: ['stream'],
    source: 'broker',
  },
  {
    name: 'courier_stream_stored_bytes',
    type: 'gauge',
    help: "Bytes the stream's log occupies now.",
    labels: ['stream'],
    source: 'broker',
  },
  {
    name: 'courier_connections',
    type: 'gauge',
    help: 'Open client connections, by protocol.',
    labels: ['protocol'],
    source: 'broker',
  },
  // Read from the process at each scrape.
  {
    name: 'process_cpu_seconds_total',
    type: 'counter',
    help: 'User and system CPU time of the broker process, in seconds.',
    labels: [],
    source: 'process',
  },
  {
    name: 'process_resident_memory_bytes',
    type: 'gauge',
    help: 'Resident set size of the broker process, in bytes.',
    labels: [],
    source: 'process',
  },
  {
    name: 'process_start_time_seconds',
    type: 'gauge',
    help: 'When the broker process started, in seconds since the Unix epoch.',
    labels: [],
    source: 'process',
  },
  {
    name: 'nodejs_heap_used_bytes',
    type: 'gauge',
    help: 'V8 heap in use, in bytes.',
    labels: [],
    source: 'process',
  },
  {
    name: 'nodejs_external_memory_bytes',
    type: 'gauge',
    help: 'Memory outside the V8 heap held by JavaScript objects (Buffers and other ArrayBuffers, where message bodies live), in bytes.',
    labels: [],
    source: 'process',
  },
  {
    name: 'nodejs_eventloop_lag_seconds',
    type: 'gauge',
    help: 'Mean event-loop delay since the previous scrape, in seconds.',
    labels: [],
    source: 'process',
  },
  {
    name: 'nodejs_eventloop_lag_p99_seconds',
    type: 'gauge',
    help: '99th percentile of the event-loop delay since the previous scrape, in seconds.',
    labels: [],
    source: 'process',
  },
  {
    name: 'nodejs_eventloop_lag_max_seconds',
    type: 'gauge',
    help: 'Longest event-loop delay since the previous scrape, in seconds.',
    labels: [],
    source: 'process',
  },
];

export const metricCatalog: ReadonlyMap<string, MetricDescription> = new Map(rows.map((row) => [row.name, row]));

/** The HELP text of a metric; names not in the catalog still get one. */
export function helpFor(name: string): string {
  return metricCatalog.get(name)?.help ?? `Courier metric ${name} (not described yet).`;
}

/** One sample: label pairs as labelPairs() makes them, and the value. */
export type Sample = readonly [pairs: string, value: number];

/** Writes a catalogued family read at scrape time; a family without samples is left out entirely. */
export function writeFamily(writer: ExpositionWriter, name: string, samples: readonly Sample[]): void {
  if (samples.length === 0) return;
  const description = metricCatalog.get(name);
  writer.family(name, description?.type ?? 'gauge', helpFor(name));
  for (const [pairs, value] of samples) writer.sample(name, pairs, value);
}
