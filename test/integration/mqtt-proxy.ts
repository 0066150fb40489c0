/**
 * A TCP relay between a real MQTT client and the broker that can swallow what the broker sends: the way
 * to lose a PUBREC "in the network" and see what the client's resend does. Listens on 127.0.0.1 port 0;
 * each client connection gets its own upstream connection to the broker's port.
 */
import { once } from 'node:events';
import { connect as tcpConnect, createServer, type Socket } from 'node:net';

export class LossyProxy {
  /** While true, bytes from the broker are counted in `dropped` and not passed on to the client. */
  dropFromBroker = false;
  /** Bytes swallowed so far. */
  dropped = 0;
  private readonly sockets = new Set<Socket>();
  private readonly server = createServer((client) => this.relay(client));

  private constructor(private readonly targetPort: number) {}

  static async start(targetPort: number): Promise<LossyProxy> {
    const proxy = new LossyProxy(targetPort);
    proxy.server.listen(0, '127.0.0.1');
    await once(proxy.server, 'listening');
    return proxy;
  }

  get port(): number {
    const address = this.server.address();
    if (!address || typeof address !== 'object') throw new Error('the proxy is not listening');
    return address.port;
  }

  private relay(client: Socket): void {
    const upstream = tcpConnect({ host: '127.0.0.1', port: this.targetPort });
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => this.sockets.delete(socket));
    }
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      if (this.dropFromBroker) this.dropped += chunk.length;
      else client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
    await once(this.server, 'close');
  }
}
