import assert from 'node:assert/strict';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { CliIo } from './cli-io.js';
import { main } from './main.js';

/** An io whose signals the test raises itself, and whose forceExit only records the code. */
function signallingIo(): {
  io: CliIo;
  raise: (signal: NodeJS.Signals) => void;
  listening: Promise<void>;
  forcedExits: number[];
  stderr: () => string;
} {
  let handler: ((signal: NodeJS.Signals) => void) | undefined;
  let onListening: () => void = () => {};
  const listening = new Promise<void>((resolve) => (onListening = resolve));
  const forcedExits: number[] = [];
  let err = '';
  return {
    io: {
      stdout: () => {},
      stderr: (text) => void (err += text),
      env: {},
      cwd: tmpdir(),
      onShutdownSignal(registered) {
        handler = registered;
        onListening();
        return () => (handler = undefined);
      },
      forceExit: (code) => void forcedExits.push(code),
    },
    raise: (signal) => handler?.(signal),
    listening,
    forcedExits,
    stderr: () => err,
  };
}

const allListenersOff = ['--mqtt-port', '0', '--amqp-port', '0', '--stomp-port', '0', '--http-port', '0', '--kafka-port', '0'];

describe('courier serve lifecycle', async () => {
  const root = await mkdtemp(join(tmpdir(), 'courier-serve-'));
  after(() => rm(root, { recursive: true, force: true }));

  it('a signal stops the server cleanly: exit 0 and the lock file is gone', async () => {
    const dataDir = join(root, 'one-signal');
    const fake = signallingIo();
    const running = main(['serve', '--data-dir', dataDir, '--log-level', 'silent', ...allListenersOff], fake.io);
    await fake.listening;
    fake.raise('SIGTERM');
    assert.equal(await running, 0);
    assert.equal(fake.stderr(), '');
    assert.deepEqual(fake.forcedExits, []);
    await assert.rejects(access(join(dataDir, 'courier.lock')), { code: 'ENOENT' });
  });

  it('a second signal during shutdown forces exit 1', async () => {
    const fake = signallingIo();
    const running = main(['serve', '--data-dir', join(root, 'two-signals'), '--log-level', 'silent', ...allListenersOff], fake.io);
    await fake.listening;
    fake.raise('SIGINT');
    fake.raise('SIGINT');
    assert.deepEqual(fake.forcedExits, [1]);
    // The fake does not end the process, so the orderly stop still completes.
    assert.equal(await running, 0);
  });
});
