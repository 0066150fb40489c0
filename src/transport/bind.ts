import type { Server as NetServer } from 'node:net';
import { BrokerError } from '../core/errors.js';

export interface BindTarget {
  readonly host: string;
  /** 0 asks the OS for a free port. */
  readonly port: number;
  /** Names the setting behind the port in error messages, e.g. "--mqtt-port". */
  readonly portSetting?: string;
  /** Names the setting behind the host, e.g. "--bind". */
  readonly hostSetting?: string;
}

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

function suffix(setting: string | undefined): string {
  return setting === undefined ? '' : ` (${setting})`;
}

/** Turns bind failures into one sentence an operator can act on. */
export function bindError(error: unknown, target: BindTarget): BrokerError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const { host, port } = target;
  const options = { cause: error };
  switch (code) {
    case 'EADDRINUSE':
      return new BrokerError('PORT_IN_USE', `port ${port} on ${host} is already in use${suffix(target.portSetting)}`, { host, port }, options);
    case 'EACCES':
      return new BrokerError('PORT_IN_USE', `no permission to listen on port ${port} on ${host}${suffix(target.portSetting)}`, { host, port }, options);
    case 'EADDRNOTAVAIL':
      return new BrokerError('PORT_IN_USE', `address ${host} is not available on this machine${suffix(target.hostSetting)}`, { host, port }, options);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new BrokerError('PORT_IN_USE', `cannot resolve host ${host}${suffix(target.hostSetting)}`, { host, port }, options);
    default: {
      const reason = error instanceof Error ? error.message : String(error);
      return new BrokerError('PORT_IN_USE', `cannot listen on ${host} port ${port}${suffix(target.portSetting)}: ${reason}`, { host, port }, options);
    }
  }
}

/** Binds `server` and resolves with the address actually bound (the real port when 0 was asked). */
export function listenOn(server: NetServer, target: BindTarget): Promise<ListenAddress> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off('listening', onListening);
      reject(bindError(error, target));
    };
    const onListening = (): void => {
      server.off('error', onError);
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : target.port;
      resolve({ host: target.host, port });
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host: target.host, port: target.port, exclusive: true });
  });
}
