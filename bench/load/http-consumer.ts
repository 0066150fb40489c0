/**
 * Load-generator HTTP consumer (a worker process, see worker-process.ts): `pollers` loops over keep-alive
 * connections (node:http Agent; one request per 100 messages, so the client library's cost is small),
 * counting messages and checking body sizes.
 *
 * - `courier`: `GET /api/queues/{q}/messages?max=100&wait=5` (a long poll: the answer comes as soon as a
 *   message is there), then `POST /api/queues/{q}/messages/ack` with the receipt handles, then again.
 * - `rabbitmq-management`: `POST /api/queues/%2f/{q}/get` with count 100 and ackmode ack_requeue_false
 *   (RabbitMQ's only HTTP read; it does not wait, so an empty answer is retried after `emptyRetryMs`).
 *
 * Done when `expected` messages arrived, or, once the harness says every publisher has finished, when
 * nothing has arrived for `idleMs`.
 */
import { Agent, request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { nowNs, serveWorker, watchUntilIdle, type Worker } from './worker-process.js';

export const HTTP_CONSUMER_SCRIPT = fileURLToPath(import.meta.url);

export interface HttpConsumerConfig {
  readonly label: string;
  readonly host: string;
  readonly port: number;
  readonly authorization: string;
  readonly flavour: 'courier' | 'rabbitmq-management';
  readonly queue: string;
  readonly pollers: number;
  readonly bodyBytes: number;
  readonly expected: number;
  readonly idleMs: number;
  readonly emptyRetryMs: number;
}

export interface HttpConsumerReport {
  readonly received: number;
  readonly badBodies: number;
  readonly polls: number;
  readonly emptyPolls: number;
  readonly retries: number;
  readonly goNs: number;
  readonly firstNs: number;
  readonly lastNs: number;
  readonly cpuUserMicros: number;
  readonly cpuSystemMicros: number;
  readonly timedOut: boolean;
}

interface CourierMessage {
  readonly body: string;
  readonly receiptHandle: string;
}

interface RabbitMessage {
  readonly payload_bytes: number;
}

export async function createHttpConsumer(config: HttpConsumerConfig): Promise<Worker<HttpConsumerReport>> {
  const agent = new Agent({ keepAlive: true, maxSockets: config.pollers });
  let retries = 0;
  const callOnce = (method: string, path: string, body?: string, fresh = false): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: config.host,
          port: config.port,
          method,
          path,
          agent: fresh ? false : agent,
          headers: { authorization: config.authorization, ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          response.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  // A kept-alive socket the server has just closed (idle timeout, a cap on requests per connection) fails
  // the next request written to it before anything was sent: that one is retried once, on a new socket.
  const call = async (method: string, path: string, body?: string): Promise<{ status: number; text: string }> => {
    try {
      return await callOnce(method, path, body);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EPIPE' && code !== 'ECONNRESET') throw error;
      retries += 1;
      // Other pooled sockets may be just as stale: a new connection.
      return callOnce(method, path, body, true);
    }
  };

  const encodedQueue = encodeURIComponent(config.queue);
  let received = 0;
  let badBodies = 0;
  let polls = 0;
  let emptyPolls = 0;
  let goNs = 0;
  let firstNs = 0;
  let lastNs = 0;
  let cpuAtStart = process.cpuUsage();
  let finished = false;
  let idleTimer: NodeJS.Timeout | undefined;

  let resolveResult!: (report: HttpConsumerReport) => void;
  let rejectResult!: (error: Error) => void;
  const result = new Promise<HttpConsumerReport>((resolve, reject) => {
    resolveResult = resolve;
    rejectResult = reject;
  });
  const finish = (timedOut: boolean): void => {
    if (finished) return;
    finished = true;
    if (idleTimer) clearInterval(idleTimer);
    const cpu = process.cpuUsage(cpuAtStart);
    resolveResult({ received, badBodies, polls, emptyPolls, retries, goNs, firstNs, lastNs, cpuUserMicros: cpu.user, cpuSystemMicros: cpu.system, timedOut });
  };
  const arrived = (count: number): void => {
    if (count === 0) return;
    received += count;
    const now = nowNs();
    if (firstNs === 0) firstNs = now;
    lastNs = now;
    if (received >= config.expected) finish(false);
  };

  /** One poll (and its ack); resolves with the number of messages it took. */
  const pollOnce = async (): Promise<number> => {
    polls += 1;
    if (config.flavour === 'courier') {
      const got = await call('GET', `/api/queues/${encodedQueue}/messages?max=100&wait=5`);
      if (got.status !== 200) throw new Error(`${config.label}: GET messages answered ${got.status}: ${got.text.slice(0, 200)}`);
      const messages = (JSON.parse(got.text) as { messages: CourierMessage[] }).messages;
      for (const message of messages) if (Buffer.byteLength(message.body, 'base64') !== config.bodyBytes) badBodies += 1;
      if (messages.length > 0) {
        const acked = await call('POST', `/api/queues/${encodedQueue}/messages/ack`, JSON.stringify({ receiptHandles: messages.map((message) => message.receiptHandle) }));
        if (acked.status !== 200) throw new Error(`${config.label}: ack answered ${acked.status}: ${acked.text.slice(0, 200)}`);
      }
      return messages.length;
    }
    const got = await call('POST', `/api/queues/%2f/${encodedQueue}/get`, JSON.stringify({ count: 100, ackmode: 'ack_requeue_false', encoding: 'auto', truncate: 1_000_000 }));
    if (got.status !== 200) throw new Error(`${config.label}: POST get answered ${got.status}: ${got.text.slice(0, 200)}`);
    const messages = JSON.parse(got.text) as RabbitMessage[];
    for (const message of messages) if (message.payload_bytes !== config.bodyBytes) badBodies += 1;
    return messages.length;
  };

  const poller = async (): Promise<void> => {
    while (!finished) {
      const count = await pollOnce();
      if (count === 0) {
        emptyPolls += 1;
        if (config.flavour !== 'courier') await new Promise((resolve) => setTimeout(resolve, config.emptyRetryMs));
      }
      arrived(count);
    }
  };

  // Reachable before `ready`: an authorised request that changes nothing.
  const probe = await call('GET', config.flavour === 'courier' ? `/api/queues/${encodedQueue}` : `/api/queues/%2f/${encodedQueue}`);
  if (probe.status !== 200) throw new Error(`${config.label}: queue ${config.queue} not there (${probe.status}: ${probe.text.slice(0, 200)})`);

  return {
    go: () => {
      cpuAtStart = process.cpuUsage();
      goNs = nowNs();
      for (let i = 0; i < config.pollers; i++) poller().catch((error: unknown) => rejectResult(error instanceof Error ? error : new Error(String(error))));
    },
    publishersDone: () => {
      if (finished) return;
      idleTimer = watchUntilIdle(() => received, config.idleMs, () => finish(true));
    },
    result,
    close: () => {
      finished = true;
      agent.destroy();
      return Promise.resolve();
    },
  };
}

if (process.argv[1] === HTTP_CONSUMER_SCRIPT) serveWorker(createHttpConsumer);
