/** Test support only (imported by tests, never by production code): a JSON codec and waiting helpers. */
import { createMessage, type Message } from '../message/message.js';
import type { MessageCodec } from './stream-records.js';

/** A simple codec for tests; production uses the neutral message codec. Headers must be JSON-safe. */
export const jsonTestCodec: MessageCodec = {
  encode(message: Message): Uint8Array {
    const { body, ...rest } = message;
    return new TextEncoder().encode(JSON.stringify({ ...rest, body: Buffer.from(body).toString('base64') }));
  },
  decode(bytes: Uint8Array): Message {
    const parsed = JSON.parse(new TextDecoder().decode(bytes)) as Omit<Message, 'body'> & { body: string };
    return { ...parsed, body: new Uint8Array(Buffer.from(parsed.body, 'base64')) };
  },
};

export function textMessage(text: string, routingKey = 'k'): Message {
  return createMessage({ routingKey, body: new TextEncoder().encode(text) });
}

export function bodyText(message: Message): string {
  return new TextDecoder().decode(message.body);
}

/**
 * Waits until `condition` holds, yielding to the event loop between checks. Fails after `turns` turns
 * rather than after a wall-clock delay, so a slow machine does not make it flaky.
 */
export async function waitFor(condition: () => boolean, what: string, turns = 10_000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Lets pending reads and wake-ups run, for asserting that nothing more happens. */
export async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}
