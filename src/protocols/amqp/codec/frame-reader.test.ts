import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isAmqpCodecError } from './codec-error.js';
import { FRAME_SIZE_TOLERANCE, FrameReader, PROTOCOL_HEADER } from './frame-reader.js';
import type { AmqpFrame, FrameReaderEvent } from './frame-reader.js';
import { assertCodecError, fromHex, hex } from './test-support.js';

function frame(type: number, channel: number, payload: Uint8Array, end = 0xce): Uint8Array {
  const bytes = new Uint8Array(payload.byteLength + 8);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, type);
  view.setUint16(1, channel);
  view.setUint32(3, payload.byteLength);
  bytes.set(payload, 7);
  bytes[bytes.byteLength - 1] = end;
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

function drain(reader: FrameReader, ...chunks: Uint8Array[]): FrameReaderEvent[] {
  const events: FrameReaderEvent[] = [];
  for (const chunk of chunks) events.push(...reader.read(chunk));
  return events;
}

function summary(events: FrameReaderEvent[]): unknown[] {
  return events.map((e) => (e.kind === 'frame' ? [e.type, e.channel, hex(e.payload)] : [e.kind, hex(e.received)]));
}

describe('frame reader: protocol header', () => {
  it('accepts AMQP 0-9-1, also split into single octets, and parses frames that follow it', () => {
    const heartbeat = frame(8, 0, new Uint8Array(0));
    const bytes = concat(PROTOCOL_HEADER, heartbeat);
    const whole = drain(new FrameReader(), bytes);
    const split = drain(new FrameReader(), ...[...bytes].map((b) => new Uint8Array([b])));
    const expected = [
      ['protocol-header', '414d515000000901'],
      [8, 0, ''],
    ];
    assert.deepEqual(summary(whole), expected);
    assert.deepEqual(summary(split), expected);
  });

  it('accepts the 0-9 header as 0-9-1, as RabbitMQ does', () => {
    assert.deepEqual(summary(drain(new FrameReader(), fromHex('414d5150 01010009'))), [['protocol-header', '414d515001010009']]);
  });

  it('answers another version or protocol with our header, then reads nothing more', () => {
    const cases: [string, string][] = [
      ['414d5150 00000900', '414d515000000900'], // AMQP 0-9-0
      ['414d5150 03010000', '414d515003010000'], // AMQP 1.0 SASL
      ['474554202f20485454', '47'], // an HTTP request is refused at its first octet
      ['414d51', ''], // incomplete: no decision yet
    ];
    for (const [input, received] of cases) {
      const reader = new FrameReader();
      const events = drain(reader, fromHex(input));
      if (received === '') {
        assert.deepEqual(events, []);
        continue;
      }
      assert.deepEqual(events, [{ kind: 'protocol-mismatch', received: fromHex(received), reply: PROTOCOL_HEADER }]);
      assert.deepEqual(drain(reader, frame(8, 0, new Uint8Array(0))), []);
      assert.equal(reader.buffered, 0);
    }
  });

  it('can start directly with frames', () => {
    assert.deepEqual(summary(drain(new FrameReader({ expectProtocolHeader: false }), frame(8, 0, new Uint8Array(0)))), [
      [8, 0, ''],
    ]);
  });
});

