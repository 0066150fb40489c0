/**
 * Finding dead letters and explaining them: which queues receive dead-lettered messages (from the
 * queues' `x-dead-letter-*` arguments and the bindings of dead-letter exchanges, or by name), and the
 * reasons recorded in each message's `x-death` header (RabbitMQ's format, src/core/queue/dead-letter.ts).
 * Pure, so it is unit-tested in Node.
 */

export interface QueueArgumentsLike {
  readonly name: string;
  readonly type?: string;
  readonly arguments?: Readonly<Record<string, unknown>>;
}

export interface BindingLike {
  readonly source: string;
  readonly destination: string;
  readonly destinationKind: string;
}

export interface DeathEntry {
  readonly queue: string;
  readonly reason: string;
  readonly count: number;
  readonly exchange: string;
  readonly routingKeys: readonly string[];
  /** When it died, when the header says (seconds since the epoch in the header). */
  readonly time?: Date;
}

const DEAD_LETTER_NAME = /(^|[._-])(dlq|dlx|dead[._-]?letters?|dead)$/i;

/** Names of queues that receive dead letters, sorted. Streams are left out: they cannot be redriven. */
export function deadLetterQueues(queues: readonly QueueArgumentsLike[], bindings: readonly BindingLike[]): string[] {
  const existing = new Set(queues.filter((queue) => queue.type !== 'stream').map((queue) => queue.name));
  const found = new Set<string>();
  for (const queue of queues) {
    const args = queue.arguments ?? {};
    const exchange = args['x-dead-letter-exchange'];
    if (typeof exchange !== 'string') continue;
    const routingKey = args['x-dead-letter-routing-key'];
    if (exchange === '') {
      // The default exchange routes by queue name; without a routing key the message keeps its own,
      // which names no queue we can know in advance.
      if (typeof routingKey === 'string') found.add(routingKey);
      continue;
    }
    for (const binding of bindings) {
      if (binding.source === exchange && binding.destinationKind === 'queue') found.add(binding.destination);
    }
  }
  for (const name of existing) if (DEAD_LETTER_NAME.test(name)) found.add(name);
  return [...found].filter((name) => existing.has(name)).sort();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function timeOf(value: unknown): Date | undefined {
  const seconds = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : undefined;
  return seconds === undefined ? undefined : new Date(seconds * 1000);
}

/** The `x-death` entries of a message's headers (as JSON from the peek endpoint), most recent first. */
export function deathsOf(headers: Readonly<Record<string, unknown>> | undefined): DeathEntry[] {
  const raw = headers?.['x-death'];
  if (!Array.isArray(raw)) return [];
  const entries: DeathEntry[] = [];
  for (const item of raw) {
    if (!isRecord(item)) continue;
    const keys = item['routing-keys'];
    const time = timeOf(item['time']);
    const count = Number(item['count']);
    entries.push({
      queue: typeof item['queue'] === 'string' ? item['queue'] : '?',
      reason: typeof item['reason'] === 'string' ? item['reason'] : 'unknown',
      count: Number.isFinite(count) ? count : 1,
      exchange: typeof item['exchange'] === 'string' ? item['exchange'] : '',
      routingKeys: Array.isArray(keys) ? keys.filter((key): key is string => typeof key === 'string') : [],
      ...(time ? { time } : {}),
    });
  }
  return entries;
}

const REASONS: Readonly<Record<string, string>> = {
  rejected: 'rejected by a consumer (nack / reject without requeue)',
  expired: 'expired (message or queue TTL)',
  maxlen: 'dropped by the queue length limit',
  delivery_limit: 'delivered too many times (x-delivery-limit)',
};

/** A sentence for one death: why, where, and where a redrive sends it back to. */
export function describeDeath(entry: DeathEntry): string {
  const why = REASONS[entry.reason] ?? entry.reason;
  const times = entry.count > 1 ? ` (${entry.count} times)` : '';
  const exchange = entry.exchange === '' ? 'the default exchange' : `exchange ${entry.exchange}`;
  const key = entry.routingKeys[0];
  return `${why} in queue ${entry.queue}${times}; came from ${exchange}${key === undefined ? '' : ` with routing key ${key}`}`;
}

/** Counts of reasons over many messages' first (most recent) deaths, most frequent first. */
export function reasonCounts(messages: readonly { readonly headers?: Readonly<Record<string, unknown>> }[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const message of messages) {
    const reason = deathsOf(message.headers)[0]?.reason ?? 'no x-death header';
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}
