import { BrokerError } from '../../core/errors.js';
import type { Delivery } from '../../core/channel.js';
import { deliveryJson } from './message-json.js';
import { sendJson } from './problem.js';
import { integerParam, jsonObject } from './query.js';
import type { ReceiptBook } from './receipts.js';
import { readBody } from './request-body.js';
import type { ApiRequest } from './route-types.js';

/** How often a long poll looks at its queue again while it waits. */
const POLL_INTERVAL_MS = 25;
export const DEFAULT_VISIBILITY_SECONDS = 30;

/**
 * GET /api/queues/{queue}/messages?max=N&wait=S&visibility=S: pulls up to `max` messages (default 1,
 * at most 100), waiting up to `wait` seconds (default 0, at most 60) for the first one. Each message
 * stays invisible to others for `visibility` seconds (default 30) unless acked or nacked by its handle.
 */
export async function receiveMessages(api: ApiRequest, queue: string, receipts: ReceiptBook): Promise<void> {
  const max = integerParam(api.url, 'max', 1, 1, 100);
  const waitMs = integerParam(api.url, 'wait', 0, 0, 60) * 1000;
  const visibilityMs = integerParam(api.url, 'visibility', DEFAULT_VISIBILITY_SECONDS, 1, 43_200) * 1000;
  const scope = receipts.scopeFor(api.principal);
  const deadline = api.clock.now() + waitMs;
  let gone = false;
  api.response.once('close', () => {
    gone = true;
  });
  const pulled: Delivery[] = [];
  for (;;) {
    while (pulled.length < max) {
      const delivery = await scope.connection.get(scope.channel, queue, false);
      if (!delivery) break;
      pulled.push(delivery);
    }
    const remaining = deadline - api.clock.now();
    if (pulled.length > 0 || remaining <= 0 || gone) break;
    await new Promise<void>((resolve) => api.clock.setTimer(Math.min(POLL_INTERVAL_MS, remaining), resolve));
  }
  if (gone) {
    // Nobody will see these handles: the messages go straight back instead of waiting out their timeout.
    try {
      for (const delivery of pulled) scope.channel.nack(delivery.deliveryTag, false, true);
    } catch {
      // The scope closed meanwhile (shutdown): its deliveries went back with it.
    }
    return;
  }
  const messages = pulled.map((delivery) => ({ ...deliveryJson(delivery), receiptHandle: receipts.issue(scope, delivery, visibilityMs) }));
  sendJson(api.response, 200, { messages });
}

function handlesOf(body: Record<string, unknown>): string[] {
  const handles = body['receiptHandles'];
  if (!Array.isArray(handles) || !handles.every((handle): handle is string => typeof handle === 'string')) {
    throw new BrokerError('INVALID_ARGUMENT', 'receiptHandles must be an array of strings');
  }
  return handles;
}

/**
 * POST .../messages/ack and .../nack with `{ receiptHandles: [...] }` (nack: `requeue`, default true).
 * Answers 200 `{ settled, unknown }`: handles that expired, were settled already or never existed are
 * listed, not an error, since a visibility timeout can race any ack.
 */
export async function settleMessages(api: ApiRequest, queue: string, receipts: ReceiptBook, action: 'ack' | 'nack', maxBodyBytes: number): Promise<void> {
  const body = jsonObject(await readBody(api.request, maxBodyBytes));
  const handles = handlesOf(body);
  const requeueValue = body['requeue'] ?? true;
  if (typeof requeueValue !== 'boolean') throw new BrokerError('INVALID_ARGUMENT', 'requeue must be a boolean');
  let settled = 0;
  const unknown: string[] = [];
  for (const handle of handles) {
    if (receipts.settle(handle, { principal: api.principal, queue }, action, requeueValue)) settled += 1;
    else unknown.push(handle);
  }
  sendJson(api.response, 200, { settled, unknown });
}