describe('frame reader: frames', () => {
  const stream = concat(
    frame(1, 0, fromHex('000a001f 07ff 00020000 003c')),
    frame(2, 1, new Uint8Array(20).fill(2)),
    frame(3, 1, new Uint8Array(300).fill(3)),
    frame(3, 65535, new Uint8Array(0)),
    frame(8, 0, new Uint8Array(0)),
  );

  it('returns frames lying in one chunk as views of it, without copying', () => {
    const reader = new FrameReader({ expectProtocolHeader: false });
    const events = drain(reader, stream);
    assert.equal(events.length, 5);
    for (const event of events) assert.equal((event as AmqpFrame).payload.buffer, stream.buffer);
    assert.equal(reader.buffered, 0);
  });

  it('yields the same frames however the stream is split into chunks', () => {
    const expected = summary(drain(new FrameReader({ expectProtocolHeader: false }), stream));
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.byteLength - 1 }), { maxLength: 12 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), stream.byteLength];
        const chunks = points.slice(1).map((end, i) => stream.slice(points[i], end));
        const reader = new FrameReader({ expectProtocolHeader: false });
        assert.deepEqual(summary(drain(reader, ...chunks)), expected);
        assert.equal(reader.buffered, 0);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps assembled payloads intact when later chunks arrive', () => {
    const reader = new FrameReader({ expectProtocolHeader: false });
    const bytes = frame(3, 1, new Uint8Array(100).fill(7));
    const first = drain(reader, bytes.slice(0, 50), bytes.slice(50)) as AmqpFrame[];
    drain(reader, frame(3, 1, new Uint8Array(100).fill(9)));
    assert.deepEqual(first[0]?.payload, new Uint8Array(100).fill(7));
  });

  it('counts buffered octets of an incomplete frame', () => {
    const reader = new FrameReader({ expectProtocolHeader: false });
    const bytes = frame(3, 1, new Uint8Array(100));
    assert.deepEqual(drain(reader, bytes.slice(0, 5)), []);
    assert.equal(reader.buffered, 5);
    assert.deepEqual(drain(reader, bytes.slice(5, 60)), []);
    assert.equal(reader.buffered, 60);
    assert.equal(drain(reader, bytes.slice(60)).length, 1);
    assert.equal(reader.buffered, 0);
  });
});

describe('frame reader: errors', () => {
  it('refuses a frame over frame-max as soon as its header arrives', () => {
    const reader = new FrameReader({ expectProtocolHeader: false, frameMax: 4096 });
    const header = frame(3, 1, new Uint8Array(4096 + 1)).slice(0, 7);
    assert.throws(() => drain(reader, header), (error: unknown) => isAmqpCodecError(error, 'FRAME_ERROR'));
  });

  it('tolerates frames up to 8 octets over frame-max, like RabbitMQ, and no more', () => {
    const limit = 4096 - 8 + FRAME_SIZE_TOLERANCE;
    assert.equal(drain(new FrameReader({ expectProtocolHeader: false }), frame(3, 1, new Uint8Array(limit))).length, 1);
    assertCodecError(() => drain(new FrameReader({ expectProtocolHeader: false }), frame(3, 1, new Uint8Array(limit + 1))), 'FRAME_ERROR', /frame-max/);
  });

  it('applies a new frame-max to the frames that follow', () => {
    const reader = new FrameReader({ expectProtocolHeader: false });
    reader.setFrameMax(131072);
    assert.equal(drain(reader, frame(3, 1, new Uint8Array(100_000))).length, 1);
    reader.setFrameMax(0);
    assert.equal(drain(reader, frame(3, 1, new Uint8Array(200_000))).length, 1);
  });

  it('refuses a wrong frame-end octet, whether the frame is in one chunk or assembled', () => {
    const bad = frame(1, 1, fromHex('0014000a 00'), 0xcd);
    assertCodecError(() => drain(new FrameReader({ expectProtocolHeader: false }), bad), 'FRAME_ERROR', /0xcd/);
    assertCodecError(
      () => drain(new FrameReader({ expectProtocolHeader: false }), bad.slice(0, 3), bad.slice(3)),
      'FRAME_ERROR',
      /0xcd/,
    );
  });

  it('refuses unknown frame types and heartbeats with a payload', () => {
    assertCodecError(() => drain(new FrameReader({ expectProtocolHeader: false }), frame(4, 0, new Uint8Array(0))), 'FRAME_ERROR', /type 4/);
    assertCodecError(() => drain(new FrameReader({ expectProtocolHeader: false }), frame(8, 0, new Uint8Array(1))), 'FRAME_ERROR', /heartbeat/);
  });

  it('stays failed after an error: the stream has lost sync', () => {
    const reader = new FrameReader({ expectProtocolHeader: false });
    let first: unknown;
    try {
      drain(reader, frame(9, 0, new Uint8Array(0)));
    } catch (error) {
      first = error;
    }
    assert.ok(isAmqpCodecError(first, 'FRAME_ERROR'));
    reader.push(frame(8, 0, new Uint8Array(0)));
    assert.throws(() => reader.next(), (error: unknown) => error === first);
  });
});
