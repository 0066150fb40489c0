import type { HeaderTable } from '../message/message.js';
import type { FsyncPolicy, LogOptions } from '../ports.js';
import { invalidArgument } from '../invalid-argument.js';

/** A stream's retention and segment settings, parsed from its declaration arguments (RabbitMQ's names). */
export interface StreamSettings {
  /** `x-max-age`: records older than this are deleted, a whole segment at a time. */
  readonly maxAgeMs: number | undefined;
  /** `x-max-length-bytes`: the oldest segments are deleted once the log is larger than this. */
  readonly maxBytes: number | undefined;
  /** `x-stream-max-segment-size-bytes`: passed to the log; retention granularity. */
  readonly segmentBytes: number | undefined;
}

const DAY_MS = 24 * 60 * 60 * 1000;

// RabbitMQ's units for x-max-age: a month is 30 days and a year 365 days.
const AGE_UNITS_MS: Readonly<Record<string, number>> = {
  Y: 365 * DAY_MS,
  M: 30 * DAY_MS,
  D: DAY_MS,
  h: 60 * 60 * 1000,
  m: 60 * 1000,
  s: 1000,
};

const AGE_PATTERN = /^([0-9]+)([YMDhms])$/;



/**
 * Parses a RabbitMQ max-age string: a positive integer followed by one unit of `Y`, `M` (30 days),
 * `D`, `h`, `m` or `s`, e.g. `7D`, `12h`. Throws INVALID_ARGUMENT otherwise.
 */
export function parseMaxAge(text: string, argument = 'x-max-age'): number {
  const match = AGE_PATTERN.exec(text);
  const unit = match?.[2] === undefined ? undefined : AGE_UNITS_MS[match[2]];
  const amount = match?.[1] === undefined ? 0 : Number(match[1]);
  const ms = unit === undefined ? 0 : amount * unit;
  if (unit === undefined || amount <= 0 || !Number.isSafeInteger(ms)) {
    throw invalidArgument(argument, "a positive duration such as '7D', '12h', '30m', '10s', '1M' or '1Y'", text);
  }
  return ms;
}

function optionalInteger(args: HeaderTable, name: string, min: number): number | undefined {
  const value = args[name];
  if (value === undefined) return undefined;
  const number = typeof value === 'bigint' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < min) {
    throw invalidArgument(name, `an integer >= ${min}`, value);
  }
  return number;
}

function optionalMaxAge(args: HeaderTable): number | undefined {
  const value = args['x-max-age'];
  if (value === undefined) return undefined;
  // AMQP field tables carry strings as long strings, which a codec may hand over as bytes.
  const text = value instanceof Uint8Array ? new TextDecoder().decode(value) : value;
  if (typeof text !== 'string') throw invalidArgument('x-max-age', "a string such as '7D'", value);
  return parseMaxAge(text);
}

/**
 * Parses and validates stream arguments. Throws BrokerError INVALID_ARGUMENT naming the argument.
 * Other arguments (`x-queue-type`, leader locators...) are ignored, as RabbitMQ does for the ones that
 * do not apply to a single node.
 */
export function parseStreamArguments(args: HeaderTable): StreamSettings {
  return {
    maxAgeMs: optionalMaxAge(args),
    maxBytes: optionalInteger(args, 'x-max-length-bytes', 0),
    segmentBytes: optionalInteger(args, 'x-stream-max-segment-size-bytes', 1),
  };
}

/** The options to open a stream's log with; `defaultSegmentBytes` applies when the stream sets none. */
export function streamLogOptions(settings: StreamSettings, fsync: FsyncPolicy, defaultSegmentBytes?: number): LogOptions {
  const segmentBytes = settings.segmentBytes ?? defaultSegmentBytes;
  return segmentBytes === undefined ? { fsync } : { fsync, segmentBytes };
}
