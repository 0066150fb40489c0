// Benchmark dispatcher.
//
//   npm run bench -- SCENARIO... [--quick] [--against=PEER,...] [-- ARGS-FOR-THE-SCENARIOS]
//   npm run bench -- --list
//
// Each scenario is a compiled script under dist/bench/ run in a process of its own (npm run bench builds
// first). It prints its own tables and, when COURIER_BENCH_RESULT names a file, writes its figures there
// as JSON ({ scenario, summary, verdicts, details }, see bench/lib/result.ts). This script gathers them
// into one result file under bench/results/ and prints a summary table.
//
// Extending: a protocol scenario is one more entry in SCENARIOS. Peer brokers (--against) go in PEERS (and
// their launchers in bench/peers/registry.ts), and a scenario lists the peers it can drive in `peers`; the
// scenario script receives them as `--against=name,...` and starts / measures / stops them itself (Courier
// from this checkout too), so figures for Courier and its peers come from one run of one harness.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const resultsDirectory = join(root, 'bench', 'results');

/** name -> what it measures, the compiled script, and its arguments. */
const SCENARIOS = new Map([
  [
    'storage',
    {
      description:
        'disk fsync rate, FileLog and broker appends/s (fsync always / never), 1,000,000-message backlog: RSS, recovery after kill -9, FIFO drain',
      script: 'dist/bench/storage-bench.js',
      args: ({ quick }) => (quick ? ['--quick'] : []),
      peers: [],
    },
  ],
  [
    'routing',
    {
      description: 'topic routing cost at 1,000 / 10,000 / 100,000 bindings, trie against a linear scan',
      script: 'dist/bench/routing-bench.js',
      args: ({ quick }) => (quick ? ['--seconds=0.3'] : []),
      peers: [],
    },
  ],
  ...[
    ['mqtt-qos0', 'MQTT QoS 0 throughput: 1 -> 1 and 1 -> 10, 16 B and 1 KiB bodies, fixed message count'],
    ['mqtt-qos1', 'MQTT QoS 1 throughput (publisher window 1,000): 1 -> 1 and 1 -> 10, 16 B and 1 KiB bodies'],
    ['mqtt-latency', 'MQTT QoS 1 latency p50 / p99 / p99.9 at a fixed 5,000 msg/s, timed from the schedule'],
    ['mqtt-fanin', 'MQTT QoS 0 / 1 fan-in: 10 publisher processes -> 1 subscriber, 16 B and 1 KiB bodies'],
    ['mqtt-durable', 'MQTT QoS 1 into a persistent session (durable queue, acked once on disk): 1 -> 1, 16 B and 1 KiB'],
  ].map(([name, description]) => [
    name,
    {
      description,
      script: 'dist/bench/mqtt-bench.js',
      args: ({ quick }) => [`--scenario=${name}`, ...(quick ? ['--quick'] : [])],
      peers: ['mosquitto', 'aedes', 'rabbitmq', 'nats'],
    },
  ]),
  ...[
    ['amqp-transient', 'AMQP transient publish -> consume: 1 KiB, one producer, one consumer (prefetch 1,000), raw pre-encoded frames'],
    ['amqp-persistent', 'AMQP persistent publish with confirms to a durable queue while one consumer (prefetch 1,000) drains it, 1 KiB'],
    ['amqp-backlog', 'AMQP backlog: 1,000,000 persistent 1 KiB messages confirmed into a durable queue, RSS at rest, drain rate (--quick: 100,000)'],
  ].map(([name, description]) => [
    name,
    {
      description,
      script: 'dist/bench/amqp-bench.js',
      args: ({ quick }) => [`--scenario=${name}`, ...(quick ? ['--quick'] : [])],
      peers: ['rabbitmq'],
    },
  ]),
  [
    'stomp-throughput',
    {
      description: 'STOMP 1.2 publish -> consume through /queue/, 16 B and 1 KiB, receipts every 100 (window 1,000), ack:client prefetch 1,000',
      script: 'dist/bench/stomp-bench.js',
      args: ({ quick }) => (quick ? ['--quick'] : []),
      peers: ['rabbitmq'],
    },
  ],
  [
    'http-publish',
    {
      description: 'HTTP POST /api/queues/{q}/messages with keep-alive and 64 requests in flight, 16 B and 1 KiB, consumed by long-poll GET + ack',
      script: 'dist/bench/http-bench.js',
      args: ({ quick }) => (quick ? ['--quick'] : []),
      peers: ['rabbitmq'],
    },
  ],
  [
    'mqtt-connections',
    {
      description: 'broker RSS with 10,000 idle MQTT connections (all CONNACKed), connect rate, per-connection cost',
      script: 'dist/bench/connections-bench.js',
      args: ({ quick }) => (quick ? ['--quick'] : []),
      peers: ['mosquitto', 'aedes', 'rabbitmq', 'nats'],
    },
  ],
]);

/** Peer brokers a scenario can be compared with (--against); launchers in bench/peers/ (registry.ts). */
const PEERS = new Map([
  ['mosquitto', 'Mosquitto (Debian package; bench/peers/install.sh)'],
  ['aedes', 'Aedes (npm)'],
  ['rabbitmq', 'RabbitMQ with its MQTT and STOMP plugins (management for http-publish) (Debian package; bench/peers/install.sh)'],
  ['nats', 'NATS with its MQTT gateway on JetStream (Debian package; bench/peers/install.sh)'],
]);

