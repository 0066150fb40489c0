/**
 * The `courier` command as users run it, for the management CLI and topology tests: a broker started with
 * `bin/courier.js serve` in a child process (stopped by its pid), and CLI commands run to completion
 * against its HTTP port.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChildProcesses, type LineChild } from '../support/child-process.js';
import { freePort } from '../support/courier-child.js';

export { freePort };

// Compiled to dist/test/integration/: the repository root is three levels up.
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(repoRoot, 'bin', 'courier.js');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Listens on port 0 and gives the port back: free at that moment. */

/** The environment without COURIER_* variables (the tests set what they mean), plus `extra`. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('COURIER_')) env[name] = value;
  return { ...env, ...extra };
}

export interface BrokerOptions {
  readonly topology?: string;
  readonly amqp?: boolean;
  readonly mqtt?: boolean;
}

export interface RunningBroker {
  readonly child: LineChild;
  readonly url: string;
  readonly amqpPort: number;
  readonly mqttPort: number;
  readonly dataDir: string;
  /** Runs `courier <args>` against this broker (COURIER_URL set) and waits for it to exit. */
  cli(args: readonly string[], env?: Record<string, string>): Promise<CliResult>;
  stop(): Promise<void>;
}

export class CliHarness {
  private readonly children = new ChildProcesses();
  private root = '';

  async setUp(): Promise<void> {
    this.root = await mkdtemp(join(tmpdir(), 'courier-cli-mgmt-'));
  }

  /** Kills whatever still runs (by pid) and removes the temp directory. */
  async tearDown(): Promise<void> {
    await this.children.killAll();
    if (this.root !== '') await rm(this.root, { recursive: true, force: true });
  }

  get directory(): string {
    return this.root;
  }

  /** Starts `courier serve`; resolves once the startup line is logged (or rejects with its output). */
  startServe(args: readonly string[]): LineChild {
    return this.children.node(bin, ['serve', ...args], { cwd: this.root, env: cleanEnv() });
  }

  async startBroker(options: BrokerOptions = {}): Promise<RunningBroker> {
    const [httpPort, amqpPort, mqttPort] = [await freePort(), options.amqp ? await freePort() : 0, options.mqtt ? await freePort() : 0];
    const dataDir = await mkdtemp(join(this.root, 'data-'));
    const child = this.startServe([
      '--data-dir',
      dataDir,
      '--http-port',
      String(httpPort),
      '--amqp-port',
      String(amqpPort),
      '--mqtt-port',
      String(mqttPort),
      '--stomp-port',
      '0',
      '--kafka-port',
      '0',
      ...(options.topology === undefined ? [] : ['--topology', options.topology]),
    ]);
    await child.waitUntil(() => child.lines.some((line) => line.includes('"msg":"courier started"')), 'the startup line');
    const url = `http://127.0.0.1:${httpPort}`;
    return {
      child,
      url,
      amqpPort,
      mqttPort,
      dataDir,
      cli: (args, env = {}) => this.run(args, { COURIER_URL: url, ...env }),
      stop: async () => {
        child.kill('SIGTERM');
        const exit = await child.waitForExit();
        assert.equal(exit.code, 0, `courier serve stopped cleanly: ${child.stderr}`);
      },
    };
  }

  /** Runs `courier <args>` to completion. */
  async run(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
    const child = this.children.node(bin, args, { cwd: this.root, env: cleanEnv(env) });
    const exit = await child.waitForExit();
    return { code: exit.code, stdout: child.lines.join('\n') + (child.lines.length > 0 ? '\n' : ''), stderr: child.stderr };
  }
}

/** Fails with the command's output when its exit code is not `code`. */
export function expectExit(result: CliResult, code: number): CliResult {
  assert.equal(result.code, code, `exit ${String(result.code)}, expected ${code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  return result;
}
