import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeContentHeader, decodeMethod } from './amqp-definitions.generated.js';
import type { AmqpMethod } from './amqp-definitions.generated.js';
import { FrameReader } from './frame-reader.js';
import type { AmqpFrame } from './frame-reader.js';
import { FrameWriter } from './frame-writer.js';
import { assertCodecError, hex } from './test-support.js';
import { WireWriter } from './wire-writer.js';

const deliver: AmqpMethod = {
  name: 'basic.deliver',
  consumerTag: 'c',
  deliveryTag: 1,
  redelivered: false,
  exchange: '',
  routingKey: 'q',
};

function frames(bytes: Uint8Array): AmqpFrame[] {
  const reader = new FrameReader({ expectProtocolHeader: false, frameMax: 0 });
  return [...reader.read(bytes)] as AmqpFrame[];
}

describe('frame writer: content', () => {
  it('splits bodies at frame-max minus the 8 octets of frame overhead', () => {
    fc.assert(
      fc.property(fc.integer({ min: 64, max: 600 }), fc.integer({ min: 0, max: 3000 }), (frameMax, size) => {
        const body = new Uint8Array(size).map((_, i) => i & 0xff);
        const writer = new FrameWriter({ frameMax });
        writer.methodWithContent(5, deliver, { deliveryMode: 2 }, body);
        const out = frames(writer.take());
        const bodies = out.slice(2);
        assert.equal(bodies.length, Math.ceil(size / (frameMax - 8)));
        for (const f of out) {
          assert.equal(f.channel, 5);
          assert.ok(f.payload.byteLength + 8 <= frameMax);
        }
        for (const f of bodies.slice(0, -1)) assert.equal(f.payload.byteLength, frameMax - 8);
        assert.deepEqual(decodeMethod(out[0]!.payload), deliver);
        assert.equal(decodeContentHeader(out[1]!.payload).bodySize, size);
        assert.deepEqual(new Uint8Array(Buffer.concat(bodies.map((f) => f.payload))), body);
      }),
      { numRuns: 200 },
    );
  });

  it('sends no body frame for an empty body, and one for any body when frame-max is 0', () => {
    const writer = new FrameWriter({ frameMax: 4096 });
    writer.content(1, {}, new Uint8Array(0));
    assert.deepEqual(frames(writer.take()).map((f) => f.type), [2]);
    writer.setFrameMax(0);
    writer.content(1, {}, new Uint8Array(100_000));
    assert.deepEqual(frames(writer.take()).map((f) => [f.type, f.payload.byteLength]), [
      [2, 14],
      [3, 100_000],
    ]);
  });
});

describe('frame writer: limits', () => {
  it('refuses a method or header frame over frame-max and leaves the batch as it was', () => {
    const writer = new FrameWriter({ frameMax: 4096 });
    writer.heartbeat();
    const big: AmqpMethod = { ...deliver, routingKey: 'r'.repeat(255), consumerTag: 'c'.repeat(255) };
    writer.setFrameMax(512);
    assertCodecError(() => writer.method(1, big), 'INTERNAL_ERROR', /frame-max/);
    assertCodecError(() => writer.content(1, { headers: { h: 'x'.repeat(600) } }, new Uint8Array(1)), 'INTERNAL_ERROR', /frame-max/);
    assertCodecError(
      () => writer.methodWithContent(1, deliver, { headers: { h: 'x'.repeat(600) } }, new Uint8Array(1)),
      'INTERNAL_ERROR',
    );
    assert.equal(hex(writer.take()), '08000000000000ce');
  });

  it('refuses a frame-max with no room for a payload', () => {
    assertCodecError(() => new FrameWriter({ frameMax: 8 }), 'INTERNAL_ERROR');
  });
});

describe('wire writer: batches', () => {
  it('never overwrites a taken batch, also when the next batch outgrows the slab', () => {
    const writer = new WireWriter(64);
    writer.bytes(new Uint8Array(40).fill(1));
    const first = writer.take();
    writer.bytes(new Uint8Array(20).fill(2));
    const second = writer.take();
    writer.bytes(new Uint8Array(1000).fill(3)); // grows into a new slab
    const third = writer.take();
    writer.bytes(new Uint8Array(10).fill(4));
    const fourth = writer.take();
    assert.deepEqual(
      [first, second, third, fourth].map(hex),
      [new Uint8Array(40).fill(1), new Uint8Array(20).fill(2), new Uint8Array(1000).fill(3), new Uint8Array(10).fill(4)].map(hex),
    );
    assert.equal(first.buffer, second.buffer); // the same slab, no copy
  });

  it('keeps marks valid across growth', () => {
    const writer = new WireWriter(16);
    const sizeAt = writer.reserve(4);
    writer.bytes(new Uint8Array(100).fill(9));
    writer.patchLong(sizeAt, 100);
    const out = writer.take();
    assert.equal(hex(out.subarray(0, 5)), '0000006409');
    assert.equal(out.byteLength, 104);
  });
});
