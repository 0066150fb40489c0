import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OrderedAcks, type PendingAck } from './ordered-acks.js';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('OrderedAcks', () => {
  it('sends acknowledgements in arrival order even when later messages become durable first [MQTT-4.6.0-2]', async () => {
    const sent: number[] = [];
    const acks = new OrderedAcks((ack: PendingAck) => sent.push(ack.packetId), () => assert.fail('no failure expected'));
    const first = deferred();
    const second = deferred();
    const third = deferred();
    acks.push({ packetId: 1, kind: 'puback', reasonCode: 0 }, first.promise);
    acks.push({ packetId: 2, kind: 'pubrec', reasonCode: 0 }, second.promise);
    acks.push({ packetId: 3, kind: 'puback', reasonCode: 0 }, third.promise);
    third.resolve();
    second.resolve();
    await turn();
    assert.deepEqual(sent, []);
    assert.equal(acks.pending, 3);
    first.resolve();
    await turn();
    assert.deepEqual(sent, [1, 2, 3]);
    assert.equal(acks.pending, 0);
  });

  it('sends an already durable acknowledgement at once, or after the earlier ones it must follow', async () => {
    const sent: number[] = [];
    const acks = new OrderedAcks((ack: PendingAck) => sent.push(ack.packetId), () => assert.fail('no failure expected'));
    acks.ready({ packetId: 1, kind: 'puback', reasonCode: 0 });
    assert.deepEqual(sent, [1], 'nothing pending: sent synchronously');
    const slow = deferred();
    acks.push({ packetId: 2, kind: 'puback', reasonCode: 0 }, slow.promise);
    acks.ready({ packetId: 3, kind: 'puback', reasonCode: 0 });
    assert.deepEqual(sent, [1]);
    assert.equal(acks.pending, 2);
    slow.resolve();
    await turn();
    assert.deepEqual(sent, [1, 2, 3]);
  });

  it('reports a storage failure instead of acknowledging', async () => {
    const failures: unknown[] = [];
    const sent: number[] = [];
    const acks = new OrderedAcks((ack) => sent.push(ack.packetId), (error) => failures.push(error));
    const failing = deferred();
    acks.push({ packetId: 9, kind: 'puback', reasonCode: 0 }, failing.promise);
    failing.reject(new Error('disk full'));
    await turn();
    assert.deepEqual(sent, []);
    assert.equal(failures.length, 1);
  });
});
