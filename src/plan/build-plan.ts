import { mapCutover, type CutoverMapping, type CutoverOptions, type CutoverUser, type OtherUser } from '../mapping/cutover-rules.js';
import type { Finding, FindingSeverity } from '../mapping/finding.js';
import { mapPolicy, type PolicyMapping, type PolicyTarget } from '../mapping/policy-rules.js';
import { userPolicy, type UserPolicy } from '../model/policy-view.js';
import { mapUser, methodUsage, type MappingOptions, type UserMapping } from '../mapping/user-mapping.js';
import { usableMethods } from '../model/cloud-methods.js';
import { entraTokenFit } from '../model/entra-oath.js';
import type { MfaUser, MobileDevice, OathSeed } from '../model/export-data.js';
import type { Problem, ProblemCode } from '../model/problem.js';
import type { TenantRolloutMember, TenantSnapshot, TenantUser } from '../model/tenant.js';
import { DEVICES_FILE, USERS_FILE, type ExportBundle } from '../source/export-bundle.js';
import { seedLeftOutReason, seedsLeftOut, type SeedsLeftOut } from '../source/seed-left-out.js';
import { PLAN_FORMAT_VERSION, type Plan, type PlanUserStatus, type UserChange } from './plan-model.js';
import { stateFingerprint } from './fingerprint.js';
import { methodsAfter } from './methods-after.js';
import { serverRecord } from './server-record.js';
import { cutoverUserChanges, diffUser } from './user-diff.js';
import { netbiosRecord } from '../model/user-match.js';
import { changesRollbackCannotUndo } from '../model/rollback-limits.js';

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
  // As an error only: two different seeds for one serial (one device's several keys, or a copy that
  // is not the token's). The first is kept for the checks; planning it would pick one unasked.
  'seed-duplicate',
]);

/** Per-user export problems the mapping itself reports (so they are not listed twice). */
const MAPPED_PROBLEMS: ReadonlySet<ProblemCode> = new Set<ProblemCode>(['phone-invalid', 'email-invalid', 'seed-missing', 'token-unsupported', 'device-limit']);

/**
 * Codes that stop the plan as errors while their warnings stay findings: `column-unknown` is an error
 * only for a seed file refused for a column named as an OATH parameter it does not know (under
 * --allow-missing-seeds its tokens would otherwise be skipped as if they had no seed).
 */
const FATAL_AS_ERRORS: ReadonlySet<ProblemCode> = new Set<ProblemCode>(['column-unknown']);

export function fatalProblems(problems: readonly Problem[]): Problem[] {
  return problems.filter((p) => p.severity === 'error' && (FATAL_PROBLEMS.has(p.code) || FATAL_AS_ERRORS.has(p.code)));
}

export interface PlanInput {
  bundle: ExportBundle;
  tenant: TenantSnapshot;
  /** Lower-cased usernames in scope; all export users when absent. */
  scope?: ReadonlySet<string>;
  options: MappingOptions & { target: PolicyTarget; cutover?: CutoverOptions };
  sourceFingerprint: string;
  now: Date;
}

export interface BuiltPlan {
  plan: Plan;
  /** Why the cutover cannot be planned as asked (staged rollout's limits, unswitched users of a domain): the plan is refused. */
  refusals: string[];
}

const NO_CUTOVER: CutoverOptions = { rolloutGroups: [], federatedMfa: null, forceFederation: false, campaignGroup: null };

/**
 * What planning any one user needs of the whole export: the users in scope (export order), their
 * seeds and devices, the policy (its reasons count every user in scope) and the export's own findings.
 */
export interface PlanContext {
  users: MfaUser[];
  seedsByUser: Map<string, OathSeed[]>;
  seedSerials: Map<string, string[]>;
  devicesByUser: Map<string, MobileDevice[]>;
  /** Serials the seed files hold but whose records their readers left out, with why. */
  seedsLeftOut: SeedsLeftOut;
  policy: PolicyMapping;
  exportFindings: Finding[];
  /** The export's users the scope leaves out (the federation step must not forget them). */
  outOfScope: string[];
  /** Whether a scope (--users, --group) narrows the plan; else it holds every user of the export. */
  narrowed: boolean;
  options: PlanInput['options'];
  cutoverOptions: CutoverOptions;
}

