/**
 * Property tests: any frame the writer produces parses back to itself however the bytes are split, and
 * random bytes only ever give frames or the codec's typed errors, within the limits.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isStompCodecError } from './codec-error.js';
import { makeFrame, type StompFrame } from './frame.js';
import type { StompLimits } from './limits.js';
import { FrameParser } from './parser.js';
import { serializeFrame } from './serializer.js';

function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(from, point));
    from = point;
  }
  return chunks;
}

const command = fc.stringMatching(/^[A-Z]{1,12}$/);
const headerText = fc.string({ unit: 'grapheme', maxLength: 20 });
const frameArbitrary = fc.record({
  command,
  headers: fc.uniqueArray(fc.tuple(headerText, headerText), { maxLength: 8, selector: ([name]) => name }),
  body: fc.uint8Array({ maxLength: 64 }),
});

describe('STOMP codec properties', () => {
  it('round-trips written frames through the parser, however the bytes are cut', () => {
    fc.assert(
      fc.property(fc.array(frameArbitrary, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 10 }), fc.boolean(), (frames, cuts, heartBeats) => {
        const written = frames.map((frame) =>
          makeFrame(
            frame.command,
            [['content-length', String(frame.body.length)], ...frame.headers.filter(([name]) => name !== 'content-length')],
            frame.body,
          ),
        );
        const wire = Buffer.concat(written.flatMap((frame) => [serializeFrame(frame, '1.2'), Buffer.from(heartBeats ? '\r\n\n' : '')]));
        const parser = new FrameParser();
        const parsed: StompFrame[] = [];
        for (const chunk of chunked(wire, cuts)) {
          parser.push(chunk);
          for (let frame = parser.next(); frame; frame = parser.next()) parsed.push(frame);
        }
        assert.equal(parsed.length, written.length);
        parsed.forEach((frame, i) => {
          assert.equal(frame.command, written[i]!.command);
          assert.deepEqual([...frame.headers], [...written[i]!.headers]);
          assert.deepEqual(Buffer.from(frame.body), Buffer.from(written[i]!.body));
        });
      }),
      { numRuns: 300 },
    );
  });

  it('turns random bytes into frames or typed codec errors only, within the limits', () => {
    const limits: StompLimits = { maxFrameBytes: 512, maxHeaders: 8, maxHeaderLineBytes: 64 };
    const token = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.constantFrom('SEND\n', 'CONNECT\n', 'content-length:3\n', 'content-length:x\n', 'a:b\n', '\n', '\r\n', '\0', '\\', ':', '\\c', '\\r').map((text) => Buffer.from(text)),
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 8 }), fc.constantFrom('none', '1.1', '1.2' as const), (tokens, cuts, escaping) => {
        const parser = new FrameParser({ limits, escaping });
        try {
          for (const chunk of chunked(Buffer.concat(tokens), cuts)) {
            parser.push(chunk);
            for (let frame = parser.next(); frame; frame = parser.next()) {
              assert.equal(typeof frame.command, 'string');
              assert.ok(frame.command.length > 0);
              assert.ok(frame.headers.size <= limits.maxHeaders);
              assert.ok(frame.body.byteLength <= limits.maxFrameBytes);
            }
          }
        } catch (error) {
          if (!isStompCodecError(error)) throw error;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
