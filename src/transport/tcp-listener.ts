import { createServer, type Server, type Socket } from 'node:net';
import { listenOn, type BindTarget, type ListenAddress } from './bind.js';
import { SocketTracker } from './socket-tracker.js';

export interface TcpListenerOptions extends BindTarget {
  /** Takes ownership of each accepted connection. */
  readonly onConnection: (socket: Socket) => void;
  /** Errors of the listening socket after it was bound (accept failures); bind errors reject open(). */
  readonly onError?: (error: Error) => void;
}

/**
 * A TCP server producing connections for one protocol adapter; knows nothing of the protocol. Nagle is
 * off on every connection: brokers send many small frames and latency matters more than packet count.
 */
export class TcpListener {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    private readonly tracker: SocketTracker,
    readonly address: ListenAddress,
  ) {}

  /** Binds host:port; rejects with BrokerError PORT_IN_USE (worded for the operator) when it cannot. */
  static async open(options: TcpListenerOptions): Promise<TcpListener> {
    const server = createServer();
    const tracker = new SocketTracker();
    server.on('connection', (socket) => {
      socket.setNoDelay(true);
      tracker.add(socket);
      options.onConnection(socket);
    });
    const address = await listenOn(server, options);
    server.on('error', (error) => options.onError?.(error));
    return new TcpListener(server, tracker, address);
  }

  get connectionCount(): number {
    return this.tracker.size;
  }

  /** Refuses new connections; existing ones stay until close(), so adapters can end sessions politely. */
  stopAccepting(): void {
    this.closing ??= new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Stops accepting, destroys every connection still open, and resolves once the server is closed. */
  async close(): Promise<void> {
    this.stopAccepting();
    this.tracker.destroyAll();
    await this.closing;
  }
}
