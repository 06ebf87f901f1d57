import type { UserEntry } from '../plan/plan-file.js';
import type { UserOutcome } from '../apply/run-apply.js';

/** One row of `--results`: every user in scope once, in the words `report` uses. */
export interface ResultRow {
  user: string;
  outcome: 'done' | 'partial' | 'failed' | 'skipped' | 'unknown' | 'unchanged' | 'not-in-tenant' | 'disabled' | 'not-started' | 'not-selected';
  done: number;
  failed: number;
  skipped: number;
  first_error: string;
  /** Why a user left out as stale (first_error `stale`) was: each object of theirs that changed since the plan, with why; else empty. */
  stale_reason: string;
}

/**
 * Every user of the plan that the run's --users/--group narrowing keeps, in the plan's order, in
 * the words `report` uses: those the run selected with their outcome (`not-started` when it never
 * got to them), users with changes beyond --max-users `not-selected` (a new plan or a run without
 * it takes them; no resume does), the others with what the plan decided for them. The run has an
 * outcome for every user it selected. (`report` lists the users --users/--group left out too, as
 * `not-selected`: it is the run's evidence; this file is the admin's list of the run's users.)
 */
export function resultRows(roster: readonly Readonly<UserEntry>[], inScope: (upn: string) => boolean, outcomes: readonly UserOutcome[]): ResultRow[] {
  const byUser = new Map(outcomes.map((o) => [o.upn.toLowerCase(), o]));
  const rows: ResultRow[] = [];
  for (const u of roster) {
    if (!inScope(u.upn)) continue;
    const o = byUser.get(u.upn.toLowerCase());
    if (o) rows.push({ user: u.upn, outcome: o.outcome, done: o.done, failed: o.failed, skipped: o.skipped, first_error: o.error ?? o.note ?? '', stale_reason: o.staleReason ?? '' });
    else rows.push({ user: u.upn, outcome: u.status === 'changes' ? 'not-selected' : u.status, done: 0, failed: 0, skipped: 0, first_error: '', stale_reason: '' });
  }
  return rows;
}
