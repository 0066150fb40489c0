/**
 * Topic routing cost against the number of bindings.
 *
 *   npx tsc -p . && node dist/bench/routing-bench.js [--sizes=1000,10000,100000] [--seconds=1]
 *
 * Workload: routing keys `tenant.service.entity.event`. Each size has one tenant per 20 bindings, so the
 * number of bindings a key matches stays about constant while the total grows, as it does when a
 * broker gains subscribers rather than fan-out. Bindings mix exact keys, `*` and `#` patterns per tenant
 * plus a fixed set of cross-tenant wildcards (`#.failed`, `*.billing.#`, ...). Every route goes through
 * `Router.route` on a topic exchange, reusing one RouteResult (the broker's hot path), over 4,096 keys
 * spread uniformly over the tenants, then over 16 hot keys (cache-resident trie paths). At the largest
 * size a naive linear scan (every pattern tested against the key) runs on the same keys for comparison.
 */
import { Router, RouteResult, splitTopic } from '../src/core/routing/index.js';
import { publishResult, type SummaryRow } from './lib/result.js';

const SERVICES = ['orders', 'billing', 'users', 'search', 'mail', 'audit', 'stock', 'shipping'];
const ENTITIES = ['item', 'invoice', 'account', 'cart', 'report', 'session'];
const EVENTS = ['created', 'updated', 'deleted', 'failed', 'viewed'];
const GLOBAL_PATTERNS = [
  '#.failed',
  '*.billing.#',
  '*.*.invoice.*',
  '*.orders.*.created',
  '#.report.#',
  '*.audit.#',
  '*.*.*.deleted',
  '#.session.viewed',
];

interface Options {
  readonly sizes: number[];
  readonly seconds: number;
}

function parseOptions(argv: readonly string[]): Options {
  let sizes = [1_000, 10_000, 100_000];
  let seconds = 1;
  for (const arg of argv) {
    const [name, value] = arg.split('=', 2);
    if (name === '--sizes' && value) sizes = value.split(',').map((size) => Number.parseInt(size, 10));
    else if (name === '--seconds' && value) seconds = Number.parseFloat(value);
    else {
      console.error(`usage: routing-bench [--sizes=1000,10000,100000] [--seconds=1] (unknown ${arg})`);
      process.exit(2);
    }
  }
  if (sizes.some((size) => !Number.isSafeInteger(size) || size < 20) || !(seconds > 0)) {
    console.error('routing-bench: sizes must be integers >= 20 and seconds > 0');
    process.exit(2);
  }
  return { sizes, seconds };
}

