import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isStompCodecError, type StompCodecErrorCode } from './codec-error.js';
import type { HeaderEscaping, StompFrame } from './frame.js';
import type { StompLimits } from './limits.js';
import { FrameParser } from './parser.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

interface ExpectedFrame {
  command: string;
  headers: [string, string][];
  body: string | Buffer;
}

function simplify(frame: StompFrame): ExpectedFrame {
  return { command: frame.command, headers: [...frame.headers], body: Buffer.from(frame.body) };
}

function expected(frame: ExpectedFrame): ExpectedFrame {
  return { ...frame, body: typeof frame.body === 'string' ? bytes(frame.body) : frame.body };
}

function parseAll(input: Buffer, options: { escaping?: HeaderEscaping; limits?: StompLimits; split?: number[] } = {}): StompFrame[] {
  const parser = new FrameParser({ ...(options.escaping ? { escaping: options.escaping } : {}), ...(options.limits ? { limits: options.limits } : {}) });
  const frames: StompFrame[] = [];
  let from = 0;
  for (const at of [...(options.split ?? []), input.length]) {
    parser.push(input.subarray(from, at));
    from = at;
    for (let frame = parser.next(); frame; frame = parser.next()) frames.push(frame);
  }
  return frames;
}

/** Golden vectors: wire bytes and the frames they are. */
const vectors: { name: string; wire: Buffer; escaping?: HeaderEscaping; frames: ExpectedFrame[] }[] = [
  {
    name: 'a SEND with LF line ends',
    wire: bytes('SEND\ndestination:/queue/a\n\nhello\0'),
    frames: [{ command: 'SEND', headers: [['destination', '/queue/a']], body: 'hello' }],
  },
  {
    name: 'CR LF line ends',
    wire: bytes('SEND\r\ndestination:/queue/a\r\nx:1\r\n\r\nhi\0'),
    frames: [{ command: 'SEND', headers: [['destination', '/queue/a'], ['x', '1']], body: 'hi' }],
  },
  {
    name: 'a content-length body holding NUL octets, then heart-beat EOLs and a second frame',
    wire: Buffer.concat([bytes('SEND\ncontent-length:5\n\n'), Buffer.from([1, 0, 2, 0, 3]), bytes('\0\n\r\n\nDISCONNECT\nreceipt:7\n\n\0')]),
    frames: [
      { command: 'SEND', headers: [['content-length', '5']], body: Buffer.from([1, 0, 2, 0, 3]) },
      { command: 'DISCONNECT', headers: [['receipt', '7']], body: '' },
    ],
  },
  {
    name: 'heart-beats before the first frame',
    wire: bytes('\n\n\r\nCONNECT\naccept-version:1.2\n\n\0'),
    frames: [{ command: 'CONNECT', headers: [['accept-version', '1.2']], body: '' }],
  },
  {
    name: 'repeated headers: the first wins',
    wire: bytes('MESSAGE\nfoo:World\nfoo:Hello\n\n\0'),
    frames: [{ command: 'MESSAGE', headers: [['foo', 'World']], body: '' }],
  },
  {
    name: '1.2 escapes in names and values',
    wire: bytes('SEND\na\\cb:x\\\\y\\nz\\r\n\n\0'),
    frames: [{ command: 'SEND', headers: [['a:b', 'x\\y\nz\r']], body: '' }],
  },
  {
    name: 'CONNECT headers are never unescaped',
    wire: bytes('CONNECT\npasscode:a\\cb\\t\n\n\0'),
    frames: [{ command: 'CONNECT', headers: [['passcode', 'a\\cb\\t']], body: '' }],
  },
  {
    name: 'STOMP 1.0 has no escaping',
    escaping: 'none',
    wire: bytes('SEND\npath:C:\\temp\\n\n\n\0'),
    frames: [{ command: 'SEND', headers: [['path', 'C:\\temp\\n']], body: '' }],
  },
  {
    name: 'a value with unescaped colons keeps them (split at the first)',
    wire: bytes('SEND\nurl:http://x:80/\nempty:\n\n\0'),
    frames: [{ command: 'SEND', headers: [['url', 'http://x:80/'], ['empty', '']], body: '' }],
  },
  {
    name: 'UTF-8 in headers and whitespace kept as is',
    wire: bytes('SEND\n k : vé \n\n\0'),
    frames: [{ command: 'SEND', headers: [[' k ', ' vé ']], body: '' }],
  },
];

