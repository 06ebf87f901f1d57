import type { UserEntry } from '../plan/plan-file.js';
import type { UserOutcome } from '../apply/run-apply.js';

/** One row of `--results`: every user in scope once. */
export interface ResultRow {
  user: string;
  outcome: 'done' | 'partial' | 'failed' | 'skipped' | 'unknown' | 'unchanged' | 'not-in-tenant' | 'disabled' | 'not-started';
  done: number;
  failed: number;
  skipped: number;
  first_error: string;
}

/**
 * Every user of the plan that the run's --users/--group narrowing keeps, in the plan's order: those
 * the run worked on with their outcome, the others with what the plan decided for them.
 */
export function resultRows(roster: readonly Readonly<UserEntry>[], inScope: (upn: string) => boolean, outcomes: readonly UserOutcome[]): ResultRow[] {
  const byUser = new Map(outcomes.map((o) => [o.upn.toLowerCase(), o]));
  const rows: ResultRow[] = [];
  for (const u of roster) {
    if (!inScope(u.upn)) continue;
    const o = byUser.get(u.upn.toLowerCase());
    if (o) {
      rows.push({ user: u.upn, outcome: o.outcome, done: o.done, failed: o.failed, skipped: o.skipped, first_error: o.error ?? '' });
      continue;
    }
    const outcome: ResultRow['outcome'] = u.status === 'changes' ? 'not-started' : u.status;
    rows.push({ user: u.upn, outcome, done: 0, failed: 0, skipped: 0, first_error: '' });
  }
  return rows;
}
