import type { PolicyTarget } from '../mapping/policy-rules.js';
import type { DefaultMethodMode } from '../mapping/default-method-rules.js';
import type { TenantHardwareToken, TenantSnapshot, TenantUser } from '../model/tenant.js';
import { serialKey } from '../model/serial.js';
import type { ExportBundle } from '../source/export-bundle.js';
import { buildPlan } from './build-plan.js';
import { canonicalJson } from './fingerprint.js';
import type { PlanHeader, PlanUserLine, SavedPolicyChange } from './plan-file.js';
import type { Plan } from './plan-model.js';

/**
 * The plan again, from its recorded sources (the export, read afresh) and the tenant state it
 * recorded having seen: pure. Planning is deterministic, so a saved plan whose changes are not
 * exactly this one's was edited after it was made.
 */
export function rederivePlan(header: PlanHeader, lines: readonly PlanUserLine[], bundle: ExportBundle): Plan {
  const users = new Map<string, TenantUser>();
  const hardwareTokens = new Map<string, TenantHardwareToken[]>();
  for (const l of lines) {
    if (l.seen) users.set(l.upn.toLowerCase(), l.seen);
    for (const t of l.tokens) {
      const key = serialKey(t.serialNumber);
      const list = hardwareTokens.get(key) ?? [];
      if (!list.some((x) => x.id === t.id)) hardwareTokens.set(key, [...list, t]);
    }
  }
  const tenant: TenantSnapshot = { tenant: { id: header.tenant.id, displayName: header.tenant.displayName ?? '' }, policy: header.policy_seen ?? {}, users, hardwareTokens };
  const o = header.options;
  return buildPlan({
    bundle,
    tenant,
    scope: new Set(lines.map((l) => l.upn.toLowerCase())),
    options: { includeEmail: o.include_email, defaultMethod: o.default_method as DefaultMethodMode, prune: o.prune, target: o.target_group as PolicyTarget },
    sourceFingerprint: header.source_fingerprint,
    now: new Date(header.created),
  }).plan;
}

/** Where a saved plan first differs from what its sources give; undefined when it does not. */
export function firstDifference(header: PlanHeader, policy: readonly SavedPolicyChange[], lines: readonly PlanUserLine[], derived: Plan): string | undefined {
  const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
  const policyFields = (c: Omit<SavedPolicyChange, 'state_fingerprint'>) => ({ target: c.target, property: c.property, before: c.before, after: c.after, rule: c.rule, because: c.because, setting: c.setting });
  for (let i = 0; i < Math.max(policy.length, derived.policy_changes.length); i++) {
    const saved = policy[i];
    const want = derived.policy_changes[i];
    if (!saved || !want || !same(policyFields(saved), policyFields(want))) {
      return `policy change ${i + 1} (${saved ? `${saved.target}.${saved.property}` : 'missing'}) is not what planning gives (${want ? `${want.target}.${want.property} ${JSON.stringify(want.before)} -> ${JSON.stringify(want.after)}` : 'no such change'})`;
    }
  }
  const byUser = new Map<string, typeof derived.user_changes>();
  for (const c of derived.user_changes) byUser.set(c.user.toLowerCase(), [...(byUser.get(c.user.toLowerCase()) ?? []), c]);
  if (lines.length !== derived.users.length) return `the plan lists ${lines.length} users; planning gives ${derived.users.length}`;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const u = derived.users[i]!;
    const at = `line ${l.line} (${l.upn})`;
    if (l.upn !== u.user || l.userId !== u.user_id || l.status !== u.status) return `${at}: user ${l.upn} ${l.userId ?? '-'} ${l.status} is not what planning gives (${u.user} ${u.user_id ?? '-'} ${u.status})`;
    const want = byUser.get(l.upn.toLowerCase()) ?? [];
    if (l.changes.length !== want.length) return `${at}: ${l.changes.length} changes, planning gives ${want.length}`;
    for (let j = 0; j < want.length; j++) {
      const s = l.changes[j]!;
      const w = want[j]!;
      for (const k of ['resource', 'action', 'before', 'after', 'rule', 'because'] as const) {
        if (!same(s[k], w[k])) return `${at}: ${s.resource} ${k} is ${JSON.stringify(s[k])} in the file, planning its sources gives ${JSON.stringify(w[k])}`;
      }
    }
  }
  for (const k of ['summary', 'options', 'registration_campaign'] as const) {
    if (!same(header[k], derived[k])) return `the plan's ${k} is not what planning gives`;
  }
  return undefined;
}
