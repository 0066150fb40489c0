import { BrokerError } from '../../core/errors.js';
import type { Delivery } from '../../core/channel.js';
import { deliveryJson } from './message-json.js';
import { sendJson } from '../../transport/http/problem.js';
import { integerParam, jsonObject } from '../../transport/http/query.js';
import type { ReceiptBook } from './receipts.js';
import { readBody } from '../../transport/http/request-body.js';
import type { ApiRequest } from './route-types.js';

export const DEFAULT_VISIBILITY_SECONDS = 30;

/** Wakes of the long polls waiting now, so that closing the API ends them (503) instead of leaving them to time out. */
export type WaitingPolls = Set<() => void>;

/**
 * GET /api/queues/{queue}/messages?max=N&wait=S&visibility=S: pulls up to `max` messages (default 1,
 * at most 100), waiting up to `wait` seconds (default 0, at most 60) for the first one. Each message
 * stays invisible to others for `visibility` seconds (default 30) unless acked or nacked by its handle.
 * The wait is event driven: the queue wakes the request when a message becomes ready (no polling), and
 * the waiter is removed whichever way the wait ends (message, timeout, client gone).
 */
export async function receiveMessages(api: ApiRequest, queue: string, receipts: ReceiptBook, waiting: WaitingPolls): Promise<void> {
  const max = integerParam(api.url, 'max', 1, 1, 100);
  const waitMs = integerParam(api.url, 'wait', 0, 0, 60) * 1000;
  const visibilityMs = integerParam(api.url, 'visibility', DEFAULT_VISIBILITY_SECONDS, 1, 43_200) * 1000;
  const scope = receipts.scopeFor(api.principal);
  const deadline = api.clock.now() + waitMs;
  let gone = false;
  let wake: (() => void) | undefined;
  const onClose = (): void => {
    gone = true;
    wake?.();
  };
  api.response.once('close', onClose);
  const pulled: Delivery[] = [];
  try {
    for (;;) {
      const remaining = deadline - api.clock.now();
      let ready: Promise<void> | undefined;
      let stopWaiting: (() => void) | undefined;
      if (remaining > 0 && !gone) {
        ready = new Promise<void>((resolve) => (wake = resolve));
        // Registered before pulling: a message that becomes ready while the pull runs still wakes us.
        stopWaiting = scope.connection.whenReady(queue, wake!);
      }
      try {
        while (pulled.length < max) {
          const delivery = await scope.connection.get(scope.channel, queue, false);
          if (!delivery) break;
          pulled.push(delivery);
        }
        if (pulled.length > 0 || !ready || gone) break;
        const woken = wake!;
        const timer = api.clock.setTimer(remaining, woken);
        waiting.add(woken);
        await ready;
        timer.cancel();
      } finally {
        stopWaiting?.();
        if (wake) waiting.delete(wake);
        wake = undefined;
      }
    }
  } finally {
    api.response.off('close', onClose);
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