/** mulberry32: a small seeded PRNG so every run builds the same bindings and keys. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)]!;
}

function tenantPattern(next: () => number, tenant: string): string {
  const service = pick(next, SERVICES);
  const entity = pick(next, ENTITIES);
  const event = pick(next, EVENTS);
  const roll = next();
  if (roll < 0.4) return `${tenant}.${service}.${entity}.${event}`;
  if (roll < 0.55) return `${tenant}.${service}.*.${event}`;
  if (roll < 0.65) return `${tenant}.*.${entity}.${event}`;
  if (roll < 0.8) return `${tenant}.${service}.#`;
  if (roll < 0.88) return `${tenant}.#.${event}`;
  if (roll < 0.94) return `${tenant}.*.${entity}.*`;
  return `${tenant}.#`;
}

interface Workload {
  readonly bindings: { readonly pattern: string; readonly queue: string }[];
  readonly keys: string[];
}

function buildWorkload(size: number): Workload {
  const next = random(size);
  const tenants = Math.max(1, Math.floor(size / 20));
  const bindings: { pattern: string; queue: string }[] = [];
  for (const pattern of GLOBAL_PATTERNS) bindings.push({ pattern, queue: `global.${pattern}` });
  for (let i = bindings.length; i < size; i++) {
    const tenant = `t${Math.floor(next() * tenants)}`;
    // Two bindings per queue on average: a queue often subscribes to a few patterns.
    bindings.push({ pattern: tenantPattern(next, tenant), queue: `q${Math.floor(i / 2)}` });
  }
  const keys: string[] = [];
  for (let i = 0; i < 4096; i++) {
    keys.push(`t${Math.floor(next() * tenants)}.${pick(next, SERVICES)}.${pick(next, ENTITIES)}.${pick(next, EVENTS)}`);
  }
  return { bindings, keys };
}

interface Measurement {
  readonly routes: number;
  readonly nanoseconds: number;
  readonly destinations: number;
}

function measure(seconds: number, routeOne: (key: string) => number, keys: readonly string[]): Measurement {
  // Warm up so the JIT has compiled the routing path before timing starts (bounded in time too, for
  // the slow linear scan).
  const budget = BigInt(Math.round(seconds * 1e9));
  const warmStart = process.hrtime.bigint();
  for (let i = 0; i < 20_000 && process.hrtime.bigint() - warmStart < budget / 4n; i++) routeOne(keys[i % keys.length]!);
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  let routes = 0;
  let destinations = 0;
  while (elapsed < budget) {
    for (let i = 0; i < 256; i++) destinations += routeOne(keys[(routes + i) % keys.length]!);
    routes += 256;
    elapsed = process.hrtime.bigint() - start;
  }
  return { routes, nanoseconds: Number(elapsed), destinations };
}

/** The naive alternative: test every binding's pattern against the key (words pre-split on both sides). */
function naiveMatch(pattern: readonly string[], key: readonly string[], i: number, j: number): boolean {
  while (i < pattern.length) {
    const word = pattern[i]!;
    if (word === '#') {
      for (let skip = j; skip <= key.length; skip++) if (naiveMatch(pattern, key, i + 1, skip)) return true;
      return false;
    }
    if (j >= key.length || (word !== '*' && word !== key[j])) return false;
    i++;
    j++;
  }
  return j === key.length;
}

