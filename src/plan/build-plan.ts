import type { Finding, FindingSeverity } from '../mapping/finding.js';
import { mapPolicy, type PolicyTarget } from '../mapping/policy-rules.js';
import { mapUser, methodUsage, type MappingOptions, type UserMapping } from '../mapping/user-mapping.js';
import { entraTokenFit } from '../model/entra-oath.js';
import type { MobileDevice, OathSeed } from '../model/export-data.js';
import type { Problem, ProblemCode } from '../model/problem.js';
import type { TenantSnapshot } from '../model/tenant.js';
import type { ExportBundle } from '../source/export-bundle.js';
import { PLAN_FORMAT_VERSION, type Plan, type PlanUserStatus, type UserChange } from './plan-model.js';
import { diffUser } from './user-diff.js';

/** Export problems that make the whole export untrustworthy: the plan stops on them. */
export const FATAL_PROBLEMS: ReadonlySet<ProblemCode> = new Set<ProblemCode>([
  'file-missing',
  'file-unreadable',
  'csv-malformed',
  'column-missing',
  'column-duplicate',
  'duplicate-user',
  'settings-invalid',
  'seed-format-unknown',
  'pskc-invalid',
  'pskc-unsafe',
  'pskc-decrypt',
  'pskc-mac',
  'token-shared',
  'secret-duplicate',
]);

/** Per-user export problems the mapping itself reports (so they are not listed twice). */
const MAPPED_PROBLEMS: ReadonlySet<ProblemCode> = new Set<ProblemCode>(['phone-invalid', 'seed-missing', 'token-unsupported', 'device-limit', 'seed-unassigned']);

export function fatalProblems(problems: readonly Problem[]): Problem[] {
  return problems.filter((p) => p.severity === 'error' && FATAL_PROBLEMS.has(p.code));
}

export interface PlanInput {
  bundle: ExportBundle;
  tenant: TenantSnapshot;
  /** Lower-cased usernames in scope; all export users when absent. */
  scope?: ReadonlySet<string>;
  options: MappingOptions & { target: PolicyTarget };
  sourceFingerprint: string;
  now: Date;
}

export interface BuiltPlan {
  plan: Plan;
  mappings: UserMapping[];
}

