import { readFile } from 'node:fs/promises';
import { BrokerError } from '../../core/errors.js';
import { desiredState } from './desired-state.js';
import type { DesiredState, TopologyDocument } from './topology-model.js';
import { formatIssue, parseTopology } from './topology-parser.js';

export interface LoadedTopology {
  readonly path: string;
  readonly document: TopologyDocument;
  readonly desired: DesiredState;
}

/**
 * Reads and checks a topology file. Throws CONFIG_INVALID when it cannot be read or has mistakes; the
 * message lists every mistake, one `file:line:column: what` per line, and `details.issues` holds them.
 */
export async function loadTopologyFile(path: string, displayPath = path): Promise<LoadedTopology> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : String(error);
    throw new BrokerError('CONFIG_INVALID', `cannot read topology file ${displayPath}: ${reason}`, undefined, { cause: error });
  }
  const result = parseTopology(text, displayPath);
  if (!result.ok) {
    const count = result.issues.length;
    throw new BrokerError(
      'CONFIG_INVALID',
      `${displayPath} has ${count} error${count === 1 ? '' : 's'}:\n${result.issues.map((issue) => `  ${formatIssue(issue)}`).join('\n')}`,
      { issues: result.issues },
    );
  }
  return { path, document: result.document, desired: desiredState(result.document) };
}