/**
 * `inTenant`: whether an export user (lower-cased username) has the tenant user the plan writes to.
 * The policy is enabled for what those users use: one the tenant does not have migrates nothing, so
 * their methods turn nothing on (a review saw SMS enabled for everyone for a user not in the tenant).
 */
export function planContext(input: Pick<PlanInput, 'bundle' | 'scope' | 'options'> & { policy: TenantSnapshot['policy']; inTenant: (key: string) => boolean }): PlanContext {
  const { bundle, options } = input;
  const users = bundle.users.filter((u) => !input.scope || input.scope.has(u.username.toLowerCase()));
  const migrating = users.filter((u) => input.inTenant(u.username.toLowerCase()));
  const seedsByUser = groupBy(bundle.tokens.filter((t) => t.user !== undefined), (t) => t.user!.toLowerCase(), (t) => t.seed);
  const devicesByUser = groupBy<MobileDevice, MobileDevice>(bundle.devices, (d) => d.username.toLowerCase(), (d) => d);
  const tokenUsers = new Set([...seedsByUser].filter(([, seeds]) => seeds.some((s: OathSeed) => entraTokenFit(s).ok)).map(([k]) => k));
  const policy = mapPolicy(bundle.settings, methodUsage(migrating, tokenUsers, new Set(devicesByUser.keys())), input.policy, options.target, options.defaultMethod !== 'never');
  const seedSerials = groupBy(bundle.tokens.filter((t) => t.user !== undefined), (t) => t.user!.toLowerCase(), (t) => t.seed.serial);

  const exportFindings = exportProblemFindings(bundle, users);
  // Those disabled in MFA Server too: their Entra account may still sign in, and it was not read.
  const outOfScope = input.scope ? bundle.users.filter((u) => !input.scope!.has(u.username.toLowerCase())).map((u) => u.username) : [];
  const leftOut = seedsLeftOut(bundle.problems.items);
  return { users, seedsByUser, seedSerials, devicesByUser, seedsLeftOut: leftOut, policy, exportFindings, outOfScope, narrowed: input.scope !== undefined, options, cutoverOptions: options.cutover ?? NO_CUTOVER };
}

/**
 * The export's problems as the plan's findings: a user's in that user's plan (the plan of a narrower
 * scope leaves other users' out), and those of nobody in users.csv (a seed no user has, a device of
 * someone not in the export, a column the reader ignores) in every plan, so that an auditor can
 * account for every token and device of the input. A problem of the seed file or devices.csv belongs
 * to the user the seed or device goes to: the readers locate it at its own file and line.
 */
function exportProblemFindings(bundle: ExportBundle, inScope: readonly MfaUser[]): Finding[] {
  const scoped = new Set(inScope.map((u) => u.username.toLowerCase()));
  const byLine = new Map(bundle.users.map((u) => [u.line, u.username]));
  const ownerAt = new Map<string, string>();
  for (const t of bundle.tokens) if (t.user !== undefined && t.seed.line !== undefined) ownerAt.set(`${t.seed.source}\u0000${t.seed.line}`, t.user);
  const known = new Set(bundle.users.map((u) => u.username.toLowerCase()));
  for (const d of bundle.devices) if (known.has(d.username.toLowerCase())) ownerAt.set(`${DEVICES_FILE}\u0000${d.line}`, d.username);
  const ownerOf = (p: Problem) => (p.file === USERS_FILE ? byLine.get(p.line!) : ownerAt.get(`${p.file}\u0000${p.line}`));
  return bundle.problems.items
    .filter((p) => !FATAL_PROBLEMS.has(p.code) && !MAPPED_PROBLEMS.has(p.code) && (p.line !== undefined || p.code === 'seed-file-repeated'))
    .flatMap((p): Finding[] => {
      // A column the reader ignores, a seed file named twice: the whole plan's concern, not a user's.
      if (p.code === 'column-unknown' || p.code === 'seed-file-repeated') return [{ severity: p.severity, code: p.code, rule: 'EXPORT-DATA', message: `${p.file}: ${p.message}` }];
      const owner = ownerOf(p);
      if (owner === undefined) return [{ severity: p.severity, code: p.code, rule: 'EXPORT-DATA', message: `${p.file}, line ${p.line}${p.field ? `, field ${p.field}` : ''}: ${p.message}` }];
      return scoped.has(owner.toLowerCase()) ? [{ severity: p.severity, code: p.code, user: owner, rule: 'EXPORT-DATA', message: `${p.field ?? 'row'}: ${p.message}` }] : [];
    });
}

