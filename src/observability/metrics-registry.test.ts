import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBrokerError } from '../core/errors.js';
import type { Logger, MetricLabels } from '../core/ports.js';
import type { BrokerStatsSource } from './broker-metrics.js';
import { MetricsRegistry } from './metrics-registry.js';

/** One sample line of the text format: name, optional {labels}, value. */
const SAMPLE_LINE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*\})? (-?[0-9.e+-]+|[+-]Inf|NaN)$/;

function sampleValue(text: string, sample: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

function recordingLogger(): Logger & { warnings: Record<string, unknown>[] } {
  const warnings: Record<string, unknown>[] = [];
  return { warnings, debug: () => {}, info: () => {}, error: () => {}, warn: (fields) => warnings.push(fields) };
}

describe('MetricsRegistry', () => {
  it('renders counters, gauges and histograms in the text format, families sorted by name', () => {
    const registry = new MetricsRegistry({ processMetrics: false, buckets: [0.1, 1] });
    registry.count('courier_messages_published_total');
    registry.count('courier_messages_published_total', 2);
    const orders = { queue: 'orders' };
    registry.count('courier_messages_acked_total', 1, orders);
    registry.count('courier_messages_acked_total', 1, orders);
    registry.count('courier_messages_acked_total', 1, { queue: 'audit' });
    registry.gauge('courier_stream_readers', 3, { stream: 'events' });
    registry.gauge('courier_stream_readers', 2, { stream: 'events' });
    registry.observe('courier_test_latency_seconds', 0.05);
    registry.observe('courier_test_latency_seconds', 0.5);
    registry.observe('courier_test_latency_seconds', 3);
    assert.equal(
      registry.render(),
      [
        '# HELP courier_messages_acked_total Deliveries acknowledged by consumers.',
        '# TYPE courier_messages_acked_total counter',
        'courier_messages_acked_total{queue="orders"} 2',
        'courier_messages_acked_total{queue="audit"} 1',
        '# HELP courier_messages_published_total Messages accepted for routing from publishers.',
        '# TYPE courier_messages_published_total counter',
        'courier_messages_published_total 3',
        '# HELP courier_stream_readers Readers attached to a stream.',
        '# TYPE courier_stream_readers gauge',
        'courier_stream_readers{stream="events"} 2',
        '# HELP courier_test_latency_seconds Courier metric courier_test_latency_seconds (not described yet).',
        '# TYPE courier_test_latency_seconds histogram',
        'courier_test_latency_seconds_bucket{le="0.1"} 1',
        'courier_test_latency_seconds_bucket{le="1"} 2',
        'courier_test_latency_seconds_bucket{le="+Inf"} 3',
        'courier_test_latency_seconds_sum 3.55',
        'courier_test_latency_seconds_count 3',
        '',
      ].join('\n'),
    );
  });

  it('renders nothing at all when nothing was reported', () => {
    assert.equal(new MetricsRegistry({ processMetrics: false }).render(), '');
  });

  it('escapes label values', () => {
    const registry = new MetricsRegistry({ processMetrics: false });
    registry.count('courier_messages_delivered_total', 1, { queue: 'a\\b"c\nd' });
    assert.match(registry.render(), /^courier_messages_delivered_total\{queue="a\\\\b\\"c\\nd"\} 1$/m);
  });

  it('keeps histogram buckets cumulative, with labels and an observation on a bound counted in that bucket', () => {
    const registry = new MetricsRegistry({ processMetrics: false, buckets: [0.001, 0.01, 0.1] });
    const labels = { queue: 'q' };
    for (const value of [0.0005, 0.001, 0.005, 0.005, 0.05, 20]) registry.observe('courier_fsync_seconds', value, labels);
    const text = registry.render();
    assert.equal(sampleValue(text, 'courier_fsync_seconds_bucket{queue="q",le="0.001"}'), 2);
    assert.equal(sampleValue(text, 'courier_fsync_seconds_bucket{queue="q",le="0.01"}'), 4);
    assert.equal(sampleValue(text, 'courier_fsync_seconds_bucket{queue="q",le="0.1"}'), 5);
    assert.equal(sampleValue(text, 'courier_fsync_seconds_bucket{queue="q",le="+Inf"}'), 6);
    assert.equal(sampleValue(text, 'courier_fsync_seconds_count{queue="q"}'), 6);
    assert.ok(Math.abs(sampleValue(text, 'courier_fsync_seconds_sum{queue="q"}')! - 20.0615) < 1e-9);
  });

  it('uses buckets from 100 µs to 10 s by default', () => {
    const registry = new MetricsRegistry({ processMetrics: false });
    registry.observe('courier_x_seconds', 1);
    const bounds = [...registry.render().matchAll(/le="([^"]+)"/g)].map((match) => match[1]);
    assert.equal(bounds[0], '0.0001');
    assert.deepEqual(bounds.slice(-2), ['10', '+Inf']);
    assert.equal(bounds.length, 17);
  });

  it('treats equal label sets as one series whatever the key order or object', () => {
    const registry = new MetricsRegistry({ processMetrics: false });
    registry.count('courier_messages_dead_lettered_total', 1, { queue: 'q', reason: 'expired' });
    registry.count('courier_messages_dead_lettered_total', 1, { reason: 'expired', queue: 'q' });
    registry.count('courier_messages_dead_lettered_total', 1, {});
    registry.count('courier_messages_dead_lettered_total');
    const text = registry.render();
    assert.equal(sampleValue(text, 'courier_messages_dead_lettered_total{queue="q",reason="expired"}'), 2);
    assert.equal(sampleValue(text, 'courier_messages_dead_lettered_total'), 2);
  });

  it('finds the series of a label object it has seen by identity, without reading its keys again', () => {
    const registry = new MetricsRegistry({ processMetrics: false });
    let keyReads = 0;
    const labels: MetricLabels = new Proxy(
      { queue: 'orders' },
      {
        ownKeys: (target) => {
          keyReads += 1;
          return Reflect.ownKeys(target);
        },
      },
    );
    for (let i = 0; i < 1000; i++) registry.count('courier_messages_delivered_total', 1, labels);
    assert.equal(keyReads, 1);
    assert.equal(sampleValue(registry.render(), 'courier_messages_delivered_total{queue="orders"}'), 1000);
  });

  it('ignores counter decrements and non-numbers, and names counters with _total', () => {
    const registry = new MetricsRegistry({ processMetrics: false });
    registry.count('courier_things', 2);
    registry.count('courier_things', -1);
    registry.count('courier_things', NaN);
    registry.count('courier_things', Infinity);
    registry.observe('courier_y_seconds', NaN);
    const text = registry.render();
    assert.match(text, /^# TYPE courier_things_total counter$/m);
    assert.equal(sampleValue(text, 'courier_things_total'), 2);
    assert.equal(sampleValue(text, 'courier_y_seconds_count'), undefined);
  });

  it('drops a metric reported as a second type and says so once', () => {
    const logger = recordingLogger();
    const registry = new MetricsRegistry({ processMetrics: false, logger });
    registry.gauge('courier_depth', 5);
    registry.count('courier_depth', 1);
    registry.observe('courier_depth', 1);
    registry.count('courier_depth_total');
    registry.count('courier_depth_total');
    assert.equal(logger.warnings.length, 1);
    assert.equal(logger.warnings[0]?.['metric'], 'courier_depth');
    const text = registry.render();
    assert.match(text, /^# TYPE courier_depth gauge$/m);
    assert.equal(sampleValue(text, 'courier_depth'), 5);
    assert.equal(sampleValue(text, 'courier_depth_total'), 2);
  });

  it('refuses reported values under names it reads itself at scrape time, and exposed names used twice', () => {
    const logger = recordingLogger();
    const registry = new MetricsRegistry({ processMetrics: false, logger });
    registry.gauge('courier_queue_messages_ready', 7, { queue: 'q' });
    registry.gauge('process_resident_memory_bytes', 1);
    registry.count('courier_dupe_total');
    registry.count('courier_dupe');
    assert.equal(registry.render(), '# HELP courier_dupe_total Courier metric courier_dupe_total (not described yet).\n# TYPE courier_dupe_total counter\ncourier_dupe_total 1\n');
    assert.deepEqual(
      logger.warnings.map((fields) => fields['metric']),
      ['courier_queue_messages_ready', 'process_resident_memory_bytes', 'courier_dupe'],
    );
  });

  it('rejects buckets that are not strictly ascending finite numbers', () => {
    for (const buckets of [[], [1, 1], [2, 1], [0.1, Infinity], [NaN]]) {
      assert.throws(() => new MetricsRegistry({ processMetrics: false, buckets }), (error) => isBrokerError(error, 'INVALID_ARGUMENT'));
    }
  });

  it('reads queue, stream and connection gauges from an attached broker at each render', () => {
    const registry = new MetricsRegistry({ processMetrics: false });
    const queue = { name: 'orders', messageCount: 3, unackedCount: 1, consumerCount: 2, storedBytes: 4096 };
    const broker: BrokerStatsSource = {
      listQueues: () => [queue, { name: 'q"2', messageCount: 0, unackedCount: 0, consumerCount: 0, storedBytes: 0 }],
      listStreams: () => [{ stats: () => ({ name: 'events', messageCount: 10, sizeBytes: 999 }) }],
      listConnections: () => [{ info: { protocol: 'mqtt' } }, { info: { protocol: 'amqp' } }, { info: { protocol: 'mqtt' } }],
    };
    registry.attachBroker(broker);
    assert.equal(
      registry.render(),
      [
        '# HELP courier_queue_messages_ready Messages in a queue ready for delivery.',
        '# TYPE courier_queue_messages_ready gauge',
        'courier_queue_messages_ready{queue="orders"} 3',
        'courier_queue_messages_ready{queue="q\\"2"} 0',
        '# HELP courier_queue_messages_unacked Messages of a queue delivered and not yet acknowledged.',
        '# TYPE courier_queue_messages_unacked gauge',
        'courier_queue_messages_unacked{queue="orders"} 1',
        'courier_queue_messages_unacked{queue="q\\"2"} 0',
        '# HELP courier_queue_consumers Consumers attached to a queue.',
        '# TYPE courier_queue_consumers gauge',
        'courier_queue_consumers{queue="orders"} 2',
        'courier_queue_consumers{queue="q\\"2"} 0',
        "# HELP courier_queue_stored_bytes Bytes the queue's log occupies (records and framing, acknowledged ones until their segment is deleted).",
        '# TYPE courier_queue_stored_bytes gauge',
        'courier_queue_stored_bytes{queue="orders"} 4096',
        'courier_queue_stored_bytes{queue="q\\"2"} 0',
        '# HELP courier_stream_messages Records a stream retains.',
        '# TYPE courier_stream_messages gauge',
        'courier_stream_messages{stream="events"} 10',
        "# HELP courier_stream_stored_bytes Bytes the stream's log occupies now.",
        '# TYPE courier_stream_stored_bytes gauge',
        'courier_stream_stored_bytes{stream="events"} 999',
        '# HELP courier_connections Open client connections, by protocol.',
        '# TYPE courier_connections gauge',
        'courier_connections{protocol="amqp"} 1',
        'courier_connections{protocol="mqtt"} 2',
        '',
      ].join('\n'),
    );
    queue.messageCount = 5;
    assert.equal(sampleValue(registry.render(), 'courier_queue_messages_ready{queue="orders"}'), 5);
    registry.attachBroker(undefined);
    assert.equal(registry.render(), '');
  });

  it('adds process metrics that parse as the text format, and keeps rendering after close', () => {
    const registry = new MetricsRegistry();
    try {
      registry.count('courier_messages_published_total');
      const text = registry.render();
      for (const line of text.trimEnd().split('\n')) {
        if (line.startsWith('# ')) assert.match(line, /^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram))$/);
        else assert.match(line, SAMPLE_LINE);
      }
      assert.ok(sampleValue(text, 'process_resident_memory_bytes')! > 0);
      assert.ok(sampleValue(text, 'nodejs_heap_used_bytes')! > 0);
      assert.ok(sampleValue(text, 'process_cpu_seconds_total')! > 0);
      assert.ok(sampleValue(text, 'process_start_time_seconds')! > 1_600_000_000);
      const lag = sampleValue(text, 'nodejs_eventloop_lag_seconds');
      assert.ok(lag !== undefined && lag >= 0);
      assert.match(text, /^# TYPE process_cpu_seconds_total counter$/m);
    } finally {
      registry.close();
      registry.close();
    }
    const after = registry.render();
    assert.equal(sampleValue(after, 'courier_messages_published_total'), 1);
    assert.equal(sampleValue(after, 'nodejs_eventloop_lag_seconds'), undefined, 'the monitor is stopped');
  });
});
