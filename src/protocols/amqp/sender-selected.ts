/**
 * RabbitMQ's sender-selected distribution: a published message is routed with its routing key and
 * also with each key listed in its `CC` and `BCC` headers (arrays of strings), through the same
 * exchange. `BCC` is removed from the message before it is stored, so no consumer sees it; `CC` stays.
 */
import type { FieldTable, FieldValue } from './codec/index.js';
import { AmqpReplyError } from './errors.js';

/**
 * The extra routing keys of a publish's headers (undefined when there are none), removing `BCC` from
 * `headers` (a table decoded for this message alone). A CC or BCC that is not an array is 406, as
 * RabbitMQ refuses it; entries of an array that are not strings are skipped, as RabbitMQ does.
 */
export function senderSelectedKeys(headers: FieldTable): string[] | undefined {
  const cc = headers['CC'];
  const bcc = headers['BCC'];
  if (cc === undefined && bcc === undefined) return undefined;
  const keys: string[] = [];
  if (cc !== undefined) addKeys(keys, 'CC', cc);
  if (bcc !== undefined) {
    addKeys(keys, 'BCC', bcc);
    delete headers['BCC'];
  }
  return keys;
}

function addKeys(keys: string[], header: string, value: FieldValue): void {
  if (!Array.isArray(value)) {
    throw new AmqpReplyError('PRECONDITION_FAILED', `invalid message: {unacceptable_type_in_header,"${header}",${fieldTypeName(value)}}`);
  }
  for (const entry of value) if (typeof entry === 'string') keys.push(entry);
}

/** The field type names RabbitMQ's error text uses. */
function fieldTypeName(value: FieldValue): string {
  switch (typeof value) {
    case 'string':
      return 'longstr';
    case 'boolean':
      return 'bool';
    case 'bigint':
      return 'long';
    case 'number':
      return Number.isInteger(value) ? 'signedint' : 'double';
    default:
      if (value === null) return 'void';
      return value instanceof Uint8Array ? 'binary' : 'table';
  }
}