function formatInt(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function pad(text: string, width: number): string {
  return text.padStart(width);
}

interface SizeFigures {
  readonly bindings: number;
  readonly buildMs: number;
  readonly heapMb: number;
  readonly routesPerSecond: number;
  readonly nsPerRoute: number;
  readonly matchesPerRoute: number;
  readonly hotNsPerRoute: number;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const figures: SizeFigures[] = [];
  console.log(`topic routing: Node ${process.version}, ${options.seconds}s per size, routes through Router.route on one topic exchange\n`);
  console.log(
    `${pad('bindings', 10)} ${pad('build ms', 9)} ${pad('heap MB', 8)} ${pad('routes/s', 12)} ${pad('ns/route', 9)} ${pad('matches/route', 14)} ${pad('cost vs first', 14)} ${pad('hot ns/route', 13)}`,
  );
  let firstCost: number | undefined;
  let largest: { workload: Workload; router: Router; nsPerRoute: number } | undefined;
  for (const size of options.sizes) {
    const workload = buildWorkload(size);
    const heapBefore = process.memoryUsage().heapUsed;
    const buildStart = process.hrtime.bigint();
    const router = new Router();
    router.addExchange({ name: 'events', type: 'topic', durable: true, autoDelete: false, internal: false, arguments: {} });
    for (const { pattern, queue } of workload.bindings) {
      router.bind({ source: 'events', destination: queue, destinationKind: 'queue', routingKey: pattern, arguments: {} });
    }
    const buildMs = Number(process.hrtime.bigint() - buildStart) / 1e6;
    const heapMb = Math.max(0, process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    const result = new RouteResult();
    const run = measure(options.seconds, (key) => router.route('events', key, undefined, result).queues.length, workload.keys);
    const nsPerRoute = run.nanoseconds / run.routes;
    firstCost ??= nsPerRoute;
    // The same 16 keys over and over: the trie paths stay in the CPU cache, which isolates the
    // algorithmic cost from the cache misses of a larger trie that the uniform run also measures.
    const hot = measure(options.seconds / 2, (key) => router.route('events', key, undefined, result).queues.length, workload.keys.slice(0, 16));
    console.log(
      `${pad(formatInt(size), 10)} ${pad(buildMs.toFixed(0), 9)} ${pad(heapMb.toFixed(1), 8)} ${pad(formatInt((run.routes * 1e9) / run.nanoseconds), 12)} ${pad(nsPerRoute.toFixed(0), 9)} ${pad((run.destinations / run.routes).toFixed(2), 14)} ${pad(`${(nsPerRoute / firstCost).toFixed(2)}x`, 14)} ${pad((hot.nanoseconds / hot.routes).toFixed(0), 13)}`,
    );
    figures.push({
      bindings: size,
      buildMs,
      heapMb,
      routesPerSecond: (run.routes * 1e9) / run.nanoseconds,
      nsPerRoute,
      matchesPerRoute: run.destinations / run.routes,
      hotNsPerRoute: hot.nanoseconds / hot.routes,
    });
    if (largest === undefined || size > largest.workload.bindings.length) largest = { workload, router, nsPerRoute };
  }
  if (largest === undefined) return;

  const { workload, router, nsPerRoute } = largest;
  const compiled = workload.bindings.map(({ pattern, queue }) => ({ words: splitTopic(pattern), queue }));
  const seen = new Set<string>();
  const naiveRoute = (key: string): number => {
    const words = splitTopic(key);
    seen.clear();
    for (const binding of compiled) if (naiveMatch(binding.words, words, 0, 0)) seen.add(binding.queue);
    return seen.size;
  };
  // The comparison is only meaningful if both give the same answer.
  const result = new RouteResult();
  for (const key of workload.keys.slice(0, 200)) {
    const trieQueues = [...router.route('events', key, undefined, result).queues].sort();
    naiveRoute(key);
    const naiveQueues = [...seen].sort();
    if (trieQueues.join('\n') !== naiveQueues.join('\n')) {
      console.error(`routing-bench: trie and linear scan disagree on ${key}`);
      process.exit(1);
    }
  }
  const naive = measure(options.seconds, naiveRoute, workload.keys);
  const naiveNs = naive.nanoseconds / naive.routes;
  console.log(
    `\nlinear scan at ${formatInt(workload.bindings.length)} bindings: ${formatInt((naive.routes * 1e9) / naive.nanoseconds)} routes/s, ${formatInt(naiveNs)} ns/route` +
      ` -> the trie is ${(naiveNs / nsPerRoute).toFixed(0)}x faster (same results checked on 200 keys)`,
  );
  if (options.sizes.length > 1) {
    const ratio = options.sizes[options.sizes.length - 1]! / options.sizes[0]!;
    console.log(
      `bindings grew ${formatInt(ratio)}x; a linear scan's cost grows with them, the trie's with the key length and the matches` +
        ' per key (hot ns/route); what remains of the growth in ns/route is cache misses over a larger trie.',
    );
  }
  await publishRoutingResult(figures, workload.bindings.length, naiveNs);
}

/** Structured figures for bench/run.mjs (written only when it asks for them). */
async function publishRoutingResult(figures: readonly SizeFigures[], linearBindings: number, linearNsPerRoute: number): Promise<void> {
  const first = figures[0]!;
  const last = figures[figures.length - 1]!;
  const summary: SummaryRow[] = figures.map((size) => ({
    metric: `topic routes at ${size.bindings.toLocaleString('en-US')} bindings`,
    value: Math.round(size.routesPerSecond),
    unit: 'routes/s',
  }));
  summary.push({ metric: `linear scan at ${linearBindings.toLocaleString('en-US')} bindings`, value: Math.round(1e9 / linearNsPerRoute), unit: 'routes/s' });
  const bindingGrowth = last.bindings / first.bindings;
  const costGrowth = last.nsPerRoute / first.nsPerRoute;
  await publishResult({
    scenario: 'routing',
    summary,
    verdicts: [
      {
        name: 'routing-cost-not-linear-in-bindings',
        // Linear would be bindingGrowth; a trie pays only for a larger working set (cache misses).
        pass: figures.length < 2 || costGrowth < bindingGrowth / 10,
        detail: `bindings grew ${bindingGrowth.toFixed(0)}x, ns/route grew ${costGrowth.toFixed(2)}x (hot keys ${(last.hotNsPerRoute / first.hotNsPerRoute).toFixed(2)}x)`,
      },
    ],
    details: { sizes: figures, linearScan: { bindings: linearBindings, nsPerRoute: linearNsPerRoute } },
  });
}

await main();
