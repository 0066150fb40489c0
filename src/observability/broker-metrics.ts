/**
 * Gauges read from the broker when scraped: depth, unacked, consumers and size of each queue and stream,
 * open connections by protocol. Reading them at scrape time costs nothing per message, and the values are
 * exact rather than the last thing some code path happened to report.
 */
import { labelPairs, type ExpositionWriter } from './exposition.js';
import { writeFamily, type Sample } from './metric-catalog.js';

/** What the registry reads of a queue; the core's Queue has these. */
export interface QueueStatsView {
  readonly name: string;
  readonly messageCount: number;
  readonly unackedCount: number;
  readonly consumerCount: number;
  readonly storedBytes: number;
}

export interface StreamStatsView {
  stats(): { readonly name: string; readonly messageCount: number; readonly sizeBytes: number };
}

export interface ConnectionView {
  readonly info: { readonly protocol: string };
}

/** The part of the core's Broker the registry reads, kept narrow so that tests can stand in for it. */
export interface BrokerStatsSource {
  listQueues(): readonly QueueStatsView[];
  listStreams(): readonly StreamStatsView[];
  listConnections(): readonly ConnectionView[];
}

export function writeBrokerMetrics(writer: ExpositionWriter, broker: BrokerStatsSource): void {
  const ready: Sample[] = [];
  const unacked: Sample[] = [];
  const consumers: Sample[] = [];
  const storedBytes: Sample[] = [];
  for (const queue of broker.listQueues()) {
    const pairs = labelPairs({ queue: queue.name });
    ready.push([pairs, queue.messageCount]);
    unacked.push([pairs, queue.unackedCount]);
    consumers.push([pairs, queue.consumerCount]);
    storedBytes.push([pairs, queue.storedBytes]);
  }
  writeFamily(writer, 'courier_queue_messages_ready', ready);
  writeFamily(writer, 'courier_queue_messages_unacked', unacked);
  writeFamily(writer, 'courier_queue_consumers', consumers);
  writeFamily(writer, 'courier_queue_stored_bytes', storedBytes);

  const streamMessages: Sample[] = [];
  const streamBytes: Sample[] = [];
  for (const stream of broker.listStreams()) {
    const stats = stream.stats();
    const pairs = labelPairs({ stream: stats.name });
    streamMessages.push([pairs, stats.messageCount]);
    streamBytes.push([pairs, stats.sizeBytes]);
  }
  writeFamily(writer, 'courier_stream_messages', streamMessages);
  writeFamily(writer, 'courier_stream_stored_bytes', streamBytes);

  const byProtocol = new Map<string, number>();
  for (const connection of broker.listConnections()) {
    byProtocol.set(connection.info.protocol, (byProtocol.get(connection.info.protocol) ?? 0) + 1);
  }
  const connections: Sample[] = [...byProtocol]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([protocol, count]) => [labelPairs({ protocol }), count]);
  writeFamily(writer, 'courier_connections', connections);
}
