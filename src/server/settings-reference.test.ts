import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findPackageRoot } from './package-info.js';
import { serveHelp, settingsMarkdownTable } from './settings-reference.js';
import { envVarOf, flagOf, settings } from './settings.js';

describe('settings reference', () => {
  it('--help lists every flag, its environment variable and its default', () => {
    const help = serveHelp();
    for (const definition of settings) {
      assert.match(help, new RegExp(`^  ${flagOf(definition)} ${definition.type.placeholder} `, 'm'), definition.name);
      assert.ok(help.includes(envVarOf(definition)), envVarOf(definition));
      if (definition.default !== undefined) assert.ok(help.includes(`default ${definition.default}`), definition.name);
    }
    for (const line of help.split('\n')) assert.ok(line.length <= 100, `line too long: ${line}`);
  });

  it('docs/configuration.md contains the table generated from the settings', async () => {
    const root = await findPackageRoot();
    assert.ok(root, 'package root');
    const doc = await readFile(join(root, 'docs', 'configuration.md'), 'utf8');
    const table = settingsMarkdownTable();
    assert.ok(
      doc.includes(table),
      `docs/configuration.md is out of date; its settings table must read:\n\n${table}\n`,
    );
    // One table only: every setting row appears exactly once in the document.
    for (const definition of settings) {
      assert.equal(doc.split(`| \`${flagOf(definition)} `).length - 1, 1, definition.name);
    }
  });
});
