// Random and mutated bytes through every decoder: the only acceptable failure is an AmqpCodecError,
// and every call must return (a hang would time the test out).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeContentHeader, decodeMethod, encodeContentHeader, encodeMethod, METHODS } from './amqp-definitions.generated.js';
import type { AmqpMethod, BasicProperties } from './amqp-definitions.generated.js';
import { isAmqpCodecError } from './codec-error.js';
import { decodeFieldTable, encodeFieldTable } from './field-table.js';
import { FrameReader, PROTOCOL_HEADER } from './frame-reader.js';
import type { FrameReaderEvent } from './frame-reader.js';
import { anyMethodArb, basicPropertiesArb, fieldTableArb } from './test-support.js';
import { WireWriter } from './wire-writer.js';

const RUNS = 2000;

/** Runs `fn`; returns its result, or undefined when it threw an AmqpCodecError; fails on anything else. */
function typedOnly<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (error) {
    if (isAmqpCodecError(error)) return undefined;
    assert.fail(`expected only AmqpCodecError, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  }
}

function encodeMethodPayload(method: AmqpMethod): Uint8Array {
  const writer = new WireWriter();
  encodeMethod(0, method, writer);
  const frame = writer.take();
  return frame.subarray(7, frame.byteLength - 1);
}

function encodeHeaderPayload(properties: BasicProperties, bodySize: number): Uint8Array {
  const writer = new WireWriter();
  encodeContentHeader(0, 60, bodySize, properties, writer);
  const frame = writer.take();
  return frame.subarray(7, frame.byteLength - 1);
}

/** What a decoded method re-encodes to must decode to the same method: decoding normalises once. */
function checkMethodStable(payload: Uint8Array): void {
  const method = typedOnly(() => decodeMethod(payload));
  if (method === undefined) return;
  assert.deepEqual(decodeMethod(encodeMethodPayload(method)), method);
}

function checkHeaderStable(payload: Uint8Array): void {
  const header = typedOnly(() => decodeContentHeader(payload));
  if (header === undefined) return;
  // The encoder always writes weight 0, the only weight AMQP 0-9-1 allows.
  assert.deepEqual(decodeContentHeader(encodeHeaderPayload(header.properties, header.bodySize)), { ...header, weight: 0 });
}

const knownIdArb = fc
  .constantFrom(...Object.values(METHODS))
  .map((info) => new Uint8Array([info.classId >> 8, info.classId & 0xff, info.methodId >> 8, info.methodId & 0xff]));

/** Bytes that are mostly small values and table tags, so decoders get past their first checks. */
const plausibleBytesArb = fc.uint8Array({ maxLength: 200 }).chain((noise) =>
  fc
    .array(fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 0x53, 0x49, 0x74, 0x46, 0x41, 0x56, 0x78, 0x6c, 0x44, 0x54), fc.nat(255)), {
      maxLength: 200,
    })
    .map((tokens) => new Uint8Array([...tokens, ...noise.subarray(0, 10)])),
);

/** Flips, inserts, deletes and truncates at random places. */
function mutate(bytes: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc
    .array(fc.tuple(fc.constantFrom('flip', 'set', 'insert', 'delete', 'truncate'), fc.nat(), fc.nat(255)), {
      minLength: 1,
      maxLength: 4,
    })
    .map((edits) => {
      let out = [...bytes];
      for (const [kind, at, value] of edits) {
        const i = out.length === 0 ? 0 : at % out.length;
        if (kind === 'flip') out[i] = (out[i] ?? 0) ^ (1 << value % 8);
        else if (kind === 'set') out[i] = value;
        else if (kind === 'insert') out.splice(i, 0, value);
        else if (kind === 'delete') out.splice(i, 1);
        else out = out.slice(0, i);
      }
      return new Uint8Array(out);
    });
}

function readAll(bytes: Uint8Array, cuts: number[], options: ConstructorParameters<typeof FrameReader>[0]): void {
  const reader = new FrameReader(options);
  const points = [0, ...cuts.filter((c) => c > 0 && c < bytes.byteLength).sort((a, b) => a - b), bytes.byteLength];
  let events = 0;
  typedOnly(() => {
    for (let i = 1; i < points.length; i++) {
      for (const event of reader.read(bytes.subarray(points[i - 1], points[i]))) {
        events++;
        inspect(event);
      }
    }
  });
  // Every frame takes at least 8 octets and the header at most one event, so this bounds any loop.
  assert.ok(events <= bytes.byteLength / 8 + 1);
}

function inspect(event: FrameReaderEvent): void {
  if (event.kind !== 'frame') return;
  if (event.type === 1) checkMethodStable(event.payload);
  else if (event.type === 2) checkHeaderStable(event.payload);
}

describe('fuzz: frame reader', () => {
  it('survives random bytes, chunked at random, with or without the protocol header', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.array(fc.nat(600), { maxLength: 6 }),
        fc.boolean(),
        fc.constantFrom(0, 64, 4096, 131072),
        (bytes, cuts, header, frameMax) => {
          const input = header ? new Uint8Array([...PROTOCOL_HEADER, ...bytes]) : bytes;
          readAll(input, cuts, { expectProtocolHeader: header, frameMax });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('survives streams of plausible frames with random types, sizes, channels and end octets', () => {
    const frameArb = fc
      .tuple(
        fc.constantFrom(1, 2, 3, 8, 0, 4, 206, 255),
        fc.nat(0xffff),
        fc.oneof(plausibleBytesArb, fc.uint8Array({ maxLength: 50 })),
        fc.oneof(fc.constant(0xce), fc.nat(255)),
        fc.oneof(fc.constant(-1), fc.nat(0xffff_ffff)),
      )
      .map(([type, channel, payload, end, size]) => {
        const bytes = new Uint8Array(payload.byteLength + 8);
        const view = new DataView(bytes.buffer);
        view.setUint8(0, type);
        view.setUint16(1, channel);
        view.setUint32(3, size === -1 ? payload.byteLength : size);
        bytes.set(payload, 7);
        bytes[bytes.byteLength - 1] = end;
        return bytes;
      });
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 6 }), fc.array(fc.nat(400), { maxLength: 6 }), (frames, cuts) => {
        readAll(new Uint8Array(Buffer.concat(frames)), cuts, { expectProtocolHeader: false, frameMax: 4096 });
      }),
      { numRuns: RUNS },
    );
  });
});

describe('fuzz: method decoder', () => {
  it('survives random payloads', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), checkMethodStable), { numRuns: RUNS });
  });

  it('survives random arguments after every known class and method id', () => {
    fc.assert(
      fc.property(knownIdArb, plausibleBytesArb, (id, args) => checkMethodStable(new Uint8Array([...id, ...args]))),
      { numRuns: RUNS * 2 },
    );
  });

  it('survives mutations of valid methods', () => {
    fc.assert(
      fc.property(
        anyMethodArb.chain((method) => mutate(encodeMethodPayload(method))),
        checkMethodStable,
      ),
      { numRuns: RUNS * 2 },
    );
  });
});

describe('fuzz: content header and field table decoders', () => {
  it('survives random and mutated content headers', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          plausibleBytesArb.map((rest) => new Uint8Array([0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, ...rest])),
          fc.tuple(basicPropertiesArb, fc.maxSafeNat()).chain(([p, size]) => mutate(encodeHeaderPayload(p, size))),
        ),
        checkHeaderStable,
      ),
      { numRuns: RUNS },
    );
  });

  it('survives random and mutated field tables', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          plausibleBytesArb.map((rest) => new Uint8Array([0, 0, 0, rest.byteLength, ...rest])),
          fieldTableArb.chain((table) => mutate(encodeFieldTable(table))),
        ),
        (bytes) => {
          const table = typedOnly(() => decodeFieldTable(bytes));
          if (table !== undefined) assert.deepEqual(decodeFieldTable(encodeFieldTable(table)), table);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
