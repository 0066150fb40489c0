/**
 * What a scenario hands to the dispatcher (bench/run.mjs): headline figures for its summary table, pass/fail
 * verdicts, and free-form details for the JSON result file. The dispatcher names the file through
 * COURIER_BENCH_RESULT; a scenario run by hand without it just prints.
 */
import { writeFile } from 'node:fs/promises';

export const RESULT_PATH_VARIABLE = 'COURIER_BENCH_RESULT';

export interface SummaryRow {
  readonly metric: string;
  readonly value: number | string;
  readonly unit: string;
}

export interface Verdict {
  readonly name: string;
  readonly pass: boolean;
  readonly detail: string;
}

export interface ScenarioResult {
  readonly scenario: string;
  readonly summary: readonly SummaryRow[];
  readonly verdicts: readonly Verdict[];
  readonly details: Readonly<Record<string, unknown>>;
}

export async function publishResult(result: ScenarioResult): Promise<void> {
  const path = process.env[RESULT_PATH_VARIABLE];
  if (!path) return;
  await writeFile(path, `${JSON.stringify(result, null, 2)}\n`, 'utf8');
}
