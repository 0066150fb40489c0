import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DecodeStatus, DecodedRecord, RECORD_HEADER_BYTES, decodeRecord, recordSize, writeRecord } from './record-format.js';

function frame(offset: number, kind: number, timestamp: number, payload: Uint8Array): Buffer {
  const buffer = Buffer.alloc(recordSize(payload.length));
  writeRecord(buffer, 0, offset, kind, timestamp, payload, Buffer.alloc(17));
  return buffer;
}

describe('record format', () => {
  it('round-trips offsets beyond 2^32, kinds, timestamps and payloads', () => {
    const payload = new Uint8Array([1, 2, 3, 4, 5]);
    const buffer = frame(2 ** 40 + 7, 200, 1_700_000_000_123.5, payload);
    assert.equal(buffer.length, RECORD_HEADER_BYTES + 5);
    assert.equal(buffer.readUInt32LE(0), 17 + 5);
    const out = new DecodedRecord();
    assert.equal(decodeRecord(buffer, 0, buffer.length, out), DecodeStatus.Ok);
    assert.equal(out.offset, 2 ** 40 + 7);
    assert.equal(out.kind, 200);
    assert.equal(out.timestamp, 1_700_000_000_123.5);
    assert.deepEqual(new Uint8Array(buffer.subarray(out.payloadStart, out.payloadEnd)), payload);
    assert.equal(out.size, buffer.length);
  });

  it('detects a flipped bit anywhere after the length field', () => {
    const original = frame(3, 1, 10, new Uint8Array(20).fill(9));
    for (let position = 4; position < original.length; position++) {
      const damaged = Buffer.from(original);
      damaged[position] = damaged[position]! ^ 0x01;
      assert.equal(decodeRecord(damaged, 0, damaged.length, new DecodedRecord()), DecodeStatus.Invalid, `byte ${position}`);
    }
  });

  it('reports incomplete frames and impossible lengths', () => {
    const buffer = frame(0, 0, 0, new Uint8Array(10));
    const out = new DecodedRecord();
    assert.equal(decodeRecord(buffer, 0, 5, out), DecodeStatus.Incomplete);
    assert.equal(out.size, 0);
    assert.equal(decodeRecord(buffer, 0, buffer.length - 1, out), DecodeStatus.Incomplete);
    assert.equal(out.size, buffer.length);
    assert.equal(decodeRecord(Buffer.alloc(40), 0, 40, out), DecodeStatus.Invalid);
    const huge = Buffer.alloc(40);
    huge.writeUInt32LE(0xffffffff, 0);
    assert.equal(decodeRecord(huge, 0, 40, out), DecodeStatus.Invalid);
  });
});
