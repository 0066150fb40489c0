import { BrokerError } from '../errors.js';

export const MAX_TOPIC_NAME_BYTES = 255;

const encoder = new TextEncoder();
const WORD_CHARACTER = /^[\p{L}\p{M}\p{Nd}_-]$/u;

function describeCharacter(character: string): string {
  const codePoint = (character.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0');
  if (character === ' ') return `a space (U+${codePoint})`;
  if (/\p{Cc}|\p{Z}/u.test(character)) return `a whitespace or control character (U+${codePoint})`;
  return `'${character}' (U+${codePoint})`;
}

/**
 * Topic names are routing keys in the shared topic space (`amq.topic`), so they must be concrete keys
 * that every protocol can carry and that no subscription pattern misreads:
 * - 1 to 255 bytes of UTF-8 (AMQP shortstr, the routing-key limit);
 * - levels separated by single dots: no leading, trailing or double dot (an empty level would map to an
 *   empty MQTT level and confuse `#`);
 * - each level made of letters, combining marks, decimal digits, `-` and `_` (no spaces, no `/`, which
 *   MQTT uses between levels, no wildcards `*`, `#`, `+`, `>`);
 * - not starting with `amq.`, the broker's reserved prefix (RESERVED_NAME, as for queues and exchanges).
 * Every other failure is INVALID_NAME with a message naming the rule and the position (1-based, in characters).
 */
export function validateTopicName(name: unknown): asserts name is string {
  if (typeof name !== 'string') {
    throw new BrokerError('INVALID_NAME', `topic name must be a string, got ${name === null ? 'null' : typeof name}`);
  }
  if (name.length === 0) throw new BrokerError('INVALID_NAME', 'topic name must not be empty', { name });
  const bytes = encoder.encode(name).byteLength;
  if (bytes > MAX_TOPIC_NAME_BYTES) {
    throw new BrokerError(
      'INVALID_NAME',
      `topic name is ${bytes} bytes of UTF-8; the limit is ${MAX_TOPIC_NAME_BYTES}`,
      { name, bytes },
    );
  }
  let position = 0;
  let previous = '';
  for (const character of name) {
    position += 1;
    if (character === '.') {
      if (position === 1) {
        throw new BrokerError('INVALID_NAME', `topic name '${name}' starts with '.'; a name must begin with a level`, {
          name,
          position,
        });
      }
      if (previous === '.') {
        throw new BrokerError(
          'INVALID_NAME',
          `topic name '${name}' has an empty level: two dots in a row at character ${position - 1}`,
          { name, position: position - 1 },
        );
      }
    } else if (!WORD_CHARACTER.test(character)) {
      const wildcard = character === '*' || character === '#' || character === '+' || character === '>';
      const hint = wildcard
        ? 'wildcards belong in subscription patterns, not in topic names'
        : "allowed are letters, digits, '-' and '_', with '.' between levels";
      throw new BrokerError(
        'INVALID_NAME',
        `topic name '${name}' contains ${wildcard ? `the wildcard '${character}'` : describeCharacter(character)} at character ${position}; ${hint}`,
        { name, position },
      );
    }
    previous = character;
  }
  if (previous === '.') {
    throw new BrokerError('INVALID_NAME', `topic name '${name}' ends with '.'; a name must end with a level`, { name });
  }
  if (name.startsWith('amq.')) {
    throw new BrokerError('RESERVED_NAME', `topic name '${name}' starts with the reserved prefix 'amq.'`, { name });
  }
}
