import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Courier's version for the server identification of every protocol (STOMP CONNECTED `server`, AMQP
 * connection.start `version`), from the package.json above this module (the
 * compiled file sits one level deeper than the source, so the layout is not hard-coded). Read once per
 * adapter at start, never on a message path. Adapters cannot import the server's own helper (imports
 * point from server to protocols), hence this small lookup.
 */
export async function readCourierVersion(from: string = dirname(fileURLToPath(import.meta.url))): Promise<string> {
  let directory = from;
  for (;;) {
    try {
      const manifest = JSON.parse(await readFile(join(directory, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (manifest.name === 'courier') return typeof manifest.version === 'string' ? manifest.version : 'unknown';
    } catch {
      // No readable manifest here: keep walking up.
    }
    const parent = dirname(directory);
    if (parent === directory) return 'unknown';
    directory = parent;
  }
}
