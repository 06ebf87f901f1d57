import type { UserEntry } from '../plan/plan-file.js';
import type { UserOutcome } from '../apply/run-apply.js';

/** One row of `--results`: every user of the plan once, in the words `report` uses. */
export interface ResultRow {
  user: string;
  outcome: 'done' | 'partial' | 'failed' | 'skipped' | 'unknown' | 'unchanged' | 'not-in-tenant' | 'disabled' | 'not-started' | 'not-selected';
  done: number;
  failed: number;
  skipped: number;
  first_error: string;
}

/**
 * Every user of the plan, in the plan's order, as `report` lists them: those the run selected with
 * their outcome (`not-started` when it never got to them), users with changes that the run's
 * --users/--group/--max-users left out `not-selected` (a new plan takes them; no resume does), the
 * others with what the plan decided for them. The run has an outcome for every user it selected.
 */
export function resultRows(roster: readonly Readonly<UserEntry>[], outcomes: readonly UserOutcome[]): ResultRow[] {
  const byUser = new Map(outcomes.map((o) => [o.upn.toLowerCase(), o]));
  return roster.map((u) => {
    const o = byUser.get(u.upn.toLowerCase());
    if (o) return { user: u.upn, outcome: o.outcome, done: o.done, failed: o.failed, skipped: o.skipped, first_error: o.error ?? '' };
    return { user: u.upn, outcome: u.status === 'changes' ? 'not-selected' : u.status, done: 0, failed: 0, skipped: 0, first_error: '' };
  });
}
