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

/** What the rows say beyond each user's outcome (users by export username, lower case). */
export interface RowNotes {
  /** Users of the run who left the plan's scope group (plan --group) since the plan, and the note that says so. */
  leftGroup?: { users: ReadonlySet<string>; note: string };
  /** Users the plan leaves on MFA Server (its `not-switched` finding): no cloud MFA method to switch them with. */
  leftOnServer?: ReadonlySet<string>;
  /** Not-switched users whose domain's federation the run set (forced): moved to Entra MFA by it, with no cloud method; by user, the domain. */
  movedByFederation?: ReadonlyMap<string, string>;
}

/**
 * The `first_error` of a row whose user the plan leaves on MFA Server, when nothing else is said of
 * them: `unchanged` or `done` alone read as migrated and switched (a black-box test).
 */
export const LEFT_ON_SERVER =
  'left on MFA Server: not switched to Entra MFA, as they have no cloud MFA method the authentication methods policy lets them use once the plan is applied (not-switched); migrate or enable a method for them, then plan again';

/**
 * The `first_error` of a row whose user the plan does not switch (not-switched) and whose domain's
 * federation the run set, forced: moved to Entra MFA by it with nothing to sign in with, not left on
 * MFA Server (a black-box review read LEFT_ON_SERVER right above "federation of contoso.com: done").
 */
export function movedByFederationNote(domain: string): string {
  return `moved to Entra MFA by the federation of ${domain} (--force-federation) with no cloud MFA method the authentication methods policy lets them use: they cannot complete MFA (not-switched); migrate or enable a method for them now`;
}

/**
 * Every user of the plan that the run's --users/--group narrowing keeps, in the plan's order, in
 * the words `report` uses: those the run selected with their outcome (`not-started` when it never
 * got to them), users with changes beyond --max-users `not-selected` (a new plan or a run without
 * it takes them; no resume does), the others with what the plan decided for them. The run has an
 * outcome for every user it selected. (`report` lists the users --users/--group left out too, as
 * `not-selected`: it is the run's evidence; this file is the admin's list of the run's users.)
 * `notes`: a user who left the plan's scope group since it was made is listed with why: `not-selected`
 * when the run left them out from its start, their outcome when a resume did; a user the plan leaves
 * on MFA Server is said to be (LEFT_ON_SERVER) where the row names no error of its own, or, when the
 * run set their domain's federation, moved to Entra MFA by it with no method (movedByFederationNote).
 */
export function resultRows(roster: readonly Readonly<UserEntry>[], inScope: (upn: string) => boolean, outcomes: readonly UserOutcome[], notes: RowNotes = {}): ResultRow[] {
  const byUser = new Map(outcomes.map((o) => [o.upn.toLowerCase(), o]));
  const rows: ResultRow[] = [];
  for (const u of roster) {
    const key = u.upn.toLowerCase();
    const left = notes.leftGroup?.users.has(key) === true;
    if (!inScope(u.upn) && !left) continue;
    const o = byUser.get(key);
    const row: ResultRow = o
      ? { user: u.upn, outcome: o.outcome, done: o.done, failed: o.failed, skipped: o.skipped, first_error: o.error ?? o.note ?? '', stale_reason: o.staleReason ?? '' }
      : { user: u.upn, outcome: left || u.status === 'changes' ? 'not-selected' : u.status, done: 0, failed: 0, skipped: 0, first_error: '', stale_reason: '' };
    // Left out by a resume: journaled as stale (what no resume sends), first_error `stale` as for
    // --skip-stale, and why in stale_reason (as journaled); left out from the start: not-selected, why.
    if (left) {
      if (!o) row.first_error = notes.leftGroup!.note;
    } else if (row.first_error === '') {
      // Moved by the federation: said whether the run selected them or not (it moved them all the same).
      const movedBy = notes.movedByFederation?.get(key);
      if (movedBy !== undefined) row.first_error = movedByFederationNote(movedBy);
      else if (notes.leftOnServer?.has(key) && row.outcome !== 'not-selected') row.first_error = LEFT_ON_SERVER;
    }
    rows.push(row);
  }
  return rows;
}
