/**
 * The `courier` command as users run it: a child process started from bin/courier.js, observed through its
 * exit code, stderr, JSON log lines on stdout, and its HTTP port.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { flagOf, settings } from '../../src/server/settings.js';
import { freePort } from '../support/courier-child.js';

// Compiled to dist/test/integration/: the repository root is three levels up.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(repoRoot, 'bin', 'courier.js');
const waitLimitMs = 20_000;

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

class Courier {
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  private readonly waiters = new Set<() => void>();

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.append('stdout', chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.append('stderr', chunk));
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        resolve({ code, signal });
        this.notify();
      });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  logLines(): Record<string, unknown>[] {
    return this.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** Resolves with the first log line that satisfies `match`; fails if the process exits first or time runs out. */
  waitForLog(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.logLines().find(match);
        if (found) finish(() => resolve(found));
        else if (!this.running) finish(() => reject(new Error(`courier exited first:\n${this.stdout}\n${this.stderr}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`no such log line in time:\n${this.stdout}\n${this.stderr}`))), waitLimitMs);
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  async waitForExit(): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`courier did not exit in time:\n${this.stdout}\n${this.stderr}`)), waitLimitMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private append(stream: 'stdout' | 'stderr', chunk: string): void {
    this[stream] += chunk;
    this.notify();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

const started = new Set<Courier>();

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('COURIER_')) env[name] = value;
  return { ...env, ...extra };
}

function courier(args: readonly string[], options: { env?: Record<string, string>; cwd?: string } = {}): Courier {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: cleanEnv(options.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const running = new Courier(child);
  started.add(running);
  return running;
}

/** Listens on port 0 and gives the port back: free at that moment. */

/** Every protocol listener off, so that tests never collide with the default ports. */
const protocolsOff = ['--mqtt-port', '0', '--amqp-port', '0', '--stomp-port', '0', '--kafka-port', '0'];

const isStartedLine = (line: Record<string, unknown>): boolean => line.msg === 'courier started';

function httpAddressOf(line: Record<string, unknown>): string {
  const listeners = line.listeners as Record<string, string> | undefined;
  assert.ok(listeners?.http, 'the startup line names the http listener');
  return listeners.http;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function oneLine(text: string): string {
  const lines = text.split('\n');
  assert.equal(lines.length, 2, `exactly one line on stderr, got: ${JSON.stringify(text)}`);
  assert.equal(lines[1], '');
  return lines[0] ?? '';
}

describe('courier (CLI)', () => {
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'courier-cli-'));
  });
  after(async () => {
    for (const running of started) {
      if (running.running && running.child.pid !== undefined) process.kill(running.child.pid, 'SIGKILL');
    }
    await Promise.all([...started].map((running) => running.exited));
    await rm(root, { recursive: true, force: true });
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    const run = courier(['--version']);
    assert.deepEqual(await run.waitForExit(), { code: 0, signal: null });
    assert.equal(run.stdout, `${version}\n`);
  });

  it('serve --help lists every flag', async () => {
    const run = courier(['serve', '--help']);
    assert.equal((await run.waitForExit()).code, 0);
    for (const definition of settings) assert.ok(run.stdout.includes(`${flagOf(definition)} `), definition.name);
    for (const flag of ['--data-dir', '--bind', '--mqtt-port', '--amqp-port', '--stomp-port', '--http-port', '--kafka-port', '--log-level']) {
      assert.match(run.stdout, new RegExp(`^  ${flag} `, 'm'));
    }
  });

  it('serves /healthz, refuses a second broker on the same data dir, and stops cleanly on SIGTERM', async () => {
    const dataDir = join(root, 'lifecycle');
    const port = await freePort();
    const first = courier(['serve', '--data-dir', dataDir, '--http-port', String(port), ...protocolsOff]);
    const startedLine = await first.waitForLog(isStartedLine);
    assert.equal(httpAddressOf(startedLine), `127.0.0.1:${port}`);
    assert.equal(startedLine.dataDir, dataDir);
    assert.equal(typeof startedLine.version, 'string');

    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
    assert.ok(await exists(join(dataDir, 'courier.lock')));

    const second = courier(['serve', '--data-dir', dataDir, '--http-port', String(await freePort()), ...protocolsOff]);
    const secondExit = await second.waitForExit();
    assert.equal(secondExit.code, 1);
    assert.equal(
      oneLine(second.stderr),
      `courier: data directory ${dataDir} is in use by another Courier process (pid ${first.child.pid}); stop it or use another --data-dir`,
    );
    assert.ok(first.running, 'the first broker is unaffected');

    first.child.kill('SIGTERM');
    assert.deepEqual(await first.waitForExit(), { code: 0, signal: null });
    assert.equal(first.stderr, '');
    assert.equal(await exists(join(dataDir, 'courier.lock')), false);
    assert.ok(first.logLines().some((line) => line.msg === 'courier stopped'));
  });

  it('a port in use ends the start with one clear line and exit 1', async () => {
    const blocker: Server = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    try {
      const address = blocker.address();
      assert.ok(address && typeof address === 'object');
      const dataDir = join(root, 'port-in-use');
      const run = courier(['serve', '--data-dir', dataDir, '--http-port', String(address.port), ...protocolsOff]);
      assert.equal((await run.waitForExit()).code, 1);
      assert.equal(oneLine(run.stderr), `courier: port ${address.port} on 127.0.0.1 is already in use (--http-port)`);
      assert.equal(await exists(join(dataDir, 'courier.lock')), false, 'the lock is released after a failed start');
    } finally {
      blocker.close();
    }
  });

  it('a bad flag value or an unknown flag is a usage error: exit 2 and one line', async () => {
    const badValue = courier(['serve', '--mqtt-port', 'abc']);
    assert.equal((await badValue.waitForExit()).code, 2);
    assert.equal(oneLine(badValue.stderr), 'courier: invalid value "abc" for --mqtt-port: expected a port number 0-65535');

    const unknown = courier(['serve', '--mqtt-prot', '1883']);
    assert.equal((await unknown.waitForExit()).code, 2);
    assert.match(oneLine(unknown.stderr), /^courier: unknown flag --mqtt-prot \(did you mean --mqtt-port\?\)/);

    const badCommand = courier(['sevre']);
    assert.equal((await badCommand.waitForExit()).code, 2);
  });

  it('settings come from flag over environment over config file', async () => {
    const [filePort, envPort, flagPort] = [await freePort(), await freePort(), await freePort()];
    const configPath = join(root, 'courier.yaml');
    await writeFile(configPath, `data-dir: precedence-data\nhttp-port: ${filePort}\nlog-level: debug\n`);
    const env = { COURIER_HTTP_PORT: String(envPort) };

    // Environment beats the file for http-port; the file still supplies data-dir and log-level.
    const fromEnv = courier(['serve', '--config', configPath, ...protocolsOff], { env });
    const line = await fromEnv.waitForLog(isStartedLine);
    assert.equal(httpAddressOf(line), `127.0.0.1:${envPort}`);
    assert.equal(line.dataDir, join(root, 'precedence-data'), 'paths in a config file are relative to it');
    assert.ok(fromEnv.logLines().some((entry) => entry.level === 'debug'), 'log-level from the file applies');
    assert.equal((await fetch(`http://127.0.0.1:${envPort}/healthz`)).status, 200);
    fromEnv.child.kill('SIGINT');
    assert.equal((await fromEnv.waitForExit()).code, 0);

    // A flag beats both.
    const fromFlag = courier(['serve', '--config', configPath, '--http-port', String(flagPort), ...protocolsOff], { env });
    assert.equal(httpAddressOf(await fromFlag.waitForLog(isStartedLine)), `127.0.0.1:${flagPort}`);
    fromFlag.child.kill('SIGTERM');
    assert.equal((await fromFlag.waitForExit()).code, 0);
  });

  it('a data dir that is a file is refused with one clear line', async () => {
    const file = join(root, 'a-file');
    await writeFile(file, 'not a directory');
    const run = courier(['serve', '--data-dir', file, '--http-port', String(await freePort()), ...protocolsOff]);
    assert.equal((await run.waitForExit()).code, 1);
    assert.match(oneLine(run.stderr), new RegExp(`^courier: data directory ${file} .*not a directory`));
  });
});
