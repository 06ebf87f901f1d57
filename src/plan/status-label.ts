import type { PlanUserStatus } from './plan-model.js';
import { matchedUser } from '../model/user-match.js';

const LABEL: Record<PlanUserStatus['status'], string> = {
  changes: 'changes',
  unchanged: 'already matches',
  'not-in-tenant': 'not in the tenant: skipped',
  disabled: 'disabled in MFA Server: skipped',
};

const LEFT_WITH_NOTHING = 'nothing to migrate, and left with no usable method (see the findings)';

/** Whether a status label says the user is left with no usable method already (a flag beside it would say it twice). */
export function saysNoUsableMethod(label: string): boolean {
  return label === LEFT_WITH_NOTHING;
}

type LabelledUser = Pick<PlanUserStatus, 'status' | 'server' | 'methods_after'> & Partial<Pick<PlanUserStatus, 'match'>>;

/** A user not matched by on-premises name, in words (the findings say why in full). */
function notMatchedLabel(u: LabelledUser): string | undefined {
  if (u.status !== 'not-in-tenant' || !u.match) return undefined;
  if (u.match.outcome === 'ambiguous') return 'not matched: more than one tenant user has its on-premises name (see the findings)';
  if (u.match.outcome === 'shared') return "not matched: its tenant user is another export user's (see the findings)";
  if (u.match.outcome === 'domain-differs') return 'not in the tenant: skipped (its sAMAccountName is in other domains only: see the findings)';
  return undefined;
}

/** The user's name as the plan shows it: the export's username, and the Entra UPN where it was matched by an on-premises name. */
export function userTitle(u: Pick<PlanUserStatus, 'user'> & Partial<Pick<PlanUserStatus, 'match'>>): string {
  const upn = matchedUser(u.match)?.upn;
  return upn !== undefined ? `${u.user} (Entra ${upn})` : u.user;
}

/** Why a user with nothing to change has nothing to migrate, in words; undefined when they already match (or have changes). */
function nothingToMigrateLabel(u: LabelledUser): string | undefined {
  if (u.status !== 'unchanged') return undefined;
  const phones = [u.server?.phone, u.server?.backup_phone].filter((p) => p !== null && p !== undefined);
  if (phones.length > 0 && phones.every((p) => p.entra === null)) return 'nothing to migrate: the phones are invalid (see the findings)';
  if (u.methods_after?.length === 0) return LEFT_WITH_NOTHING;
  return undefined;
}

/**
 * Whether a user with nothing to change has nothing to migrate rather than already matching: left
 * with no usable method (a token Entra cannot take, an email only, no phone), or every phone invalid.
 */
export function hasNothingToMigrate(u: LabelledUser): boolean {
  return nothingToMigrateLabel(u) !== undefined;
}

/**
 * A user's status in words. A user with nothing to change who is left with no usable method (a
 * token Entra cannot take, an email only, no phone), or whose every phone is invalid (never sent),
 * matches nothing: that is said, not "already matches".
 */
export function statusLabel(u: LabelledUser): string {
  return nothingToMigrateLabel(u) ?? notMatchedLabel(u) ?? LABEL[u.status];
}

/** The statuses' words, for a legend. */
export const STATUS_LABELS: Readonly<Record<PlanUserStatus['status'], string>> = LABEL;
