import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpResponseReader } from './http-publisher.js';

test('responses delimited by Content-Length and by chunks, split anywhere', () => {
  const stream = Buffer.from(
    'HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n{}' +
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"ro\r\n3\r\nx":1\r\n0\r\n\r\n' +
    'HTTP/1.1 429 Too Many Requests\r\nContent-Length: 5\r\n\r\nfull!',
  );
  for (let cut = 1; cut < stream.length; cut++) {
    const reader = new HttpResponseReader();
    const seen: string[] = [];
    for (const chunk of [stream.subarray(0, cut), stream.subarray(cut)]) {
      reader.push(chunk, (status, data, start, end) => seen.push(`${status}:${data.toString('latin1', start, end)}`));
    }
    assert.deepEqual(seen, ['201:{}', '200:4\r\n{"ro\r\n3\r\nx":1\r\n0\r\n\r\n', '429:full!'], `cut at ${cut}`);
  }
});

test('Connection: close marks the last response of a connection', () => {
  const reader = new HttpResponseReader();
  const seen: boolean[] = [];
  reader.push(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\nHTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n'), (_status, _data, _start, _end, close) => seen.push(close));
  assert.deepEqual(seen, [false, true]);
});