/** What the policy lets a tenant user use; undefined when their target groups were not read (a plan of format 2.2 or older). */
function userPolicyOf(ctx: PlanContext, t: TenantUser): UserPolicy | undefined {
  return t.policyGroups ? userPolicy(ctx.policy.after, t.id, t.policyGroups) : undefined;
}

/** One user mapped and diffed against the tenant, before the cutover (which needs every user) adds its changes. */
export interface MappedUser {
  user: MfaUser;
  mapping: UserMapping;
  changes: UserChange[];
}

/** Maps one export user of the context against the tenant: pure, and independent of the other users. */
export function mapOneUser(ctx: PlanContext, user: MfaUser, tenant: Pick<TenantSnapshot, 'users' | 'hardwareTokens' | 'matches'>): MappedUser {
  const key = user.username.toLowerCase();
  const match = tenant.matches?.get(key);
  const leftOut = user.oathTokenSerial === undefined ? undefined : seedLeftOutReason(user.oathTokenSerial, ctx.seedsLeftOut);
  const mapping = mapUser({
    user,
    seeds: ctx.seedsByUser.get(key) ?? [],
    devices: ctx.devicesByUser.get(key) ?? [],
    tenantUser: tenant.users.get(key),
    ...(match ? { match } : {}),
    inventory: tenant.hardwareTokens,
    policy: { after: ctx.policy.after, enabledForAnyone: ctx.policy.enabledDefaults },
    options: ctx.options,
    ...(leftOut !== undefined ? { seedLeftOut: leftOut } : {}),
  });
  return { user, mapping, changes: diffUser(mapping, tenant.hardwareTokens) };
}

/** The staged rollout, federation and SMS/voice deadline over every user in scope (in the plan's order). */
export function planCutover(ctx: PlanContext, users: readonly CutoverUser[], tenant: Pick<TenantSnapshot, 'cutover' | 'policy'>): CutoverMapping {
  // What the members of the groups the plan switches can sign in with, by the policy as the plan leaves it.
  const judge = (m: TenantRolloutMember): OtherUser => ({ id: m.id, upn: m.userPrincipalName, memberOf: m.memberOf, methodsAfter: usableMethods(m, userPolicy(ctx.policy.after, m.id, m.policyGroups)) });
  const others = (tenant.cutover?.rolloutMembers ?? []).map(judge);
  // 2.16: the tenant users of the domains whose final step the plan may take, outside its users.
  const domainUsers = tenant.cutover?.domainUsers?.map((d) => ({ domain: d.domain, users: d.users.map(judge) }));
  return mapCutover({
    mappings: users,
    outOfScope: ctx.outOfScope,
    ...(ctx.options.matchBy?.includes('on-premises') ? { onPremisesNames: true } : {}),
    cutover: tenant.cutover,
    others,
    ...(domainUsers ? { domainUsers } : {}),
    policy: tenant.policy,
    policyChanges: ctx.policy.changes,
    options: ctx.cutoverOptions,
  });
}

/** One user planned: the mapping, the changes (no-ops included, the cutover's last) and the user's line in the plan. */
export interface PlannedUser {
  mapping: UserMapping;
  changes: UserChange[];
  status: PlanUserStatus;
}

