import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { metricCatalog } from './metric-catalog.js';

// This file runs from dist/src/observability/; the repository root is three levels up.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const REPORT = /metrics\.(count|gauge|observe)\(\s*'([^']+)'/g;
const KIND_TYPE = { count: 'counter', gauge: 'gauge', observe: 'histogram' } as const;

/** Every metric name src/ reports through the Metrics port, with the type its call implies. */
async function reportedInSource(): Promise<Map<string, Set<string>>> {
  const found = new Map<string, Set<string>>();
  const entries = await readdir(join(ROOT, 'src'), { recursive: true });
  for (const entry of entries) {
    if (!entry.endsWith('.ts') || entry.endsWith('.test.ts')) continue;
    const text = await readFile(join(ROOT, 'src', entry), 'utf8');
    for (const match of text.matchAll(REPORT)) {
      const type = KIND_TYPE[match[1] as keyof typeof KIND_TYPE];
      const name = match[2]!;
      if (!found.has(name)) found.set(name, new Set());
      found.get(name)!.add(type);
    }
  }
  return found;
}

describe('metric catalog', () => {
  it('describes every metric the source reports, with the type it is reported as', async () => {
    const reported = await reportedInSource();
    assert.ok(reported.has('courier_messages_published_total') && reported.has('courier_storage_corruptions_total'), 'the scan finds calls');
    for (const [name, types] of reported) {
      const description = metricCatalog.get(name);
      assert.ok(description, `${name} is reported in src/ but missing from metric-catalog.ts`);
      assert.equal(description.source, 'reported', name);
      assert.deepEqual([...types], [description.type], `${name} is reported as ${[...types].join(' and ')}`);
    }
  });

  it('names counters with _total and nothing else with it', () => {
    for (const description of metricCatalog.values()) {
      assert.equal(description.name.endsWith('_total'), description.type === 'counter', description.name);
      assert.match(description.name, /^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
      assert.ok(description.help.length > 0 && !description.help.includes('\n'), description.name);
    }
  });

  it('agrees with docs/metrics.md', async () => {
    const doc = await readFile(join(ROOT, 'docs', 'metrics.md'), 'utf8');
    const rows = doc
      .split('\n')
      .map((line) => /^\|\s*`([a-zA-Z_:][a-zA-Z0-9_:]*)`\s*\|\s*(\w+)\s*\|/.exec(line.trim()))
      .filter((match) => match !== null)
      .map((match) => ({ name: match[1]!, type: match[2]! }));
    const documented = new Map(rows.map((row) => [row.name, row.type]));
    assert.equal(documented.size, rows.length, 'each metric is documented once');
    for (const description of metricCatalog.values()) {
      assert.equal(documented.get(description.name), description.type, `docs/metrics.md row for ${description.name}`);
    }
    for (const name of documented.keys()) assert.ok(metricCatalog.has(name), `docs/metrics.md documents ${name}, which does not exist`);
  });
});
