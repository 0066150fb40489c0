import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from './logger.js';

function capture(): { lines: () => Record<string, unknown>[]; destination: { write(chunk: string): void } } {
  const chunks: string[] = [];
  return {
    destination: { write: (chunk: string) => void chunks.push(chunk) },
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('createLogger', () => {
  it('writes one JSON object per line with the level as a label, fields first', () => {
    const out = capture();
    const { logger } = createLogger({ level: 'info', destination: out.destination });
    logger.info({ port: 1883 }, 'listening');
    const [line] = out.lines();
    assert.ok(line);
    assert.equal(line.level, 'info');
    assert.equal(line.msg, 'listening');
    assert.equal(line.port, 1883);
    assert.equal(line.pid, process.pid);
    assert.match(String(line.time), /^\d{4}-\d\d-\d\dT/);
  });

  it('drops lines below the configured level and writes nothing when silent', () => {
    const out = capture();
    const { logger } = createLogger({ level: 'warn', destination: out.destination });
    logger.debug({}, 'hidden');
    logger.info({}, 'hidden');
    logger.warn({}, 'shown');
    logger.error({}, 'shown');
    assert.deepEqual(out.lines().map((line) => line.level), ['warn', 'error']);

    const quiet = capture();
    createLogger({ level: 'silent', destination: quiet.destination }).logger.error({}, 'nothing');
    assert.deepEqual(quiet.lines(), []);
  });

  it('children add their bindings; errors keep their stack under err', () => {
    const out = capture();
    const { logger } = createLogger({ level: 'debug', destination: out.destination });
    logger.child({ component: 'storage' }).error({ err: new Error('disk gone') }, 'write failed');
    const [line] = out.lines();
    assert.equal(line?.component, 'storage');
    const err = line?.err as { message?: string; stack?: string } | undefined;
    assert.equal(err?.message, 'disk gone');
    assert.match(err?.stack ?? '', /disk gone/);
  });
});
