import assert from 'node:assert/strict';
import { test } from 'node:test';
import { C_MESSAGE, C_RECEIPT, StompFrameReader, encodeFrame, headerValue } from './stomp-wire.js';

interface Seen {
  readonly command: number;
  readonly ack: string | undefined;
  readonly body: string;
}

function readAll(chunks: readonly Buffer[]): Seen[] {
  const reader = new StompFrameReader();
  const seen: Seen[] = [];
  for (const chunk of chunks) {
    reader.push(chunk, (command, data, headStart, headEnd, bodyStart, bodyEnd) => {
      seen.push({ command, ack: headerValue(data, headStart, headEnd, 'ack'), body: data.toString('latin1', bodyStart, bodyEnd) });
    });
  }
  return seen;
}

test('SEND frames carry content-length and end with NUL', () => {
  const frame = encodeFrame('SEND', { destination: '/queue/q' }, Buffer.from('hello'));
  assert.equal(frame.toString('latin1'), 'SEND\ndestination:/queue/q\ncontent-length:5\n\nhello\0');
});

test('frames split anywhere, heart-beat EOLs between them, bodies holding NUL when content-length says so', () => {
  const message = Buffer.from('MESSAGE\nsubscription:0\nack:T_0@@1\ncontent-length:3\n\na\0b\0\n');
  const receipt = Buffer.from('RECEIPT\nreceipt-id:7\n\n\0');
  const stream = Buffer.concat([Buffer.from('\n'), message, receipt, message]);
  for (let cut = 1; cut < stream.length; cut++) {
    const seen = readAll([stream.subarray(0, cut), stream.subarray(cut)]);
    assert.deepEqual(
      seen.map((frame) => frame.command),
      [C_MESSAGE, C_RECEIPT, C_MESSAGE],
      `cut at ${cut}`,
    );
    assert.equal(seen[0]?.ack, 'T_0@@1');
    assert.equal(seen[0]?.body, 'a\0b');
    assert.equal(seen[1]?.ack, undefined);
  }
});
