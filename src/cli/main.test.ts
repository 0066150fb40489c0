import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findPackageRoot } from '../server/package-info.js';
import { settings } from '../server/settings.js';
import type { CliIo } from './cli-io.js';
import { commands, main } from './main.js';

interface Captured {
  readonly io: CliIo;
  readonly stdout: () => string;
  readonly stderr: () => string;
}

function fakeIo(env: Record<string, string> = {}): Captured {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: (text) => void (out += text),
      stderr: (text) => void (err += text),
      env,
      cwd: '/nonexistent-courier-test-cwd',
      onShutdownSignal: () => () => {},
      forceExit: (code) => assert.fail(`forceExit(${code}) called`),
    },
    stdout: () => out,
    stderr: () => err,
  };
}

describe('courier main', () => {
  it('--version prints the package version', async () => {
    const root = await findPackageRoot();
    assert.ok(root);
    const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
    const captured = fakeIo();
    assert.equal(await main(['--version'], captured.io), 0);
    assert.equal(captured.stdout(), `${version}\n`);
  });

  it('--help and help list the commands', async () => {
    for (const argv of [['--help'], ['help']]) {
      const captured = fakeIo();
      assert.equal(await main(argv, captured.io), 0);
      assert.match(captured.stdout(), /^Usage: courier <command>/);
      assert.match(captured.stdout(), /^ {2}serve {4}/m);
    }
  });

  it('serve --help and help serve print every setting', async () => {
    for (const argv of [['serve', '--help'], ['help', 'serve']]) {
      const captured = fakeIo();
      assert.equal(await main(argv, captured.io), 0);
      for (const definition of settings) assert.ok(captured.stdout().includes(`--${definition.name} `), definition.name);
    }
  });

  it('every command answers --help and help <command> with its usage', async () => {
    for (const command of commands) {
      for (const argv of [[command.name, '--help'], ['help', command.name]]) {
        const captured = fakeIo();
        assert.equal(await main(argv, captured.io), 0, argv.join(' '));
        assert.match(captured.stdout(), /^Usage: courier /, argv.join(' '));
        for (const line of captured.stdout().split('\n')) assert.ok(line.length <= 100, `line too long in ${argv.join(' ')}: ${line}`);
      }
    }
    const action = fakeIo();
    assert.equal(await main(['queues', 'create', '--help'], action.io), 0);
    assert.match(action.stdout(), /^Usage: courier queues create <name>/);
  });

  it('a management command without a reachable broker fails with one line (exit 1)', async () => {
    const captured = fakeIo({ COURIER_URL: 'http://127.0.0.1:1' });
    assert.equal(await main(['queues', 'list'], captured.io), 1);
    assert.match(captured.stderr(), /^courier: cannot reach Courier at http:\/\/127\.0\.0\.1:1 \(.*\); is it running\? \(set --url or COURIER_URL\)\n$/);
  });

  it('an unknown or missing command is a usage error (exit 2)', async () => {
    const unknown = fakeIo();
    assert.equal(await main(['frobnicate'], unknown.io), 2);
    assert.equal(unknown.stderr(), 'courier: unknown command "frobnicate" (run courier --help)\n');
    const none = fakeIo();
    assert.equal(await main([], none.io), 2);
    assert.match(none.stderr(), /^courier: no command given\n/);
  });

  it('a bad serve flag or value is one line on stderr and exit 2, before anything starts', async () => {
    const badValue = fakeIo();
    assert.equal(await main(['serve', '--mqtt-port', 'abc'], badValue.io), 2);
    assert.equal(badValue.stderr(), 'courier: invalid value "abc" for --mqtt-port: expected a port number 0-65535\n');
    const badEnv = fakeIo({ COURIER_FSYNC: 'sometimes' });
    assert.equal(await main(['serve'], badEnv.io), 2);
    assert.match(badEnv.stderr(), /^courier: invalid value "sometimes" for COURIER_FSYNC: expected always, never/);
    assert.equal(badEnv.stderr().split('\n').length, 2);
  });
});