describe('FrameParser golden vectors', () => {
  for (const vector of vectors) {
    it(vector.name, () => {
      const options = vector.escaping ? { escaping: vector.escaping } : {};
      assert.deepEqual(parseAll(vector.wire, options).map(simplify), vector.frames.map(expected));
    });

    it(`${vector.name}, split at every octet`, () => {
      const everyOctet = Array.from({ length: vector.wire.length - 1 }, (_, i) => i + 1);
      const options = { ...(vector.escaping ? { escaping: vector.escaping } : {}), split: everyOctet };
      assert.deepEqual(parseAll(vector.wire, options).map(simplify), vector.frames.map(expected));
    });
  }

  it('waits for the rest of a frame and returns nothing before', () => {
    const parser = new FrameParser();
    parser.push(bytes('SEND\ncontent-length:4\n\nab'));
    assert.equal(parser.next(), undefined);
    parser.push(bytes('cd'));
    assert.equal(parser.next(), undefined);
    parser.push(bytes('\0'));
    assert.equal(Buffer.from(parser.next()!.body).toString(), 'abcd');
    assert.equal(parser.next(), undefined);
  });

  it('applies a changed escaping to the frames that follow in the same chunk', () => {
    const parser = new FrameParser({ escaping: 'none' });
    parser.push(bytes('SEND\na:\\\\\n\n\0SEND\na:\\\\\n\n\0'));
    assert.equal(parser.next()!.headers.get('a'), '\\\\');
    parser.escaping = '1.2';
    assert.equal(parser.next()!.headers.get('a'), '\\');
  });
});

const small: StompLimits = { maxFrameBytes: 100, maxHeaders: 3, maxHeaderLineBytes: 20 };

function failure(input: Buffer, options: { escaping?: HeaderEscaping; limits?: StompLimits } = {}): StompCodecErrorCode {
  try {
    parseAll(input, options);
  } catch (error) {
    assert.ok(isStompCodecError(error), `expected a StompCodecError, got ${String(error)}`);
    return error.code;
  }
  assert.fail('the input parsed without an error');
}

describe('FrameParser errors', () => {
  it('refuses undefined escapes, and CR escapes before 1.2', () => {
    assert.equal(failure(bytes('SEND\na:\\t\n\n\0')), 'INVALID_ESCAPE');
    assert.equal(failure(bytes('SEND\na:x\\\n\n\0')), 'INVALID_ESCAPE');
    assert.equal(failure(bytes('SEND\na:\\r\n\n\0'), { escaping: '1.1' }), 'INVALID_ESCAPE');
  });

  it('refuses a header line without a colon', () => {
    assert.equal(failure(bytes('SEND\nnocolon\n\n\0')), 'MALFORMED_HEADER');
  });

  it('refuses a bad content-length and a body longer than it says', () => {
    assert.equal(failure(bytes('SEND\ncontent-length:abc\n\n\0')), 'INVALID_CONTENT_LENGTH');
    assert.equal(failure(bytes('SEND\ncontent-length:-1\n\n\0')), 'INVALID_CONTENT_LENGTH');
    assert.equal(failure(bytes('SEND\ncontent-length:2\n\nabc\0')), 'MISSING_NUL');
  });

  it('refuses an oversize frame as soon as its size is known', () => {
    // Declared: refused before any body octet arrives.
    const parser = new FrameParser({ limits: small });
    parser.push(bytes('SEND\ncontent-length:1000\n\n'));
    assert.throws(() => parser.next(), (error) => isStompCodecError(error, 'FRAME_TOO_LARGE'));
    // Undeclared: refused once the buffered body passes the limit, with no NUL in sight.
    assert.equal(failure(Buffer.concat([bytes('SEND\n\n'), Buffer.alloc(200, 0x61)]), { limits: small }), 'FRAME_TOO_LARGE');
  });

  it('refuses too many headers and too long lines, even before the line ends', () => {
    assert.equal(failure(bytes('SEND\na:1\nb:2\nc:3\nd:4\n\n\0'), { limits: small }), 'TOO_MANY_HEADERS');
    assert.equal(failure(bytes(`SEND\na:${'x'.repeat(30)}\n\n\0`), { limits: small }), 'HEADER_TOO_LONG');
    assert.equal(failure(bytes('x'.repeat(30)), { limits: small }), 'HEADER_TOO_LONG');
  });

  it('keeps failing once out of sync', () => {
    const parser = new FrameParser();
    parser.push(bytes('SEND\nbad\n\n\0SEND\n\n\0'));
    assert.throws(() => parser.next(), (error) => isStompCodecError(error, 'MALFORMED_HEADER'));
    assert.throws(() => parser.next(), (error) => isStompCodecError(error, 'MALFORMED_HEADER'));
  });
});
