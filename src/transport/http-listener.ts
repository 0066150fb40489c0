import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { listenOn, type BindTarget, type ListenAddress } from './bind.js';
import { SocketTracker } from './socket-tracker.js';

export type HttpHandler = (request: IncomingMessage, response: ServerResponse) => void;

export interface HttpListenerOptions extends BindTarget {
  readonly handler: HttpHandler;
  readonly onError?: (error: Error) => void;
  /** Takes HTTP upgrade requests (WebSocket endpoints); without it they are refused. */
  readonly onUpgrade?: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

/** An HTTP server on host:port whose close() ends keep-alive and in-flight connections too. */
export class HttpListener {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    private readonly tracker: SocketTracker,
    readonly address: ListenAddress,
  ) {}

  static async open(options: HttpListenerOptions): Promise<HttpListener> {
    const server = createServer(options.handler);
    // Tracked from the first connection so that no socket escapes close(), upgraded ones included.
    const tracker = new SocketTracker();
    server.on('connection', (socket) => {
      socket.setNoDelay(true);
      tracker.add(socket);
    });
    if (options.onUpgrade) server.on('upgrade', options.onUpgrade);
    const address = await listenOn(server, options);
    server.on('error', (error) => options.onError?.(error));
    return new HttpListener(server, tracker, address);
  }

  stopAccepting(): void {
    this.closing ??= new Promise((resolve) => this.server.close(() => resolve()));
  }

  async close(): Promise<void> {
    this.stopAccepting();
    this.tracker.destroyAll();
    await this.closing;
  }
}