/** A mapped user's plan completed with what the cutover decided for them. */
export function finishUser(ctx: PlanContext, m: MappedUser, cutover: CutoverMapping): PlannedUser {
  const { mapping, user } = m;
  const key = user.username.toLowerCase();
  const changes = [...m.changes, ...cutoverUserChanges(mapping, cutover.users.get(mapping.user.toLowerCase()))];
  // The cutover's word on a user with no method (not switched, or switched without one) is the one said (a review saw two warnings for one fact).
  if (cutover.methodless.has(key) && mapping.findings.some((f) => f.code === 'no-usable-method')) mapping.findings = mapping.findings.filter((f) => f.code !== 'no-usable-method');
  const status = mapping.skipped?.code === 'user-disabled' ? 'disabled' : !mapping.tenantUser ? 'not-in-tenant' : changes.some((c) => c.action !== 'no-op') ? 'changes' : 'unchanged';
  return {
    mapping,
    changes,
    status: {
      user: mapping.user,
      user_id: mapping.tenantUser?.id ?? null,
      status,
      ...(mapping.match ? { match: mapping.match } : {}),
      server: serverRecord(user, ctx.seedSerials.get(key) ?? [], ctx.devicesByUser.get(key)?.length ?? 0),
      methods_after: mapping.tenantUser && !mapping.skipped ? methodsAfter(mapping.tenantUser, changes, userPolicyOf(ctx, mapping.tenantUser)) : null,
    },
  };
}

/**
 * The plan's counts, added up one planned user at a time, so that a plan can be checked without
 * holding all its users (apply re-derives a saved plan in chunks).
 */
export class PlanTally {
  private readonly actions = { create: 0, update: 0, delete: 0, 'no-op': 0 };
  private readonly status = { changes: 0, unchanged: 0, not_in_tenant: 0, disabled: 0, no_usable_method: 0 };
  private readonly severities: Record<FindingSeverity, number> = { error: 0, warning: 0, info: 0 };
  private readonly campaign: string[] = [];
  private readonly cannotUndo = { default_methods: 0, phones: 0 };
  private users = 0;
  private tokenWrites = false;

  /** The cutover's findings, counted (a large plan's checker then need not keep them: one or two a user). */
  addCutoverFindings(findings: readonly Finding[]): void {
    for (const f of findings) this.severities[f.severity]++;
  }

  add(p: PlannedUser): void {
    this.users++;
    for (const c of p.changes) {
      this.actions[c.action]++;
      if (c.resource.startsWith('hardwareOathMethods/') && c.action !== 'no-op') this.tokenWrites = true;
    }
    const { defaults, phones } = changesRollbackCannotUndo(p.changes);
    this.cannotUndo.default_methods += defaults.length;
    this.cannotUndo.phones += phones.length;
    this.status[p.status.status === 'not-in-tenant' ? 'not_in_tenant' : p.status.status]++;
    if (p.status.methods_after?.length === 0) this.status.no_usable_method++;
    for (const f of p.mapping.findings) {
      this.severities[f.severity]++;
      if (f.code === 'mobile-app-reregistration' && f.severity === 'warning') this.campaign.push(f.user!);
    }
  }

  /** The summary, the plan-wide findings the users imply, and the registration campaign (in the findings' order). */
  finish(ctx: PlanContext, cutover: CutoverMapping): { summary: Plan['summary']; propagation: Finding[]; campaign: string[] } {
    const propagation: Finding[] = [];
    const enablesHardwareOath = ctx.policy.changes.some((c) => /\/HardwareOath$/i.test(c.target) && c.property === 'state' && c.after === 'enabled');
    if (enablesHardwareOath && this.tokenWrites) {
      propagation.push({
        severity: 'info',
        code: 'hardware-oath-propagation',
        rule: 'POL-HARDWARE-OATH',
        message: 'the plan enables hardware OATH tokens and activates tokens: Entra can take up to 20 minutes to apply the policy ("allow an hour"); apply tries activations it refuses meanwhile again for --policy-propagation-wait minutes (default 20)',
      });
    }
    const severities = { ...this.severities };
    for (const f of [...ctx.policy.findings, ...propagation, ...ctx.exportFindings]) severities[f.severity]++;
    const a = this.actions;
    const policyTargets = new Set(cutover.policyChanges.map((c) => c.target)).size;
    const cutoverCount = (action: 'create' | 'update') => cutover.changes.filter((c) => c.action === action).length;
    return {
      summary: {
        phone_only_after_retirement: cutover.phoneOnly,
        users: this.users,
        create: a.create + cutoverCount('create'),
        update: a.update + policyTargets + cutoverCount('update'),
        delete: a.delete,
        no_op: a['no-op'],
        findings: severities,
        user_changes: { create: a.create, update: a.update, delete: a.delete, no_op: a['no-op'], total: a.create + a.update + a.delete + a['no-op'] },
        policy: { targets: policyTargets, changes: cutover.policyChanges.length },
        cutover: { create: cutoverCount('create'), update: cutoverCount('update') },
        user_status: { ...this.status },
        rollback_cannot_undo: { changes: this.cannotUndo.default_methods + this.cannotUndo.phones, ...this.cannotUndo },
      },
      propagation,
      // Findings are sorted by user within a severity (sortFindings): the campaign lists users in that order.
      campaign: [...this.campaign].sort((x, y) => x.localeCompare(y)),
    };
  }
}

