import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BrokerError } from '../core/errors.js';
import { prepareDataDir } from './data-dir.js';

describe('prepareDataDir', async () => {
  const root = await mkdtemp(join(tmpdir(), 'courier-data-dir-'));
  after(() => rm(root, { recursive: true, force: true }));

  it('creates missing directories and subdirectories, and accepts existing ones', async () => {
    const dir = join(root, 'a', 'b');
    await prepareDataDir(dir, ['logs']);
    assert.ok((await stat(join(dir, 'logs'))).isDirectory());
    await prepareDataDir(dir, ['logs']);
  });

  it('refuses a path that is a file, or lies under a file, with DATA_DIR_UNUSABLE', async () => {
    const file = join(root, 'plain-file');
    await writeFile(file, 'x');
    for (const path of [file, join(file, 'below')]) {
      await assert.rejects(prepareDataDir(path), (error: unknown) => {
        assert.ok(error instanceof BrokerError);
        assert.equal(error.code, 'DATA_DIR_UNUSABLE');
        assert.match(error.message, new RegExp(`^data directory ${path} .*is a file, not a directory \\(--data-dir\\)$`));
        return true;
      });
    }
  });
});
