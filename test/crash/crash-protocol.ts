/**
 * What the crash child (confirmed-publisher.ts) and the crash tests share: the queue, the message bodies,
 * the data-dir layout of `courier serve`, and the parsing of the child's stdout lines and journal.
 */
import { readFile } from 'node:fs/promises';
import type { CorruptionReport } from '../../src/core/ports.js';
import { logsDirectoryName, metadataFileName } from '../../src/server/server.js';

export const crashQueue = 'crash';
export const LOGS_DIRECTORY = logsDirectoryName;
export const METADATA_FILE = metadataFileName;

/** Padding makes records big enough that a run crosses many 64 KiB segments. */
const FILLER = '.'.repeat(180);

export function encodeSeq(seq: number): Uint8Array {
  return new TextEncoder().encode(`${seq}:${FILLER}`);
}

export function decodeSeq(body: Uint8Array): number {
  const text = new TextDecoder().decode(body);
  const separator = text.indexOf(':');
  const seq = Number(text.slice(0, separator));
  if (separator <= 0 || !Number.isSafeInteger(seq) || text.slice(separator + 1) !== FILLER) {
    throw new Error(`not a crash-test body: ${JSON.stringify(text.slice(0, 40))}`);
  }
  return seq;
}

/** What the child stated on stdout; every statement was durable when it was written. */
export class ChildReport {
  readonly readyAt: number[] = [];
  readonly confirmed = new Set<number>();
  readonly durablyDelivered = new Set<number>();
  readonly durablyAcked = new Set<number>();
  readonly damage: CorruptionReport[] = [];
  readonly errors: string[] = [];
  private maxConfirmedSeq = -1;

  get maxConfirmed(): number {
    return this.maxConfirmedSeq;
  }

  /** Confirmations seen since `ready` with this first sequence number. */
  confirmedSince(firstSeq: number): number {
    let count = 0;
    for (const seq of this.confirmed) if (seq >= firstSeq) count += 1;
    return count;
  }

  readLine(line: string): void {
    const space = line.indexOf(' ');
    const kind = space < 0 ? line : line.slice(0, space);
    const rest = space < 0 ? '' : line.slice(space + 1);
    switch (kind) {
      case 'ready':
        this.readyAt.push(Number(rest));
        return;
      case 'c':
        for (const seq of numbers(rest)) {
          this.confirmed.add(seq);
          if (seq > this.maxConfirmedSeq) this.maxConfirmedSeq = seq;
        }
        return;
      case 'd':
        for (const seq of numbers(rest)) this.durablyDelivered.add(seq);
        return;
      case 'a':
        for (const seq of numbers(rest)) this.durablyAcked.add(seq);
        return;
      case 'damage':
        this.damage.push(JSON.parse(rest) as CorruptionReport);
        return;
      case 'error':
        this.errors.push(rest);
        return;
      default:
        if (line !== '') this.errors.push(`unexpected line from the child: ${line}`);
    }
  }
}

function numbers(text: string): number[] {
  return text === '' ? [] : text.split(' ').map(Number);
}

/** Upper bounds from the journal: no delivery beyond `maxDelivered`, no ack beyond `maxAcked` was attempted. */
export interface JournalBounds {
  readonly maxDelivered: number;
  readonly maxAcked: number;
}

export async function readJournal(path: string): Promise<JournalBounds> {
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  let maxDelivered = -1;
  let maxAcked = -1;
  const lines = text.split('\n');
  // What follows the last newline is a line the kill cut short: its action was never started, so it is no bound.
  lines.pop();
  for (const line of lines) {
    const value = Number(line.slice(2));
    if (!Number.isSafeInteger(value)) throw new Error(`bad journal line ${JSON.stringify(line)}`);
    if (line.startsWith('D ')) maxDelivered = Math.max(maxDelivered, value);
    else if (line.startsWith('A ')) maxAcked = Math.max(maxAcked, value);
  }
  return { maxDelivered, maxAcked };
}