/** Maps the export against the tenant and diffs: the whole plan, without any I/O. */
export function buildPlan(input: PlanInput): BuiltPlan {
  const { tenant } = input;
  const ctx = planContext({ ...input, policy: tenant.policy, inTenant: (key) => tenant.users.has(key) });
  const mapped = ctx.users.map((user) => mapOneUser(ctx, user, tenant));
  const cutover = planCutover(ctx, mapped.map((m) => m.mapping), tenant);
  const tally = new PlanTally();
  tally.addCutoverFindings(cutover.findings);
  const planned = mapped.map((m) => {
    const p = finishUser(ctx, m, cutover);
    tally.add(p);
    return p;
  });
  const { summary, propagation, campaign } = tally.finish(ctx, cutover);
  const findings = sortFindings([
    ...ctx.policy.findings,
    ...propagation,
    ...cutover.findings.filter((f) => !f.user),
    ...ctx.exportFindings,
    ...planned.flatMap((p) => p.mapping.findings),
    ...cutover.findings.filter((f) => f.user),
  ]);
  const plan: Plan = {
    format_version: PLAN_FORMAT_VERSION,
    created: input.now.toISOString(),
    source_fingerprint: input.sourceFingerprint,
    tenant: { ...tenant.tenant },
    options: planOptions(ctx),
    summary,
    policy_changes: cutover.policyChanges,
    cutover_changes: cutover.changes,
    user_changes: planned.flatMap((p) => p.changes),
    users: planned.map((p) => p.status),
    findings,
    registration_campaign: campaign,
    cutover: cutover.summary,
  };
  // Not the users' mappings: nothing reads them once the plan is made, and kept with it (the plan is saved,
  // printed and reported after) 100,000 users' held some 60 MB more through all of that.
  return { plan, refusals: cutover.refusals };
}

/** The options as the plan records them. */
export function planOptions(ctx: Pick<PlanContext, 'options' | 'cutoverOptions' | 'narrowed' | 'users'>): Plan['options'] {
  const { options, cutoverOptions: c } = ctx;
  return {
    include_email: options.includeEmail,
    default_method: options.defaultMethod,
    prune: options.prune,
    target_group: { ...options.target },
    rollout_groups: c.rolloutGroups.map((g) => ({ ...g })),
    federated_mfa: c.federatedMfa,
    force_federation: c.forceFederation,
    campaign_group: c.campaignGroup ? { ...c.campaignGroup } : null,
    scope_group: c.scopeGroup ? { ...c.scopeGroup } : null,
    scope_users: ctx.narrowed ? { count: ctx.users.length, fingerprint: stateFingerprint(ctx.users.map((u) => u.username.toLowerCase())) } : null,
    // Saved plan 2.10 (absent in plans made before it, which matched by UPN only).
    ...(options.matchBy ? { match_by: [...options.matchBy] } : {}),
    ...(options.netbiosDomains && options.netbiosDomains.size > 0 ? { netbios_domains: netbiosRecord(options.netbiosDomains) } : {}),
  };
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
