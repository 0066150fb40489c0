import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BrokerError } from '../core/errors.js';
import { parseServeFlags, resolveConfig, type ConfigInputs } from './config.js';
import { envVarOf, settings } from './settings.js';

function inputs(overrides: Partial<ConfigInputs> & { args?: readonly string[]; files?: Record<string, string> } = {}): ConfigInputs {
  const files = overrides.files ?? {};
  return {
    flags: overrides.flags ?? parseServeFlags(overrides.args ?? []).values,
    env: overrides.env ?? {},
    cwd: overrides.cwd ?? '/work',
    readTextFile:
      overrides.readTextFile ??
      ((path) => {
        const text = files[path];
        return text === undefined
          ? Promise.reject(Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' }))
          : Promise.resolve(text);
      }),
  };
}

async function rejectsWith(promise: Promise<unknown>, code: string, message: string | RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof BrokerError, 'a BrokerError');
    assert.equal(error.code, code);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

describe('parseServeFlags', () => {
  it('reads --name value and --name=value; the last repeat wins', () => {
    const parsed = parseServeFlags(['--mqtt-port', '1', '--bind=0.0.0.0', '--mqtt-port', '2']);
    assert.equal(parsed.help, false);
    assert.deepEqual([...parsed.values], [['mqtt-port', '2'], ['bind', '0.0.0.0']]);
  });

  it('recognises --help and -h anywhere, even next to mistakes', () => {
    assert.equal(parseServeFlags(['--help']).help, true);
    assert.equal(parseServeFlags(['--nope', '-h']).help, true);
  });

  it('refuses unknown flags with a suggestion', () => {
    assert.throws(() => parseServeFlags(['--mqtt-prot', '1']), {
      code: 'CONFIG_INVALID',
      message: 'unknown flag --mqtt-prot (did you mean --mqtt-port?) (see courier serve --help)',
    });
    assert.throws(() => parseServeFlags(['--frobnicate']), {
      message: 'unknown flag --frobnicate (see courier serve --help)',
    });
    assert.throws(() => parseServeFlags(['-x']), { message: /unknown flag -x/ });
  });

  it('refuses a flag without its value, and positional arguments', () => {
    assert.throws(() => parseServeFlags(['--data-dir']), { message: 'missing value for --data-dir' });
    assert.throws(() => parseServeFlags(['--data-dir', '--bind', 'x']), { message: 'missing value for --data-dir' });
    assert.throws(() => parseServeFlags(['extra']), { code: 'CONFIG_INVALID', message: /unexpected argument "extra"/ });
  });
});

describe('resolveConfig', () => {
  it('gives the documented defaults', async () => {
    const { config, warnings } = await resolveConfig(inputs());
    assert.deepEqual(config, {
      configFile: undefined,
      topology: undefined,
      dataDir: '/work/data',
      bind: '127.0.0.1',
      mqttPort: 1883,
      amqpPort: 5672,
      stompPort: 61613,
      httpPort: 8080,
      kafkaPort: 9092,
      logLevel: 'info',
      fsync: { mode: 'always' },
      segmentBytes: 64 * 1024 * 1024,
      httpBodyLimit: 1024 * 1024,
      memoryHighWatermark: 256 * 1024 * 1024,
      diskFreeLimit: 50 * 1024 * 1024,
      flowControlMaxHold: 250,
    });
    assert.deepEqual(warnings, []);
  });

  it('takes flag over environment over file over default, setting by setting', async () => {
    const { config } = await resolveConfig(
      inputs({
        args: ['--config', 'courier.yaml', '--http-port', '1003'],
        env: { COURIER_HTTP_PORT: '1002', COURIER_AMQP_PORT: '2002' },
        files: { '/work/courier.yaml': 'http-port: 1001\namqp-port: 2001\nstomp-port: 3001\n' },
      }),
    );
    assert.equal(config.httpPort, 1003);
    assert.equal(config.amqpPort, 2002);
    assert.equal(config.stompPort, 3001);
    assert.equal(config.mqttPort, 1883);
    assert.equal(config.configFile, '/work/courier.yaml');
  });

  it('finds the config file through COURIER_CONFIG and resolves its paths against its own directory', async () => {
    const { config } = await resolveConfig(
      inputs({
        env: { COURIER_CONFIG: '/etc/courier/courier.yaml' },
        files: { '/etc/courier/courier.yaml': 'data-dir: state\nfsync: 10ms\nsegment-bytes: 1MiB\nlog-level: debug\n' },
      }),
    );
    assert.equal(config.dataDir, '/etc/courier/state');
    assert.deepEqual(config.fsync, { mode: 'interval', intervalMs: 10 });
    assert.equal(config.segmentBytes, 1024 * 1024);
    assert.equal(config.logLevel, 'debug');
  });

  it('treats an empty environment variable as unset', async () => {
    const { config } = await resolveConfig(inputs({ env: { COURIER_MQTT_PORT: '' } }));
    assert.equal(config.mqttPort, 1883);
  });

  it('turns port 0 into a disabled listener', async () => {
    const { config } = await resolveConfig(inputs({ args: ['--kafka-port', '0'] }));
    assert.equal(config.kafkaPort, null);
  });

  it('names the source of a bad value', async () => {
    await rejectsWith(
      resolveConfig(inputs({ args: ['--mqtt-port', 'abc'] })),
      'CONFIG_INVALID',
      'invalid value "abc" for --mqtt-port: expected a port number 0-65535',
    );
    await rejectsWith(
      resolveConfig(inputs({ env: { COURIER_LOG_LEVEL: 'loud' } })),
      'CONFIG_INVALID',
      'invalid value "loud" for COURIER_LOG_LEVEL: expected one of trace, debug, info, warn, error, fatal, silent',
    );
    await rejectsWith(
      resolveConfig(inputs({ args: ['--config', '/c.yaml'], files: { '/c.yaml': 'amqp-port: 70000\n' } })),
      'CONFIG_INVALID',
      'invalid value "70000" for amqp-port in /c.yaml: expected a port number 0-65535',
    );
    await rejectsWith(
      resolveConfig(inputs({ args: ['--config', '/c.yaml'], files: { '/c.yaml': 'bind: [a, b]\n' } })),
      'CONFIG_INVALID',
      /^invalid value "\["a","b"\]" for bind in \/c.yaml: expected an IP address or a host name$/,
    );
  });

  it('refuses unknown keys in the config file, and the config key itself', async () => {
    await rejectsWith(
      resolveConfig(inputs({ args: ['--config', '/c.yaml'], files: { '/c.yaml': 'mqtt_port: 1\n' } })),
      'CONFIG_INVALID',
      'config file /c.yaml: "mqtt_port": unknown setting (did you mean mqtt-port?)',
    );
    await rejectsWith(
      resolveConfig(inputs({ args: ['--config', '/c.yaml'], files: { '/c.yaml': 'config: other.yaml\n' } })),
      'CONFIG_INVALID',
      'config file /c.yaml: "config": it can only be given as a flag or an environment variable',
    );
  });

  it('reports unreadable, malformed and non-mapping config files', async () => {
    await rejectsWith(resolveConfig(inputs({ args: ['--config', '/missing.yaml'] })), 'CONFIG_INVALID', 'cannot read config file /missing.yaml: no such file');
    await rejectsWith(
      resolveConfig(inputs({ args: ['--config', '/c.yaml'], files: { '/c.yaml': 'a: [1, 2\n' } })),
      'CONFIG_INVALID',
      /^config file \/c.yaml is not valid YAML: .+/,
    );
    await rejectsWith(
      resolveConfig(inputs({ args: ['--config', '/c.yaml'], files: { '/c.yaml': '- 1\n- 2\n' } })),
      'CONFIG_INVALID',
      'config file /c.yaml must be a mapping of setting names to values',
    );
    await rejectsWith(
      resolveConfig(inputs({ args: ['--config', '/c.yaml'], files: { '/c.yaml': 'bind: a\nbind: b\n' } })),
      'CONFIG_INVALID',
      /is not valid YAML/,
    );
  });

  it('accepts an empty config file', async () => {
    const { config } = await resolveConfig(inputs({ args: ['--config', '/c.yaml'], files: { '/c.yaml': '# nothing yet\n' } }));
    assert.equal(config.httpPort, 8080);
  });

  it('warns about unknown COURIER_ variables instead of ignoring them silently', async () => {
    const { warnings } = await resolveConfig(inputs({ env: { COURIER_MQT_PORT: '1', PATH: '/bin' } }));
    assert.deepEqual(warnings, ['ignoring unknown environment variable COURIER_MQT_PORT (did you mean COURIER_MQTT_PORT?)']);
  });

  it('every default in the table is valid, and every setting has its own flag and variable', async () => {
    await resolveConfig(inputs());
    assert.equal(new Set(settings.map((s) => s.name)).size, settings.length);
    assert.equal(new Set(settings.map(envVarOf)).size, settings.length);
    assert.equal(new Set(settings.map((s) => s.key)).size, settings.length);
  });
});
