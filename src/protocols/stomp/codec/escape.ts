import { StompCodecError } from './codec-error.js';
import type { HeaderEscaping } from './frame.js';

const NEEDS_ESCAPE_12 = /[\\\r\n:]/;
const NEEDS_ESCAPE_11 = /[\\\n:]/;
const UNREPRESENTABLE_10 = /[\r\n]/g;
const UNREPRESENTABLE_10_NAME = /[\r\n:]/g;

/**
 * Escapes a header name or value for the wire ([STOMP 1.2] "Value Encoding"). STOMP 1.0 cannot carry
 * CR or LF in a header at all (nor ':' in a name), so they become spaces (underscores in names) rather
 * than breaking the frame; 1.1 has no escape for CR, which is left as it is.
 */
export function escapeHeader(text: string, escaping: HeaderEscaping, isName = false): string {
  switch (escaping) {
    case '1.2':
      if (!NEEDS_ESCAPE_12.test(text)) return text;
      return escapeWith(text, true);
    case '1.1':
      if (!NEEDS_ESCAPE_11.test(text)) return text;
      return escapeWith(text, false);
    case 'none':
      return isName ? text.replace(UNREPRESENTABLE_10_NAME, '_') : text.replace(UNREPRESENTABLE_10, ' ');
  }
}

function escapeWith(text: string, escapeCr: boolean): string {
  let out = '';
  for (const char of text) {
    switch (char) {
      case '\\':
        out += '\\\\';
        break;
      case '\n':
        out += '\\n';
        break;
      case ':':
        out += '\\c';
        break;
      case '\r':
        out += escapeCr ? '\\r' : '\r';
        break;
      default:
        out += char;
    }
  }
  return out;
}

/** Undoes escapeHeader; an undefined escape (`\t`, a trailing `\`, `\r` in 1.1) is a fatal error. */
export function unescapeHeader(text: string, escaping: HeaderEscaping): string {
  if (escaping === 'none' || !text.includes('\\')) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char !== '\\') {
      out += char;
      continue;
    }
    const next = text[++i];
    if (next === '\\') out += '\\';
    else if (next === 'n') out += '\n';
    else if (next === 'c') out += ':';
    else if (next === 'r' && escaping === '1.2') out += '\r';
    else {
      throw new StompCodecError(
        'INVALID_ESCAPE',
        next === undefined ? 'a header ends with an incomplete escape' : `undefined escape sequence '\\${next}' in a header`,
      );
    }
  }
  return out;
}
