import { BrokerError } from '../errors.js';
import type { HeaderTable } from '../message/message.js';
import { invalidArgument } from '../invalid-argument.js';

export type OverflowBehaviour = 'drop-head' | 'reject-publish' | 'reject-publish-dlx';

/** A queue's policies, parsed from its declaration arguments (RabbitMQ's `x-` names). */
export interface QueuePolicy {
  readonly messageTtlMs: number | undefined;
  readonly expiresMs: number | undefined;
  readonly maxLength: number | undefined;
  readonly maxLengthBytes: number | undefined;
  readonly overflow: OverflowBehaviour;
  readonly deadLetterExchange: string | undefined;
  readonly deadLetterRoutingKey: string | undefined;
  readonly singleActiveConsumer: boolean;
  readonly deliveryLimit: number | undefined;
  readonly queueType: 'classic' | 'quorum' | 'stream';
}



function nonNegativeInteger(args: HeaderTable, name: string, min = 0): number | undefined {
  const value = args[name];
  if (value === undefined) return undefined;
  const number = typeof value === 'bigint' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min) {
    return failWith(invalidArgument(name, `an integer >= ${min}`, value));
  }
  return number;
}

function optionalString(args: HeaderTable, name: string): string | undefined {
  const value = args[name];
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return failWith(invalidArgument(name, 'a string', value));
}

function failWith(error: BrokerError): never {
  throw error;
}

/** Parses and validates queue arguments; unknown `x-` arguments are kept but ignored (as RabbitMQ does). */
export function parseQueuePolicy(args: HeaderTable): QueuePolicy {
  const overflow = optionalString(args, 'x-overflow') ?? 'drop-head';
  if (overflow !== 'drop-head' && overflow !== 'reject-publish' && overflow !== 'reject-publish-dlx') {
    throw invalidArgument('x-overflow', "'drop-head', 'reject-publish' or 'reject-publish-dlx'", overflow);
  }
  const queueType = optionalString(args, 'x-queue-type') ?? 'classic';
  if (queueType !== 'classic' && queueType !== 'quorum' && queueType !== 'stream') {
    throw invalidArgument('x-queue-type', "'classic', 'quorum' or 'stream'", queueType);
  }
  const sac = args['x-single-active-consumer'];
  if (sac !== undefined && typeof sac !== 'boolean') {
    throw invalidArgument('x-single-active-consumer', 'a boolean', sac);
  }
  const deadLetterRoutingKey = optionalString(args, 'x-dead-letter-routing-key');
  const deadLetterExchange = optionalString(args, 'x-dead-letter-exchange');
  if (deadLetterRoutingKey !== undefined && deadLetterExchange === undefined) {
    throw new BrokerError(
      'INVALID_ARGUMENT',
      "invalid arg 'x-dead-letter-routing-key': it needs 'x-dead-letter-exchange' too",
      { argument: 'x-dead-letter-routing-key' },
    );
  }
  return {
    messageTtlMs: nonNegativeInteger(args, 'x-message-ttl'),
    expiresMs: nonNegativeInteger(args, 'x-expires', 1),
    maxLength: nonNegativeInteger(args, 'x-max-length'),
    maxLengthBytes: nonNegativeInteger(args, 'x-max-length-bytes'),
    overflow,
    deadLetterExchange,
    deadLetterRoutingKey,
    singleActiveConsumer: sac === true,
    deliveryLimit: nonNegativeInteger(args, 'x-delivery-limit'),
    queueType,
  };
}
