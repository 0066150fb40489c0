import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { errorRegistry } from './errors.js';

// This file runs from dist/src/core/; the repository root is three levels up.
const DOC = new URL('../../../docs/errors.md', import.meta.url);

interface DocRow {
  readonly code: string;
  readonly number: number;
  readonly meaning: string;
  readonly causes: string;
  readonly line: number;
}

const ROW = /^\|\s*`([A-Z0-9_]+)`\s*\|\s*(\d+)\s*\|(.*)\|(.*)\|\s*$/;

async function documentedRows(): Promise<DocRow[]> {
  const text = await readFile(DOC, 'utf8');
  const rows: DocRow[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (!line.startsWith('|') || /^\|\s*(Code|-+)\s*\|/.test(line)) return;
    const match = ROW.exec(line);
    assert.ok(match, `docs/errors.md line ${index + 1} is a table row but not "| \`CODE\` | number | meaning | causes |"`);
    rows.push({
      code: match[1] as string,
      number: Number(match[2]),
      meaning: (match[3] as string).trim(),
      causes: (match[4] as string).trim(),
      line: index + 1,
    });
  });
  return rows;
}

describe('docs/errors.md agrees with the error registry', () => {
  it('documents every registry code with its number, once', async () => {
    const rows = await documentedRows();
    const byCode = new Map<string, DocRow>();
    for (const row of rows) {
      assert.ok(!byCode.has(row.code), `${row.code} is documented twice (line ${row.line})`);
      byCode.set(row.code, row);
    }
    const missing = Object.keys(errorRegistry).filter((code) => !byCode.has(code));
    assert.deepEqual(missing, [], `codes missing from docs/errors.md: ${missing.join(', ')}`);
    for (const [code, entry] of Object.entries(errorRegistry)) {
      const row = byCode.get(code) as DocRow;
      assert.equal(row.number, entry.number, `${code}: docs/errors.md line ${row.line} says ${row.number}, the registry ${entry.number}`);
    }
  });

  it('documents no code that the registry lacks', async () => {
    const unknown = (await documentedRows()).filter((row) => !Object.hasOwn(errorRegistry, row.code));
    assert.deepEqual(
      unknown.map((row) => `${row.code} (line ${row.line})`),
      [],
      'docs/errors.md documents codes that are not in src/core/errors.ts',
    );
  });

  it('gives every code a meaning and typical causes', async () => {
    for (const row of await documentedRows()) {
      assert.ok(row.meaning.length > 0, `${row.code} has no meaning (line ${row.line})`);
      assert.ok(row.causes.length > 0, `${row.code} has no typical causes (line ${row.line})`);
    }
  });

  it('keeps numbers unique in the registry', () => {
    const seen = new Map<number, string>();
    for (const [code, entry] of Object.entries(errorRegistry)) {
      const other = seen.get(entry.number);
      assert.equal(other, undefined, `${code} and ${other} share number ${entry.number}`);
      seen.set(entry.number, code);
    }
  });
});
