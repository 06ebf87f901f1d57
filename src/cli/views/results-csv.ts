import type { ResultRow } from '../../app/results.js';
import { printable } from '../../model/printable.js';

/** The run a results file is of: each row carries it, so that the file ties to the run's journal and plan. */
export interface ResultsRun {
  runId: string;
  /** sha256 of the plan applied (the journal's plan hash). */
  planHash: string;
  /** The journal's final hash when this pass of the run ended (none for a journal written before the chain). */
  finalHash?: string;
}

/**
 * The columns, in order: those before `run_id` are the file's first format, kept first so that readers
 * of it go on working; each column added since comes after those before it (`stale_reason` last).
 */
export const RESULTS_HEAD = 'user,outcome,done,failed,skipped,first_error,run_id,plan_hash,final_hash,stale_reason';

/**
 * `--results`: one row per user in scope, `user,outcome,done,failed,skipped,first_error`, then the
 * run's id, plan hash and final hash on every row, then why a user left out as stale was (a CSV has
 * no place for a header of its own that spreadsheets and CSV readers skip: columns added last leave
 * readers by name or by position working).
 * A cell that a spreadsheet would run as a formula (starting with = + - @, tab or CR) gets a leading
 * `'`; control characters and bidi marks (U+202E) are shown as `\u202e`-style escapes.
 */
export function renderResultsCsv(rows: readonly ResultRow[], run: ResultsRun): string {
  const tie = [run.runId, run.planHash, run.finalHash ?? ''];
  return `${[RESULTS_HEAD, ...rows.map((r) => [r.user, r.outcome, String(r.done), String(r.failed), String(r.skipped), r.first_error, ...tie, r.stale_reason].map(csvCell).join(','))].join('\n')}\n`;
}

/** The run of an apply's or resume's outcome, as its results rows carry it. */
export function resultsRun(o: { runId: string; planHash: string; journalHash?: string }): ResultsRun {
  return { runId: o.runId, planHash: o.planHash, ...(o.journalHash !== undefined ? { finalHash: o.journalHash } : {}) };
}

export function csvCell(value: string): string {
  const v = /^[=+\-@\t\r]/.test(value) ? `'${printable(value)}` : printable(value);
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
