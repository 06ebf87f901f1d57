import { changesRollbackCannotUndo } from '../model/rollback-limits.js';
import type { Plan } from './plan-model.js';
import { hasNothingToMigrate } from './status-label.js';

/** The plan's counts, by the one rule terminal, JSON and report share (docs/plan-format.md, "Counting"). */
export interface PlanCounts {
  /** Terraform's totals: user changes by action, plus one `update` per policy target that changes, plus the cutover changes by action. */
  totals: { create: number; update: number; delete: number; no_op: number };
  userChanges: { create: number; update: number; delete: number; no_op: number; total: number };
  policy: { targets: number; changes: number };
  /** Staged rollout and federation changes (1.3), by action. */
  cutover: { create: number; update: number; total: number };
  /** Users left with SMS and voice only (their phone-only-after-retirement findings). */
  phoneOnly: number;
  /**
   * `unchanged` is the JSON's (status `unchanged`); the words split it into those who already match
   * and those with nothing to migrate (left with no usable method, or every phone invalid), as each
   * user's status label does.
   */
  users: { inScope: number; changes: number; unchanged: number; alreadyMatch: number; nothingToMigrate: number; notInTenant: number; disabled: number; noUsableMethod: number };
  findings: { error: number; warning: number; info: number };
  /** User changes a rollback cannot undo, by the rollback's own rule (model/rollback-limits.ts). */
  cannotUndo: { total: number; defaults: number; phones: number };
}

/** Counted from the plan's arrays (so a plan saved before 2.1, whose summary has fewer counts, counts the same way). */
export function planCounts(plan: Plan): PlanCounts {
  const action = (a: string) => plan.user_changes.filter((c) => c.action === a).length;
  const status = (s: string) => plan.users.filter((u) => u.status === s).length;
  const userChanges = { create: action('create'), update: action('update'), delete: action('delete'), no_op: action('no-op'), total: plan.user_changes.length };
  const policy = { targets: new Set(plan.policy_changes.map((c) => c.target)).size, changes: plan.policy_changes.length };
  const cutoverChanges = plan.cutover_changes ?? [];
  const cutover = { create: cutoverChanges.filter((c) => c.action === 'create').length, update: cutoverChanges.filter((c) => c.action === 'update').length, total: cutoverChanges.length };
  const sev = (s: string) => plan.findings.filter((f) => f.severity === s).length;
  const nothingToMigrate = plan.users.filter(hasNothingToMigrate).length;
  const { defaults, phones } = changesRollbackCannotUndo(plan.user_changes);
  return {
    totals: { create: userChanges.create + cutover.create, update: userChanges.update + policy.targets + cutover.update, delete: userChanges.delete, no_op: userChanges.no_op },
    userChanges,
    policy,
    cutover,
    phoneOnly: plan.findings.filter((f) => f.code === 'phone-only-after-retirement').length,
    users: {
      inScope: plan.users.length,
      changes: status('changes'),
      unchanged: status('unchanged'),
      alreadyMatch: status('unchanged') - nothingToMigrate,
      nothingToMigrate,
      notInTenant: status('not-in-tenant'),
      disabled: status('disabled'),
      noUsableMethod: plan.users.filter((u) => u.methods_after?.length === 0).length,
    },
    findings: { error: sev('error'), warning: sev('warning'), info: sev('info') },
    cannotUndo: { total: defaults.length + phones.length, defaults: defaults.length, phones: phones.length },
  };
}

/** The counts in words, one line each: the first is Terraform's, the others say what it is made of. */
export function countLines(c: PlanCounts): { plan: string; userChanges: string; policy: string; cutover?: string; users: string; findings: string; cannotUndo: string } {
  const u = c.users;
  return {
    plan: `Plan: ${c.totals.create} to add, ${c.totals.update} to change, ${c.totals.delete} to destroy, ${c.totals.no_op} unchanged.`,
    userChanges: `${c.userChanges.total} user resource(s): ${c.userChanges.create} to add, ${c.userChanges.update} to change, ${c.userChanges.delete} to destroy, ${c.userChanges.no_op} unchanged`,
    policy: `${c.policy.targets} policy setting(s) to change (${c.policy.changes} propert${c.policy.changes === 1 ? 'y' : 'ies'}), counted apart from user changes`,
    ...(c.cutover.total > 0 ? { cutover: `${c.cutover.total} cutover change(s) (staged rollout, federation): ${c.cutover.create} to add, ${c.cutover.update} to change, counted apart from user changes` } : {}),
    users: `${u.inScope} user(s) in scope: ${u.changes} with changes, ${u.alreadyMatch} already match, ${u.nothingToMigrate} with nothing to migrate, ${u.notInTenant} not in the tenant, ${u.disabled} disabled; ${u.noUsableMethod} left with no usable method`,
    findings: `${c.findings.error} error(s), ${c.findings.warning} warning(s), ${c.findings.info} info`,
    cannotUndo: cannotUndoLine(c.cannotUndo),
  };
}

/** For an auditor, before approving: what a rollback of this plan would leave in place (docs/apply.md, "Rollback"). */
function cannotUndoLine(n: PlanCounts['cannotUndo']): string {
  if (n.total === 0) return '0 changes a rollback cannot undo';
  const parts = [
    ...(n.defaults > 0 ? [`${n.defaults} default method(s) set where the user had none (Graph cannot unset a default method)`] : []),
    ...(n.phones > 0 ? [`${n.phones} phone(s) created that such a default uses (Graph will not delete the phone behind the default)`] : []),
  ];
  return `${n.total} change(s) a rollback cannot undo: ${parts.join('; ')}`;
}
