import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byteSize, directory, fsyncPolicy, host, listenerPort, oneOf, parseByteSize, parseDurationMs } from './setting-types.js';

const context = { baseDir: '/base' };

describe('setting types', () => {
  it('listener ports: 0 disables, out-of-range and non-numbers are refused', () => {
    assert.equal(listenerPort.parse('1883', context), 1883);
    assert.equal(listenerPort.parse(5672, context), 5672);
    assert.equal(listenerPort.parse('0', context), null);
    assert.equal(listenerPort.parse('65535', context), 65535);
    for (const bad of ['65536', '-1', 'abc', '1.5', '', ' ', '0x10']) {
      assert.equal(listenerPort.parse(bad, context), undefined, bad);
    }
    assert.equal(listenerPort.parse(true, context), undefined);
    assert.equal(listenerPort.parse(80.5, context), undefined);
  });

  it('hosts: IP addresses and host names', () => {
    for (const good of ['127.0.0.1', '0.0.0.0', '::1', '::', 'localhost', 'broker.example.com']) {
      assert.equal(host.parse(good, context), good);
    }
    for (const bad of ['', 'not a host', 'bad_name', '-start.example', 42]) {
      assert.equal(host.parse(bad, context), undefined, String(bad));
    }
  });

  it('directories resolve against the base directory', () => {
    assert.equal(directory.parse('./data', context), '/base/data');
    assert.equal(directory.parse('/abs/data', context), '/abs/data');
    assert.equal(directory.parse('', context), undefined);
    assert.equal(directory.parse(3, context), undefined);
  });

  it('enumerations accept only their values', () => {
    const level = oneOf(['info', 'debug'], 'LEVEL');
    assert.equal(level.parse('debug', context), 'debug');
    assert.equal(level.parse('DEBUG', context), undefined);
    assert.equal(level.expected, 'one of info, debug');
  });

  it('fsync: always, never, or an interval with a unit', () => {
    assert.deepEqual(fsyncPolicy.parse('always', context), { mode: 'always' });
    assert.deepEqual(fsyncPolicy.parse('never', context), { mode: 'never' });
    assert.deepEqual(fsyncPolicy.parse('10ms', context), { mode: 'interval', intervalMs: 10 });
    assert.deepEqual(fsyncPolicy.parse('2s', context), { mode: 'interval', intervalMs: 2000 });
    for (const bad of ['10', '0ms', '61s', 'sometimes', '10 minutes']) {
      assert.equal(fsyncPolicy.parse(bad, context), undefined, bad);
    }
    assert.equal(fsyncPolicy.parse(10, context), undefined);
  });

  it('durations and byte sizes', () => {
    assert.equal(parseDurationMs('250ms'), 250);
    assert.equal(parseDurationMs('ms'), undefined);
    assert.equal(parseByteSize('65536'), 65536);
    assert.equal(parseByteSize('64KiB'), 64 * 1024);
    assert.equal(parseByteSize('64 MiB'), 64 * 1024 ** 2);
    assert.equal(parseByteSize('1g'), 1024 ** 3);
    assert.equal(parseByteSize(4096), 4096);
    assert.equal(parseByteSize('12 parsecs'), undefined);
    assert.equal(parseByteSize(-1), undefined);
    const segment = byteSize(1024, 4096, '1KiB', '4KiB');
    assert.equal(segment.parse('2KiB', context), 2048);
    assert.equal(segment.parse('8KiB', context), undefined);
    assert.equal(segment.parse('512', context), undefined);
  });
});
