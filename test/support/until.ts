/** Waiting for a condition in integration tests: bounded by a timeout, never a fixed sleep. */

export const WAIT_MS = 10_000;

/**
 * Resolves once `condition` holds, checked on each notification and on a coarse poll; fails after the
 * timeout with `what` in the message.
 */
export async function until(condition: () => boolean, what: string, timeoutMs = WAIT_MS, notify?: Set<() => void>): Promise<void> {
  if (condition()) return;
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (!condition()) return;
      cleanup();
      resolve();
    };
    const poll = setInterval(check, 20);
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    notify?.add(check);
    const cleanup = (): void => {
      clearInterval(poll);
      clearTimeout(timer);
      notify?.delete(check);
    };
  });
}
