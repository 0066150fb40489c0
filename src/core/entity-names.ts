import { BrokerError } from './errors.js';

const MAX_NAME_BYTES = 255;
const encoder = new TextEncoder();

/**
 * Queue and exchange names follow AMQP's shortstr rule (at most 255 bytes of UTF-8); names starting
 * with `amq.` are the broker's own (RabbitMQ refuses them with ACCESS_REFUSED, which RESERVED_NAME maps to).
 */
export function validateEntityName(kind: 'queue' | 'exchange' | 'stream', name: string): void {
  if (name.length === 0) {
    throw new BrokerError('INVALID_NAME', `${kind} name must not be empty`, { kind });
  }
  if (encoder.encode(name).byteLength > MAX_NAME_BYTES) {
    throw new BrokerError('INVALID_NAME', `${kind} name is longer than ${MAX_NAME_BYTES} bytes`, { kind });
  }
  if (hasControlCharacter(name)) {
    throw new BrokerError('INVALID_NAME', `${kind} name '${name}' contains control characters`, { kind, name });
  }
  if (name.startsWith('amq.')) {
    throw new BrokerError('RESERVED_NAME', `${kind} name '${name}' contains reserved prefix 'amq.'`, { kind, name });
  }
}

function hasControlCharacter(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
