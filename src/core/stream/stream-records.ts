import type { Message } from '../message/message.js';

/**
 * Record kind of a stored message in a stream's log. Readers skip records of other kinds, so later
 * kinds (filters, tracking records) can be added without breaking existing readers.
 */
export const STREAM_RECORD_MESSAGE = 1;

/** Turns messages into the bytes a log stores and back; the broker passes the neutral message codec. */
export interface MessageCodec {
  encode(message: Message): Uint8Array;
  decode(bytes: Uint8Array): Message;
}

/** One message pushed to a stream reader. */
export interface StreamDelivery {
  readonly offset: number;
  /** When the broker stored it, in ms since the epoch (not the producer's timestamp property). */
  readonly timestamp: number;
  readonly message: Message;
}
