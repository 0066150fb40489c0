/**
 * What the load generator's protocol connections (MQTT, AMQP, STOMP) share around their sockets: one
 * failure reported once to whoever waits, handshake waits bounded in time, and a close bounded in time.
 */
import type { Socket } from 'node:net';

export class FailureLatch {
  private failure: Error | undefined;
  private readonly listeners = new Set<(error: Error) => void>();
  /** Set when the connection is closed on purpose: what breaks afterwards is no failure. */
  closing = false;

  get error(): Error | undefined {
    return this.failure;
  }

  fail(error: Error): void {
    if (this.failure || this.closing) return;
    this.failure = error;
    for (const listener of this.listeners) listener(error);
    this.listeners.clear();
  }

  /** Calls `listener` once if the connection breaks (at once if it has). Returns the function that stops listening. */
  onFailure(listener: (error: Error) => void): () => void {
    if (this.failure) listener(this.failure);
    else this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/**
 * Waits for what `arm` resolves (a handshake reply), failing with "no `what` within" after `timeoutMs`
 * or with the connection's failure.
 */
export function expectWithin(
  label: string,
  what: string,
  timeoutMs: number,
  failures: FailureLatch,
  arm: (resolve: () => void, reject: (error: Error) => void) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label}: no ${what} within ${timeoutMs} ms`)), timeoutMs);
    const done = (error?: Error): void => {
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    };
    failures.onFailure((error) => done(error));
    arm(() => done(), (error) => done(error));
  });
}

/** Sends the protocol's goodbye with `goodbye` and resolves once the socket closed, destroying it after 2 s. */
export async function closeWithin2s(socket: Socket, goodbye: () => void): Promise<void> {
  if (socket.destroyed) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve();
    }, 2_000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    goodbye();
  });
}
