/**
 * Property: any sequence of publishes, gets, acks, nacks, channel closes, purges and broker restarts leaves a
 * durable queue equal to a simple model of it: the ready messages in FIFO order (a requeued message goes
 * back to its place by sequence), the unacked count, and the redelivered flag and delivery count of every
 * message handed out. Runs over the file store (small segments, restarts) and over the memory store.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Broker } from '../../src/core/broker.js';
import type { Delivery } from '../../src/core/channel.js';
import type { Log, LogOptions, LogStore } from '../../src/core/ports.js';
import { MemoryLogStore, MemoryMetadataStore } from '../../src/storage/index.js';
import { bodyText, guest, openHarness, settle, textMessage, type Harness, type StoreKind } from '../support/broker-harness.js';

const QUEUE = 'model';

type Op =
  | { readonly kind: 'publish'; readonly count: number; readonly padding: number }
  | { readonly kind: 'get'; readonly then: 'noAck' | 'keep' | 'ack' | 'requeue' | 'drop' }
  | { readonly kind: 'getAckMany'; readonly count: number }
  | { readonly kind: 'ackOne'; readonly pick: number }
  | { readonly kind: 'nackOne'; readonly pick: number; readonly requeue: boolean }
  | { readonly kind: 'ackAll' }
  | { readonly kind: 'closeChannel' }
  | { readonly kind: 'purge' }
  | { readonly kind: 'restart' };

function opArbitrary(withRestarts: boolean): fc.Arbitrary<Op> {
  const ops: fc.WeightedArbitrary<Op>[] = [
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('publish' as const), count: fc.integer({ min: 1, max: 40 }), padding: fc.integer({ min: 0, max: 600 }) }) },
    { weight: 10, arbitrary: fc.record({ kind: fc.constant('get' as const), then: fc.constantFrom('noAck', 'keep', 'ack', 'requeue', 'drop') }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('getAckMany' as const), count: fc.integer({ min: 1, max: 60 }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('ackOne' as const), pick: fc.nat() }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('nackOne' as const), pick: fc.nat(), requeue: fc.boolean() }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'ackAll' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'closeChannel' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'purge' as const }) },
  ];
  if (withRestarts) ops.push({ weight: 2, arbitrary: fc.constant({ kind: 'restart' as const }) });
  return fc.oneof(...ops);
}

interface ModelMessage {
  readonly seq: number;
  /** Times it was handed out so far. */
  deliveries: number;
}

/** The queue as a list sorted by sequence number plus the deliveries out on the (one) channel. */
class QueueModel {
  ready: ModelMessage[] = [];
  readonly outstanding = new Map<number, ModelMessage>();
  nextSeq = 0;

  publish(): number {
    const seq = this.nextSeq++;
    this.ready.push({ seq, deliveries: 0 });
    return seq;
  }

  /** The head, counted as delivered once more. */
  take(): ModelMessage | undefined {
    const head = this.ready.shift();
    if (head) head.deliveries += 1;
    return head;
  }

  /** Back to its place by sequence. */
  returnToQueue(message: ModelMessage): void {
    let index = this.ready.length;
    while (index > 0 && this.ready[index - 1]!.seq > message.seq) index -= 1;
    this.ready.splice(index, 0, message);
  }

  returnAllOutstanding(): void {
    for (const message of this.outstanding.values()) this.returnToQueue(message);
    this.outstanding.clear();
  }

  /** Outstanding delivery tags in ascending order; `pick` chooses one. */
  pickTag(pick: number): number | undefined {
    const tags = [...this.outstanding.keys()].sort((a, b) => a - b);
    return tags.length === 0 ? undefined : tags[pick % tags.length];
  }
}

function seqOf(delivery: Delivery): number {
  return Number(bodyText(delivery)!.split(':')[0]);
}

/** Runs one op against the broker and the model, checking every delivery against the model's head. */
async function apply(h: Harness, model: QueueModel, op: Op): Promise<void> {
  const get = async (noAck: boolean): Promise<Delivery | undefined> => {
    const delivery = await h.connection.get(h.channel, QUEUE, noAck);
    const expected = model.take();
    if (!expected) {
      assert.equal(delivery && seqOf(delivery), undefined, 'the queue should be empty');
      return undefined;
    }
    assert.ok(delivery, `expected message ${expected.seq}, the queue gave nothing`);
    assert.deepEqual(
      { seq: seqOf(delivery), redelivered: delivery.redelivered, deliveryCount: delivery.deliveryCount },
      { seq: expected.seq, redelivered: expected.deliveries > 1, deliveryCount: expected.deliveries },
      'the head of the queue',
    );
    if (!noAck) model.outstanding.set(delivery.deliveryTag, expected);
    return delivery;
  };
  const settle = (tag: number, action: 'ack' | 'requeue' | 'drop'): void => {
    const message = model.outstanding.get(tag)!;
    model.outstanding.delete(tag);
    if (action === 'ack') h.channel.ack(tag);
    else h.channel.nack(tag, false, action === 'requeue');
    if (action === 'requeue') model.returnToQueue(message);
  };

  switch (op.kind) {
    case 'publish': {
      let durable: Promise<void> = Promise.resolve();
      for (let i = 0; i < op.count; i++) {
        const seq = model.publish();
        const outcome = h.connection.publish(textMessage(`${seq}:${'p'.repeat(op.padding)}`, { routingKey: QUEUE, persistent: true }));
        assert.equal(outcome.routed, 1);
        durable = outcome.durable;
      }
      await durable;
      return;
    }
    case 'get': {
      const delivery = await get(op.then === 'noAck');
      if (delivery && op.then !== 'noAck' && op.then !== 'keep') settle(delivery.deliveryTag, op.then);
      return;
    }
    case 'getAckMany':
      for (let i = 0; i < op.count; i++) {
        const delivery = await get(false);
        if (!delivery) return;
        settle(delivery.deliveryTag, 'ack');
      }
      return;
    case 'ackOne':
    case 'nackOne': {
      const tag = model.pickTag(op.pick);
      if (tag === undefined) return;
      settle(tag, op.kind === 'ackOne' ? 'ack' : op.requeue ? 'requeue' : 'drop');
      return;
    }
    case 'ackAll':
      // Tag 0 with `multiple`: every outstanding delivery of the channel.
      h.channel.ack(0, true);
      model.outstanding.clear();
      return;
    case 'closeChannel':
      h.connection.closeChannel(h.channel);
      h.channel = h.connection.openChannel();
      model.returnAllOutstanding();
      return;
    case 'purge':
      assert.equal(await h.connection.purgeQueue(QUEUE), model.ready.length, 'purge removes the ready messages');
      model.ready = [];
      return;
    case 'restart':
      await h.restart();
      model.returnAllOutstanding();
      return;
  }
}

