/**
 * Load-generator HTTP publisher (a worker process, see worker-process.ts): `messages` POSTs of one
 * pre-encoded request, over `connections` keep-alive connections with one request in flight on each (no
 * pipelining: what a keep-alive agent with that many sockets does), so `connections` requests are in
 * flight at once. Responses are read by a minimal HTTP/1.1 response reader (status line, Content-Length or
 * chunked body, skipped); a response with `expectedStatus` counts as a success, any other as an error
 * (the first few are kept for the report). No client library: node:http's client would cost more per
 * request than some of the servers it measures.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { nowNs, serveWorker, type Worker } from './worker-process.js';

export const HTTP_PUBLISHER_SCRIPT = fileURLToPath(import.meta.url);

export interface HttpPublisherConfig {
  readonly label: string;
  readonly host: string;
  readonly port: number;
  /** The whole request, head and body, sent as is for every message. */
  readonly request: string;
  readonly expectedStatus: number;
  readonly messages: number;
  readonly connections: number;
}

export interface HttpPublisherReport {
  readonly sent: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Connections the server closed between requests, replaced. */
  readonly reconnects: number;
  readonly failures: readonly string[];
  readonly startNs: number;
  readonly endNs: number;
  readonly cpuUserMicros: number;
  readonly cpuSystemMicros: number;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/** Reads responses off one connection; calls `onResponse(status, body)` for each complete one. */
export class HttpResponseReader {
  private pending: Buffer | undefined;

  push(chunk: Buffer, onResponse: (status: number, data: Buffer, bodyStart: number, bodyEnd: number, close: boolean) => void): void {
    let data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let offset = 0;
    for (;;) {
      const headEnd = data.indexOf(HEAD_END, offset);
      if (headEnd < 0) break;
      // "HTTP/1.1 201 ..."
      const status = (data[offset + 9]! - 0x30) * 100 + (data[offset + 10]! - 0x30) * 10 + (data[offset + 11]! - 0x30);
      const head = data.toString('latin1', offset, headEnd).toLowerCase();
      const bodyStart = headEnd + 4;
      // The server's last response on this connection (RFC 9112, 9.6).
      const close = head.includes('\r\nconnection: close');
      const lengthAt = head.indexOf('\r\ncontent-length:');
      if (lengthAt >= 0) {
        const length = Number.parseInt(head.slice(lengthAt + 17), 10);
        if (bodyStart + length > data.length) break;
        onResponse(status, data, bodyStart, bodyStart + length, close);
        offset = bodyStart + length;
      } else if (head.includes('\r\ntransfer-encoding: chunked')) {
        // Chunks: size CRLF data CRLF ... 0 CRLF CRLF (no trailers from the servers measured).
        let at = bodyStart;
        let complete = false;
        for (;;) {
          const lineEnd = data.indexOf(CRLF, at);
          if (lineEnd < 0) break;
          const size = Number.parseInt(data.toString('latin1', at, lineEnd), 16);
          if (size === 0) {
            if (lineEnd + 4 <= data.length) {
              complete = true;
              at = lineEnd + 4;
            }
            break;
          }
          if (lineEnd + 2 + size + 2 > data.length) break;
          at = lineEnd + 2 + size + 2;
        }
        if (!complete) break;
        onResponse(status, data, bodyStart, at, close);
        offset = at;
      } else {
        // No body (204, 304) or one we cannot delimit: nothing to skip.
        onResponse(status, data, bodyStart, bodyStart, close);
        offset = bodyStart;
      }
    }
    if (offset < data.length) {
      data = data.subarray(offset);
      this.pending = Buffer.from(data);
    }
  }
}

function open(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port });
    socket.setNoDelay(true);
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

export async function createHttpPublisher(config: HttpPublisherConfig): Promise<Worker<HttpPublisherReport>> {
  const request = Buffer.from(config.request, 'utf8');
  const sockets = await Promise.all(Array.from({ length: config.connections }, () => open(config.host, config.port)));
  let sent = 0;
  let succeeded = 0;
  let failed = 0;
  let reconnects = 0;
  const failureSamples: string[] = [];
  let startNs = 0;
  let cpuAtStart = process.cpuUsage();
  let finished = false;

  let resolveResult!: (report: HttpPublisherReport) => void;
  let rejectResult!: (error: Error) => void;
  const result = new Promise<HttpPublisherReport>((resolve, reject) => {
    resolveResult = resolve;
    rejectResult = reject;
  });
  const finish = (): void => {
    if (finished) return;
    finished = true;
    const cpu = process.cpuUsage(cpuAtStart);
    resolveResult({ sent, succeeded, failed, reconnects, failures: failureSamples, startNs, endNs: nowNs(), cpuUserMicros: cpu.user, cpuSystemMicros: cpu.system });
  };

  let started = false;
  const starters: (() => void)[] = [];
  // Servers may close a kept-alive connection after so many requests (Cowboy's max_keepalive) or when
  // idle: a connection closed with no request in flight is replaced and goes on; one closed with a
  // request unanswered fails the run (the request may or may not have been taken).
  const attach = (socket: Socket, index: number): void => {
    const reader = new HttpResponseReader();
    let inFlight = false;
    // The server said this response is its last here.
    let closing = false;
    const next = (): void => {
      if (sent < config.messages) {
        sent += 1;
        inFlight = true;
        socket.write(request);
      }
    };
    starters[index] = next;
    socket.on('data', (chunk: Buffer) => {
      reader.push(chunk, (status, data, bodyStart, bodyEnd, close) => {
        inFlight = false;
        if (close) closing = true;
        if (status === config.expectedStatus) succeeded += 1;
        else {
          failed += 1;
          if (failureSamples.length < 5) failureSamples.push(`${status} ${data.toString('utf8', bodyStart, Math.min(bodyEnd, bodyStart + 200))}`);
        }
        if (succeeded + failed >= config.messages) finish();
        // Cowboy waits for the client to close after its last response: close it, the replacement goes on.
        else if (closing) socket.destroy();
        else next();
      });
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (finished || !started) return;
      if (inFlight) {
        rejectResult(new Error(`${config.label}: the server closed a connection with a request unanswered (${succeeded + failed} of ${config.messages} answered)`));
        return;
      }
      reconnects += 1;
      open(config.host, config.port).then(
        (replacement) => {
          sockets[index] = replacement;
          attach(replacement, index);
          // The replacement's own `next`, not this closed socket's.
          starters[index]?.();
        },
        (error: unknown) => rejectResult(new Error(`${config.label}: reconnecting: ${error instanceof Error ? error.message : String(error)}`)),
      );
    });
  };
  sockets.forEach((socket, index) => attach(socket, index));

  return {
    go: () => {
      started = true;
      cpuAtStart = process.cpuUsage();
      startNs = nowNs();
      for (const start of starters) start();
    },
    publishersDone: () => undefined,
    result,
    close: () => {
      finished = true;
      for (const socket of sockets) socket.destroy();
      return Promise.resolve();
    },
  };
}

if (process.argv[1] === HTTP_PUBLISHER_SCRIPT) serveWorker(createHttpPublisher);
