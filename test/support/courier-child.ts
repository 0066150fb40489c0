/** `courier serve` of this checkout as a child process, for crash and CLI tests, on a free loopback port. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { ChildProcesses, LineChild } from './child-process.js';

/** bin/courier.js of this checkout (this file runs from dist/test/support/). */
export const courierBin = fileURLToPath(new URL('../../../bin/courier.js', import.meta.url));

/** A TCP port free on loopback now: the OS picks it, the caller binds it soon after. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  server.close();
  await once(server, 'close');
  return address.port;
}

const LISTENER_FLAGS = ['--mqtt-port', '--amqp-port', '--stomp-port', '--kafka-port', '--http-port'] as const;

/** Starts `courier serve` on `dataDir` with one listener on `port` (the others off); resolves once it logged its start. */
export async function serveCourier(
  children: ChildProcesses,
  dataDir: string,
  listener: (typeof LISTENER_FLAGS)[number],
  port: number,
  timeoutMs = 20_000,
): Promise<LineChild> {
  const ports = LISTENER_FLAGS.flatMap((flag) => [flag, flag === listener ? String(port) : '0']);
  const child = children.node(courierBin, ['serve', '--data-dir', dataDir, ...ports]);
  await child.waitUntil(() => child.lines.some((line) => line.includes('"courier started"')), 'courier to start', timeoutMs);
  return child;
}
