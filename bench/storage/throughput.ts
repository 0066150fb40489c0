/**
 * Write throughput of 1 KiB messages, at two levels: straight into one FileLog (the storage engine alone)
 * and through the broker (encode, route, enqueue into one durable queue, confirm after `durable`).
 * Both run pipelined, many appends in flight, so group commit has something to gather.
 */
import { join } from 'node:path';
import { createMessage } from '../../src/core/message/message.js';
import type { FsyncPolicy } from '../../src/core/ports.js';
import { FileLogStore } from '../../src/storage/index.js';
import { RssSampler } from '../lib/memory.js';
import { runPipeline } from '../lib/pipeline.js';
import { sequencedBody } from './body.js';
import { benchConnectionInfo, benchPrincipal, openFileBroker } from './file-broker.js';

export interface ThroughputParams {
  readonly directory: string;
  readonly fsync: FsyncPolicy['mode'];
  readonly seconds: number;
  readonly window: number;
  readonly chunk: number;
}

export interface ThroughputResult {
  readonly operations: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** Writes (fsync never) or write+fdatasync rounds (fsync always) that confirmed the operations. */
  readonly commits: number;
  readonly perCommit: number;
  /** Process CPU time over wall time: 1.0 is one core fully busy. */
  readonly cpuCores: number;
  readonly maxRss: number;
}

function policy(mode: FsyncPolicy['mode']): FsyncPolicy {
  if (mode === 'interval') throw new Error('the storage bench measures fsync always and never');
  return { mode };
}

async function measured(run: () => Promise<{ completed: number; seconds: number; commits: number }>): Promise<ThroughputResult> {
  const sampler = new RssSampler().start();
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const outcome = await run();
  const cpu = process.cpuUsage(cpuBefore);
  const wall = (performance.now() - wallBefore) / 1000;
  return {
    operations: outcome.completed,
    seconds: outcome.seconds,
    perSecond: outcome.completed / outcome.seconds,
    commits: outcome.commits,
    perCommit: outcome.completed / Math.max(1, outcome.commits),
    cpuCores: (cpu.user + cpu.system) / 1e6 / wall,
    maxRss: sampler.stop(),
  };
}

/** Appends of 1 KiB records to one log, each confirmed by `flush()`. */
export async function measureLogAppends(params: ThroughputParams): Promise<ThroughputResult> {
  const store = new FileLogStore({ directory: join(params.directory, 'logs') });
  const log = await store.open('bench-log', { fsync: policy(params.fsync) });
  const payload = sequencedBody(0);
  try {
    return await measured(() =>
      runPipeline({
        window: params.window,
        chunk: params.chunk,
        seconds: params.seconds,
        // The log copies the payload into its write batch, so one buffer serves every append.
        issue: () => {
          log.append(1, Date.now(), payload);
          return log.flush();
        },
      }),
    );
  } finally {
    await store.close();
  }
}

/** Persistent 1 KiB messages published into one durable queue, each confirmed by its `durable` promise. */
export async function measureBrokerPublish(params: ThroughputParams): Promise<ThroughputResult> {
  const opened = await openFileBroker(params.directory, policy(params.fsync));
  try {
    const connection = opened.broker.connect(benchPrincipal, benchConnectionInfo);
    await connection.declareQueue({ name: 'bench-publish', durable: true });
    return await measured(() =>
      runPipeline({
        window: params.window,
        chunk: params.chunk,
        seconds: params.seconds,
        issue: (sequence) => {
          const outcome = connection.publish(
            createMessage({ routingKey: 'bench-publish', body: sequencedBody(sequence), persistent: true }),
          );
          if (outcome.routed !== 1) throw new Error(`message ${sequence} was routed to ${outcome.routed} queues`);
          return outcome.durable;
        },
      }),
    );
  } finally {
    await opened.close();
  }
}