/** Maps the export against the tenant and diffs: the whole plan, without any I/O. */
export function buildPlan(input: PlanInput): BuiltPlan {
  const { bundle, tenant, options } = input;
  const users = bundle.users.filter((u) => !input.scope || input.scope.has(u.username.toLowerCase()));
  const seedsByUser = groupBy(bundle.tokens.filter((t) => t.user !== undefined), (t) => t.user!.toLowerCase(), (t) => t.seed);
  const devicesByUser = groupBy<MobileDevice, MobileDevice>(bundle.devices, (d) => d.username.toLowerCase(), (d) => d);
  const tokenUsers = new Set([...seedsByUser].filter(([, seeds]) => seeds.some((s: OathSeed) => entraTokenFit(s).ok)).map(([k]) => k));

  const policy = mapPolicy(bundle.settings, methodUsage(users, tokenUsers, new Set(devicesByUser.keys())), tenant.policy, options.target);
  const mappings = users.map((user) => {
    const key = user.username.toLowerCase();
    return mapUser({
      user,
      seeds: seedsByUser.get(key) ?? [],
      devices: devicesByUser.get(key) ?? [],
      tenantUser: tenant.users.get(key),
      inventory: tenant.hardwareTokens,
      enabledDefaults: policy.enabledDefaults,
      options,
    });
  });
  const userChanges: UserChange[] = mappings.flatMap((m) => diffUser(m, tenant.hardwareTokens));
  const pendingUsers = new Set(userChanges.filter((c) => c.action !== 'no-op').map((c) => c.user_id));
  const planUsers: PlanUserStatus[] = mappings.map((m) => ({
    user: m.user,
    user_id: m.tenantUser?.id ?? null,
    status: m.skipped?.code === 'user-disabled' ? 'disabled' : !m.tenantUser ? 'not-in-tenant' : pendingUsers.has(m.tenantUser.id) ? 'changes' : 'unchanged',
  }));

  const byLine = new Map(users.map((u) => [u.line, u]));
  const byName = new Map(users.map((u) => [u.username.toLowerCase(), u]));
  // A seed file problem (a short seed, a user mismatch) belongs to the user the seed goes to: the
  // readers locate it at the seed's own file and line.
  const bySeedLine = new Map(bundle.tokens.filter((t) => t.user !== undefined && t.seed.line !== undefined).map((t) => [`${t.seed.source}\u0000${t.seed.line}`, t.user!]));
  const problemUser = (p: Problem) => (p.file === 'users.csv' ? byLine.get(p.line!) : byName.get(bySeedLine.get(`${p.file}\u0000${p.line}`)?.toLowerCase() ?? ''));
  const exportFindings: Finding[] = bundle.problems.items
    .filter((p) => !FATAL_PROBLEMS.has(p.code) && !MAPPED_PROBLEMS.has(p.code) && p.line !== undefined)
    .flatMap((p) => {
      const user = problemUser(p);
      return user ? [{ severity: p.severity, code: p.code, user: user.username, rule: 'EXPORT-DATA' as const, message: `${p.field ?? 'row'}: ${p.message}` }] : [];
    });
  const propagation: Finding[] = [];
  const enablesHardwareOath = policy.changes.some((c) => /\/HardwareOath$/i.test(c.target) && c.property === 'state' && c.after === 'enabled');
  if (enablesHardwareOath && userChanges.some((c) => c.resource.startsWith('hardwareOathMethods/') && c.action !== 'no-op')) {
    propagation.push({
      severity: 'info',
      code: 'hardware-oath-propagation',
      rule: 'POL-HARDWARE-OATH',
      message: 'the plan enables hardware OATH tokens and activates tokens: Entra can take up to 20 minutes to apply the policy ("allow an hour"); apply tries activations it refuses meanwhile again for --policy-propagation-wait minutes (default 20)',
    });
  }
  const findings = sortFindings([...policy.findings, ...propagation, ...exportFindings, ...mappings.flatMap((m) => m.findings)]);

  const count = (a: UserChange['action']) => userChanges.filter((c) => c.action === a).length;
  const policyTargets = new Set(policy.changes.map((c) => c.target)).size;
  const severities: Record<FindingSeverity, number> = { error: 0, warning: 0, info: 0 };
  for (const f of findings) severities[f.severity]++;

  const plan: Plan = {
    format_version: PLAN_FORMAT_VERSION,
    created: input.now.toISOString(),
    source_fingerprint: input.sourceFingerprint,
    tenant: { ...tenant.tenant },
    options: { include_email: options.includeEmail, default_method: options.defaultMethod, prune: options.prune, target_group: { ...options.target } },
    summary: {
      users: users.length,
      create: count('create'),
      update: count('update') + policyTargets,
      delete: count('delete'),
      no_op: count('no-op'),
      findings: severities,
    },
    policy_changes: policy.changes,
    user_changes: userChanges,
    users: planUsers,
    findings,
    registration_campaign: findings.filter((f) => f.code === 'mobile-app-reregistration' && f.severity === 'warning').map((f) => f.user!),
  };
  return { plan, mappings };
}

const SEVERITY_ORDER: Record<FindingSeverity, number> = { error: 0, warning: 1, info: 2 };

function sortFindings(findings: Finding[]): Finding[] {
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => SEVERITY_ORDER[a.f.severity] - SEVERITY_ORDER[b.f.severity] || (a.f.user ?? '').localeCompare(b.f.user ?? '') || a.i - b.i)
    .map((x) => x.f);
}

function groupBy<T, V>(items: readonly T[], key: (t: T) => string, value: (t: T) => V): Map<string, V[]> {
  const out = new Map<string, V[]>();
  for (const item of items) {
    const k = key(item);
    let list = out.get(k);
    if (!list) out.set(k, (list = []));
    list.push(value(item));
  }
  return out;
}
