import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeFrame } from './frame.js';
import { FrameWriter, serializeFrame } from './serializer.js';

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

describe('FrameWriter golden vectors', () => {
  it('writes command, headers, blank line, body and NUL', () => {
    const wire = serializeFrame(makeFrame('MESSAGE', [['destination', '/queue/a'], ['content-length', '2']], Buffer.from('hi')));
    assert.equal(text(wire), 'MESSAGE\ndestination:/queue/a\ncontent-length:2\n\nhi\0');
  });

  it('keeps body octets exact, NUL included', () => {
    const body = Uint8Array.of(0, 255, 0, 10);
    const wire = serializeFrame(makeFrame('MESSAGE', [['content-length', '4']], body));
    assert.deepEqual([...wire.subarray(wire.length - 5)], [0, 255, 0, 10, 0]);
  });

  it('escapes for 1.2, for 1.1 (no CR escape) and replaces what 1.0 cannot carry', () => {
    const frame = makeFrame('MESSAGE', [['a:b', 'x\\y\nz\r']]);
    assert.equal(text(serializeFrame(frame, '1.2')), 'MESSAGE\na\\cb:x\\\\y\\nz\\r\n\n\0');
    assert.equal(text(serializeFrame(frame, '1.1')), 'MESSAGE\na\\cb:x\\\\y\\nz\r\n\n\0');
    assert.equal(text(serializeFrame(frame, 'none')), 'MESSAGE\na_b:x\\y z \n\n\0');
  });

  it('never escapes CONNECTED', () => {
    assert.equal(text(serializeFrame(makeFrame('CONNECTED', [['server', 'a:b\\c']]), '1.2')), 'CONNECTED\nserver:a:b\\c\n\n\0');
  });

  it('writes UTF-8 headers', () => {
    const writer = new FrameWriter('1.2');
    assert.equal(writer.start('RECEIPT').header('receipt-id', 'é').end().toString('utf8'), 'RECEIPT\nreceipt-id:é\n\n\0');
  });
});
