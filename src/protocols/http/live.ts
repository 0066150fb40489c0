import { randomBytes } from 'node:crypto';
import type { Connection } from '../../core/connection.js';
import { BrokerError } from '../../core/errors.js';
import type { Delivery } from '../../core/channel.js';
import type { TimerHandle } from '../../core/ports.js';
import { messageFromRequest, messageJson } from './message-json.js';
import { sendProblem } from '../../transport/http/problem.js';
import { integerParam } from '../../transport/http/query.js';
import { readBody } from '../../transport/http/request-body.js';
import type { ApiRequest } from './route-types.js';

/** Messages an event stream may have written but not yet flushed to its socket. */
const SSE_WINDOW = 64;

/** Open event streams, so that closing the API ends them. */
export type OpenStreams = Set<() => void>;

/** A private, server-named, exclusive queue of a fresh connection: it goes when the connection closes. */
async function privateQueue(api: ApiRequest): Promise<{ connection: Connection; queue: string }> {
  const connection = api.broker.connect(api.principal, { protocol: 'http', remoteAddress: api.request.socket.remoteAddress ?? '' });
  try {
    const declared = await connection.declareQueue({ name: '', durable: false, exclusive: true, autoDelete: true });
    return { connection, queue: declared.name };
  } catch (error) {
    await connection.close();
    throw error;
  }
}

/**
 * GET /api/topics/{pattern}/events: server-sent events of every message published on `amq.topic` with a
 * routing key matching the AMQP pattern (`*` one word, `#` any). The private queue is deleted as soon as
 * the client goes away. A comment line every `heartbeatMs` keeps proxies from timing the stream out.
 */
export async function topicEvents(api: ApiRequest, pattern: string, streams: OpenStreams, heartbeatMs: number): Promise<void> {
  const { connection, queue } = await privateQueue(api);
  let heartbeat: TimerHandle | undefined;
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    streams.delete(end);
    heartbeat?.cancel();
    if (!api.response.writableEnded) api.response.end();
    void connection.close();
  };
  // Management's close ends the event stream (SSE has no close message: the client sees the end).
  connection.onCloseRequest(end);
  try {
    await connection.bind({ source: 'amq.topic', destination: queue, destinationKind: 'queue', routingKey: pattern });
    const channel = connection.openChannel();
    let id = 0;
    // Acked once written to the socket: a slow client holds at most SSE_WINDOW messages in memory here,
    // the rest wait in its queue.
    connection.consume(channel, queue, { noAck: false, prefetch: SSE_WINDOW }, {
      deliver: (delivery: Delivery) => {
        // Between the client leaving and the connection closing, deliveries go back with the channel.
        if (ended) return;
        id += 1;
        api.response.write(`event: message\nid: ${id}\ndata: ${JSON.stringify(messageJson(delivery.message))}\n\n`, () => {
          if (ended) return;
          try {
            channel.ack(delivery.deliveryTag);
          } catch {
            // The channel closed under the stream (shutdown): its deliveries were returned already.
          }
        });
      },
      cancelled: end,
    });
  } catch (error) {
    end();
    throw error;
  }
  streams.add(end);
  api.response.once('close', end);
  api.response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
  api.response.write(': subscribed\n\n');
  const beat = (): void => {
    if (ended) return;
    api.response.write(': heartbeat\n\n');
    heartbeat = api.clock.setTimer(heartbeatMs, beat);
  };
  heartbeat = api.clock.setTimer(heartbeatMs, beat);
}

/**
 * POST /api/topics/{topic}/requests?timeout=S: publishes the body to `amq.topic` with a private reply
 * queue and a random correlation id, and answers with the first reply carrying that id (its body bytes
 * and content type), or 504 after `timeout` seconds (default 30, at most 300).
 */
export async function requestReply(api: ApiRequest, topic: string, maxBodyBytes: number): Promise<void> {
  const timeoutMs = integerParam(api.url, 'timeout', 30, 1, 300) * 1000;
  api.broker.alarms.assertClear();
  const body = await readBody(api.request, maxBodyBytes);
  const { connection, queue } = await privateQueue(api);
  try {
    const correlationId = randomBytes(16).toString('hex');
    const reply = new Promise<Delivery | undefined>((resolve) => {
      const timer = api.clock.setTimer(timeoutMs, () => resolve(undefined));
      const channel = connection.openChannel();
      connection.consume(channel, queue, { noAck: true }, {
        deliver: (delivery) => {
          if (delivery.message.properties.correlationId !== correlationId) return;
          timer.cancel();
          resolve(delivery);
        },
      });
      api.response.once('close', () => {
        timer.cancel();
        resolve(undefined);
      });
    });
    const message = messageFromRequest('amq.topic', topic, api.request.headers, body);
    message.properties.replyTo = queue;
    message.properties.correlationId = correlationId;
    const outcome = api.broker.publish(api.principal, message);
    await outcome.durable;
    if (outcome.routed === 0) {
      throw new BrokerError('QUEUE_NOT_FOUND', `no queue is bound to topic '${topic}': nobody can answer`, { httpStatus: 404, topic });
    }
    const delivery = await reply;
    if (api.response.destroyed) return;
    if (!delivery) {
      sendProblem(api.response, {
        status: 504,
        code: 'TIMEOUT',
        detail: `no reply within ${timeoutMs / 1000} s`,
        instance: api.url.pathname,
      });
      return;
    }
    const replyBody = delivery.message.body;
    api.response.writeHead(200, {
      'content-type': delivery.message.properties.contentType ?? 'application/octet-stream',
      'content-length': replyBody.byteLength,
      'x-courier-correlation-id': correlationId,
      'cache-control': 'no-store',
    });
    api.response.end(replyBody);
  } finally {
    await connection.close();
  }
}
