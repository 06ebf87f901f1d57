import type { PolicyTarget } from '../mapping/policy-rules.js';
import type { DefaultMethodMode } from '../mapping/default-method-rules.js';
import type { TenantHardwareToken, TenantUser } from '../model/tenant.js';
import { serialKey } from '../model/serial.js';
import type { ExportBundle } from '../source/export-bundle.js';
import { planContext, planOneUser, planOptions, PlanTally, type PlanContext } from './build-plan.js';
import { canonicalJson } from './fingerprint.js';
import { formatMinor, type PlanUserLine, type SavedPlan, type SavedPolicyChange } from './plan-file.js';

/** User lines re-derived at a time: bounds what is held of a large plan. */
const CHUNK = 1000;

/**
 * Where a saved plan first differs from planning its recorded sources (the export, read afresh)
 * against the tenant state it recorded having seen; undefined when it does not. Planning is pure
 * and deterministic, so a saved plan that differs was edited after it was made. The users are
 * planned and compared a chunk at a time (each user's plan depends only on the export, the policy
 * and the inventory), never the whole plan at once.
 */
export async function firstDifference(saved: SavedPlan, bundle: ExportBundle): Promise<string | undefined> {
  const header = saved.header;
  const o = header.options;
  const ctx = planContext({
    bundle,
    policy: header.policy_seen ?? {},
    scope: new Set(saved.users.map((u) => u.upn.toLowerCase())),
    options: { includeEmail: o.include_email, defaultMethod: o.default_method as DefaultMethodMode, prune: o.prune, target: o.target_group as PolicyTarget },
  });
  const policyDiff = firstPolicyDifference(saved.policyChanges, ctx);
  if (policyDiff) return policyDiff;
  if (saved.users.length !== ctx.users.length) return `the plan lists ${saved.users.length} users; planning gives ${ctx.users.length}`;

  const hardwareTokens = new Map<string, TenantHardwareToken[]>();
  for (const t of saved.tokensSeen) {
    const key = serialKey(t.serialNumber);
    hardwareTokens.set(key, [...(hardwareTokens.get(key) ?? []), t]);
  }
  const records = formatMinor(header) >= 1;
  const tally = new PlanTally();
  let i = 0;
  for await (const lines of saved.lines(CHUNK)) {
    for (const l of lines) {
      const user = ctx.users[i++]!;
      const users = new Map<string, TenantUser>(l.seen ? [[l.upn.toLowerCase(), l.seen]] : []);
      const planned = planOneUser(ctx, user, { users, hardwareTokens });
      tally.add(planned);
      const where = userDifference(l, planned.status, planned.changes, records);
      if (where) return where;
    }
  }
  const { summary: derived, campaign } = tally.finish(ctx);
  // A 2.0 file's summary lacks 2.1's counts: it is compared on the fields it has.
  const summary = records ? derived : Object.fromEntries(Object.keys(header.summary).map((k) => [k, (derived as unknown as Record<string, unknown>)[k]]));
  if (!same(header.summary, summary)) return `the plan's summary is not what planning gives`;
  if (!same(header.options, planOptions(ctx.options))) return `the plan's options is not what planning gives`;
  if (!same(header.registration_campaign, campaign)) return `the plan's registration_campaign is not what planning gives`;
  return undefined;
}

const same = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);

function firstPolicyDifference(policy: readonly SavedPolicyChange[], ctx: PlanContext): string | undefined {
  const derived = ctx.policy.changes;
  const fields = (c: Omit<SavedPolicyChange, 'state_fingerprint'>) => ({ target: c.target, property: c.property, before: c.before, after: c.after, rule: c.rule, because: c.because, setting: c.setting });
  for (let i = 0; i < Math.max(policy.length, derived.length); i++) {
    const saved = policy[i];
    const want = derived[i];
    if (!saved || !want || !same(fields(saved), fields(want))) {
      return `policy change ${i + 1} (${saved ? `${saved.target}.${saved.property}` : 'missing'}) is not what planning gives (${want ? `${want.target}.${want.property} ${JSON.stringify(want.before)} -> ${JSON.stringify(want.after)}` : 'no such change'})`;
    }
  }
  return undefined;
}

type Planned = ReturnType<typeof planOneUser>;

function userDifference(l: PlanUserLine, u: Planned['status'], want: Planned['changes'], records: boolean): string | undefined {
  const at = `line ${l.line} (${l.upn})`;
  if (l.upn !== u.user || l.userId !== u.user_id || l.status !== u.status) return `${at}: user ${l.upn} ${l.userId ?? '-'} ${l.status} is not what planning gives (${u.user} ${u.user_id ?? '-'} ${u.status})`;
  // 2.1 records the MFA Server record and the methods after the plan: both must be what the sources give.
  if (records) {
    if (!same(l.server ?? null, u.server ?? null)) return `${at}: the MFA Server record is not what the export gives`;
    if (!same(l.methods_after ?? null, u.methods_after ?? null)) return `${at}: methods_after is ${JSON.stringify(l.methods_after ?? null)} in the file, planning gives ${JSON.stringify(u.methods_after ?? null)}`;
  }
  if (l.changes.length !== want.length) return `${at}: ${l.changes.length} changes, planning gives ${want.length}`;
  for (let j = 0; j < want.length; j++) {
    const s = l.changes[j]!;
    const w = want[j]!;
    for (const k of ['resource', 'action', 'before', 'after', 'rule', 'because'] as const) {
      if (!same(s[k], w[k])) return `${at}: ${s.resource} ${k} is ${JSON.stringify(s[k])} in the file, planning its sources gives ${JSON.stringify(w[k])}`;
    }
  }
  return undefined;
}
