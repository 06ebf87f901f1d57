import type { PlanUserStatus } from './plan-model.js';

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

/**
 * A user's status in words. A user with nothing to change who is left with no usable method (a
 * token Entra cannot take, an email only, no phone), or whose every phone is invalid (never sent),
 * matches nothing: that is said, not "already matches".
 */
export function statusLabel(u: Pick<PlanUserStatus, 'status' | 'server' | 'methods_after'>): string {
  if (u.status !== 'unchanged') return LABEL[u.status];
  const phones = [u.server?.phone, u.server?.backup_phone].filter((p) => p !== null && p !== undefined);
  if (phones.length > 0 && phones.every((p) => p.entra === null)) return 'nothing to migrate: the phones are invalid (see the findings)';
  if (u.methods_after?.length === 0) return LEFT_WITH_NOTHING;
  return LABEL[u.status];
}

/** The statuses' words, for a legend. */
export const STATUS_LABELS: Readonly<Record<PlanUserStatus['status'], string>> = LABEL;