function usage() {
  const width = Math.max(...[...SCENARIOS.keys()].map((name) => name.length));
  const lines = [
    'usage: npm run bench -- SCENARIO... [--quick] [--against=PEER,...] [-- ARGS-FOR-THE-SCENARIOS]',
    '',
    'scenarios:',
    ...[...SCENARIOS].map(([name, scenario]) => `  ${name.padEnd(width)}  ${scenario.description}`),
    '',
    `peers for --against: ${PEERS.size === 0 ? 'none yet' : [...PEERS.keys()].join(', ')}`,
    'results: bench/results/<time>-<scenarios>.json, plus a summary table on stdout',
  ];
  return lines.join('\n');
}

function fail(message) {
  console.error(`bench: ${message}\n`);
  console.error(usage());
  process.exit(2);
}

function parseArguments(argv) {
  const scenarios = [];
  const passThrough = [];
  let quick = false;
  let against = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      passThrough.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '--help' || arg === '-h' || arg === '--list') {
      console.log(usage());
      process.exit(0);
    }
    if (arg === '--quick') quick = true;
    else if (arg === '--against') against = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (arg.startsWith('--against=')) against = arg.slice('--against='.length).split(',').filter(Boolean);
    else if (arg.startsWith('-')) fail(`unknown option ${arg}`);
    else if (!SCENARIOS.has(arg)) fail(`unknown scenario '${arg}'`);
    else if (!scenarios.includes(arg)) scenarios.push(arg);
  }
  if (scenarios.length === 0) fail('name at least one scenario');
  for (const peer of against) {
    if (!PEERS.has(peer)) fail(`unknown peer '${peer}'`);
    for (const name of scenarios) {
      if (!SCENARIOS.get(name).peers.includes(peer)) fail(`scenario '${name}' cannot be run against '${peer}'`);
    }
  }
  return { scenarios, quick, against, passThrough };
}

function gitCommit() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${commit} (with uncommitted changes)` : commit;
  } catch {
    return undefined;
  }
}

function runScenario(script, args, resultPath) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, script), ...args], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, COURIER_BENCH_RESULT: resultPath },
    });
    // Ctrl-C reaches the child through the terminal's process group; wait for it to clean up.
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => resolve({ code: null, signal: null, error: error.message }));
  });
}

async function readResult(path) {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  } finally {
    await rm(path, { force: true });
  }
}

function formatValue(value) {
  return typeof value === 'number' ? value.toLocaleString('en-US') : String(value);
}

async function main() {
  const options = parseArguments(process.argv.slice(2));
  for (const name of options.scenarios) {
    const { script } = SCENARIOS.get(name);
    if (!existsSync(join(root, script))) {
      console.error(`bench: ${script} is missing; run through 'npm run bench', which builds first`);
      process.exit(1);
    }
  }
  const { describeMachine, machineLine } = await import('../dist/bench/lib/machine.js');
  const { formatTable } = await import('../dist/bench/lib/table.js');
  const machine = describeMachine();
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const label = `${options.scenarios.join('+')}${options.quick ? '-quick' : ''}`;
  await mkdir(resultsDirectory, { recursive: true });

  const runs = [];
  for (const name of options.scenarios) {
    const scenario = SCENARIOS.get(name);
    const args = [...scenario.args(options), ...(options.against.length > 0 ? [`--against=${options.against.join(',')}`] : []), ...options.passThrough];
    console.log(`\n=== ${name}: node ${scenario.script} ${args.join(' ')}`.trimEnd());
    const resultPath = join(resultsDirectory, `.${stamp}-${name}.partial.json`);
    const began = performance.now();
    const exit = await runScenario(scenario.script, args, resultPath);
    runs.push({
      scenario: name,
      command: ['node', scenario.script, ...args].join(' '),
      exitCode: exit.code,
      signal: exit.signal,
      ...(exit.error ? { error: exit.error } : {}),
      seconds: Number(((performance.now() - began) / 1000).toFixed(1)),
      result: await readResult(resultPath),
    });
  }

  const file = join(resultsDirectory, `${stamp}-${label}.json`);
  const record = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    quick: options.quick,
    against: options.against,
    commit: gitCommit(),
    machine,
    runs,
  };
  await writeFile(file, `${JSON.stringify(record, null, 2)}\n`, 'utf8');

  console.log(`\n=== summary (${machineLine(machine)})`);
  const rows = [];
  for (const run of runs) {
    if (!run.result) {
      rows.push([run.scenario, 'no result', '', run.exitCode === 0 ? '' : `exit ${run.exitCode ?? run.signal}`]);
      continue;
    }
    for (const row of run.result.summary) rows.push([run.scenario, row.metric, formatValue(row.value), row.unit]);
  }
  console.log(formatTable(['scenario', 'metric', 'value', 'unit'], rows, 2));
  const verdicts = runs.flatMap((run) => (run.result?.verdicts ?? []).map((verdict) => ({ ...verdict, scenario: run.scenario })));
  if (verdicts.length > 0) console.log('');
  for (const verdict of verdicts) console.log(`${verdict.pass ? 'PASS' : 'FAIL'} ${verdict.scenario}/${verdict.name}: ${verdict.detail}`);
  console.log(`\nresults: ${file}`);
  const failed = runs.some((run) => run.exitCode !== 0) || verdicts.some((verdict) => !verdict.pass);
  process.exitCode = failed ? 1 : 0;
}

await main();
