import { BrokerError } from '../../core/errors.js';
import { messageFromRequest } from './message-json.js';
import { sendJson, sendProblem } from '../../transport/http/problem.js';
import { readBody } from '../../transport/http/request-body.js';
import type { ApiRequest } from './route-types.js';

/**
 * Publishes the request body and answers once the message is durable: 201 `{ routed, durable: true }`.
 * Unroutable: 200 with routed 0 (nothing was stored, nothing to wait for). A queue at its max length
 * refusing the message: 429 QUEUE_FULL, as AMQP nacks the publisher (other queues may hold it).
 */
export async function publishRequest(api: ApiRequest, exchange: string, routingKey: string, maxBodyBytes: number): Promise<void> {
  // A request cannot be left unread the way a publisher's socket is: it is refused, to be retried.
  api.broker.alarms.assertClear();
  const body = await readBody(api.request, maxBodyBytes);
  api.broker.alarms.assertClear();
  const message = messageFromRequest(exchange, routingKey, api.request.headers, body);
  const outcome = api.broker.publish(api.principal, message);
  await outcome.durable;
  if (outcome.rejected) {
    sendProblem(api.response, {
      status: 429,
      code: 'QUEUE_FULL',
      detail: `a queue at its max length refused the message (stored in ${outcome.routed} other queue(s))`,
      instance: api.url.pathname,
    });
    return;
  }
  sendJson(api.response, outcome.routed === 0 ? 200 : 201, { routed: outcome.routed, durable: true });
}

export function publishToQueue(api: ApiRequest, queue: string, maxBodyBytes: number): Promise<void> {
  if (!api.broker.getQueue(queue) && !api.broker.getStream(queue)) {
    return Promise.reject(new BrokerError('QUEUE_NOT_FOUND', `no queue '${queue}' in vhost '/'`, { queue }));
  }
  return publishRequest(api, '', queue, maxBodyBytes);
}

export function publishToExchange(api: ApiRequest, exchange: string, maxBodyBytes: number): Promise<void> {
  const routingKey = api.url.searchParams.get('routingKey') ?? '';
  return publishRequest(api, exchange, routingKey, maxBodyBytes);
}
