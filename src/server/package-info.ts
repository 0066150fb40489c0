import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageName = 'courier';

/**
 * The package root, found by walking up from this module: the compiled file sits in dist/src/server/,
 * a source run in src/server/, and neither layout should be hard-coded.
 */
export async function findPackageRoot(from: string = dirname(fileURLToPath(import.meta.url))): Promise<string | undefined> {
  let directory = from;
  for (;;) {
    try {
      const manifest = JSON.parse(await readFile(join(directory, 'package.json'), 'utf8')) as { name?: unknown };
      if (manifest.name === packageName) return directory;
    } catch {
      // No manifest here (or an unreadable one): keep walking up.
    }
    const parent = dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}

/** The version in package.json, read at run time so that it never disagrees with what was installed. */
export async function readPackageVersion(): Promise<string> {
  const root = await findPackageRoot();
  if (root === undefined) return 'unknown';
  const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : 'unknown';
}