function assertCounts(h: Harness, model: QueueModel, after: string): void {
  const queue = h.broker.getQueue(QUEUE);
  assert.ok(queue, 'the durable queue exists');
  assert.deepEqual(
    { ready: queue.messageCount, unacked: queue.unackedCount },
    { ready: model.ready.length, unacked: model.outstanding.size },
    `counts after ${after}`,
  );
}

async function runScenario(store: StoreKind, ops: readonly Op[]): Promise<void> {
  const h = await openHarness({ store, fsync: { mode: 'never' }, segmentBytes: 4096 });
  try {
    await h.connection.declareQueue({ name: QUEUE, durable: true });
    const model = new QueueModel();
    for (const [index, op] of ops.entries()) {
      await apply(h, model, op);
      assertCounts(h, model, `op ${index} ${JSON.stringify(op)}`);
    }
    // Everything still out comes back, then the whole queue must come out in the model's order.
    await apply(h, model, { kind: 'closeChannel' });
    while (model.ready.length > 0) await apply(h, model, { kind: 'get', then: 'ack' });
    await apply(h, model, { kind: 'get', then: 'ack' });
    assertCounts(h, model, 'the final drain');
    if (store === 'file') {
      await h.restart();
      assertCounts(h, model, 'a restart after the drain');
    }
  } finally {
    await h.close();
  }
}

describe('queue model (property)', () => {
  it('over the file store with restarts, the queue behaves like the model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArbitrary(true), { minLength: 1, maxLength: 50, size: 'medium' }), (ops) => runScenario('file', ops)),
      { numRuns: 150 },
    );
  });

  it('over the memory store, the queue behaves like the model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArbitrary(false), { minLength: 1, maxLength: 80, size: 'medium' }), (ops) => runScenario('memory', ops)),
      { numRuns: 400 },
    );
  });
});

/** Logs whose segment deletion waits for the test to open a gate, recording whether the log was closed meanwhile. */
class GatedTruncationStore implements LogStore {
  truncationsInProgress = 0;
  closedDuringTruncation = false;
  private gate: Promise<void>;
  private openGate: () => void = () => undefined;

  constructor(private readonly inner: LogStore) {
    this.gate = new Promise((resolve) => {
      this.openGate = resolve;
    });
  }

  release(): void {
    this.openGate();
  }

  async open(name: string, options: LogOptions): Promise<Log> {
    const log = await this.inner.open(name, options);
    return new Proxy(log, {
      get: (target, property) => {
        if (property === 'truncateBefore') {
          return async (offset: number): Promise<void> => {
            this.truncationsInProgress += 1;
            try {
              await this.gate;
              await target.truncateBefore(offset);
            } finally {
              this.truncationsInProgress -= 1;
            }
          };
        }
        if (property === 'close') {
          return (): Promise<void> => {
            if (this.truncationsInProgress > 0) this.closedDuringTruncation = true;
            return target.close();
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  remove(name: string): Promise<void> {
    return this.inner.remove(name);
  }

  list(): Promise<string[]> {
    return this.inner.list();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

describe('queue regressions found by the model', () => {
  // Found by the file-store property ([publish 22, publish 33, publish 31, restart] then the final drain and
  // restart): the queue started segment deletion in the background and closed its log without waiting, so
  // the deletion went on after close and removed segment files under the reopened log (ENOENT at open).
  it('closing a queue waits for the segment deletion it started', async () => {
    const logStore = new GatedTruncationStore(new MemoryLogStore());
    const broker = await Broker.open({
      logStore,
      transientLogStore: new MemoryLogStore(),
      metadataStore: new MemoryMetadataStore(),
      fsync: { mode: 'never' },
    });
    let closing: Promise<void> | undefined;
    try {
      const connection = broker.connect(guest, { protocol: 'test', remoteAddress: '127.0.0.1' });
      await connection.declareQueue({ name: QUEUE, durable: true });
      let durable: Promise<void> = Promise.resolve();
      for (let i = 0; i < 300; i++) durable = connection.publish(textMessage(`${i}`, { routingKey: QUEUE, persistent: true })).durable;
      await durable;
      const channel = connection.openChannel();
      for (let i = 0; i < 300; i++) channel.ack((await connection.get(channel, QUEUE, false))!.deliveryTag);
      await settle();
      assert.equal(logStore.truncationsInProgress, 1, 'settling 300 messages started a segment deletion');
      closing = broker.close();
      await settle();
      logStore.release();
      await closing;
      assert.equal(logStore.closedDuringTruncation, false, 'the log was closed while its segments were being deleted');
    } finally {
      logStore.release();
      await (closing ?? broker.close());
    }
  });
});
