import { BrokerError } from '../../core/errors.js';
import type { StreamStart } from '../../core/stream/stream-reader.js';
import { messageJson } from './message-json.js';
import { sendJson } from '../../transport/http/problem.js';
import { integerParam } from '../../transport/http/query.js';
import type { ApiRequest } from './route-types.js';

/** `from`: first | last | an offset (digits) | an ISO 8601 timestamp. */
export function parseFrom(text: string | null): StreamStart {
  if (text === null || text === '' || text === 'first') return 'first';
  if (text === 'last') return 'last';
  if (/^\d+$/.test(text)) return { offset: Number(text) };
  const timestamp = Date.parse(text);
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(timestamp)) return { timestamp };
  throw new BrokerError('INVALID_ARGUMENT', 'from must be first, last, an offset or an ISO 8601 timestamp', { parameter: 'from' });
}

/**
 * GET /api/streams/{name}/messages?from=...&max=N&wait=S: up to `max` messages (default 100, at most
 * 1000) from the start position, each with its offset. Reading stops at the end the stream had when the
 * request came, or after `wait` seconds (default 1) when the start lies past every stored message
 * (a timestamp newer than the last message).
 */
export async function replayStream(api: ApiRequest, name: string): Promise<void> {
  const start = parseFrom(api.url.searchParams.get('from'));
  const max = integerParam(api.url, 'max', 100, 1, 1000);
  const waitMs = integerParam(api.url, 'wait', 1, 0, 60) * 1000;
  const connection = api.broker.connect(api.principal, { protocol: 'http', remoteAddress: api.request.socket.remoteAddress ?? '' });
  try {
    const channel = connection.openChannel();
    // Resolving first: 404 / 403 even when there is nothing to read.
    const endOffset = api.broker.resolveStream(api.principal, name, 'read').stats().endOffset;
    const messages: Record<string, unknown>[] = [];
    await new Promise<void>((resolve) => {
      const timer = api.clock.setTimer(waitMs, resolve);
      const done = (): void => {
        timer.cancel();
        resolve();
      };
      if (typeof start === 'object' && 'offset' in start && start.offset >= endOffset) return done();
      if (endOffset === 0) return done();
      connection.consumeStream(channel, name, { start, prefetch: max, noAck: false }, {
        deliver: (delivery) => {
          const offset = delivery.streamOffset ?? 0;
          if (messages.length < max && offset < endOffset) messages.push({ offset, ...messageJson(delivery.message) });
          if (messages.length >= max || offset >= endOffset - 1) done();
        },
        cancelled: done,
      });
    });
    sendJson(api.response, 200, { messages });
  } finally {
    await connection.close();
  }
}
