import type * as Graph from '@microsoft/microsoft-graph-types-beta';
import { federationState, managedDomainSet, REJECT_IDP_MFA, ROLLOUT_POLICY_TARGET, rolloutPolicyState, STAGED_ROLLOUT_LIMITS, unusableGroup, type StagedRolloutLimits } from '../model/staged-rollout.js';
import type { TenantCutover, TenantGroup, TenantRolloutPolicy, TenantUser } from '../model/tenant.js';
import type { Finding } from './finding.js';
import { findConfig, type PolicyChange, type PolicyTarget } from './policy-rules.js';
import type { RuleId } from './rules.js';
import { groupsThePlanSwitches } from './rollout-members.js';
import { rolloutReach as rolloutReachOf } from '../model/rollout-reach.js';
import { isPhoneOnly, type UserMapping } from './user-mapping.js';
import { hasCloudMethod, type MethodsAfter } from '../model/cloud-methods.js';
import { domainsOf, federationRootOf } from '../model/federation-root.js';

/**
 * The cutover, pure: which users staged rollout switches to Entra MFA (and into which group), the
 * rollout policy and group attachments it needs, the federation's final step, the SMS/voice retirement
 * per user, and the campaign group. Staged rollout's limits (entra-docs staged rollout and MFA Server
 * Migration Utility docs) are checked here, so that apply never discovers them.
 */

/** The day Microsoft-provided SMS and voice retire (entra-docs concept-sms-voice-retirement). */
export const SMS_VOICE_RETIREMENT = '2027-02-01';
/** The same for Global Administrators and external users. */
export const SMS_VOICE_RETIREMENT_LATE = '2027-07-01';

export { ROLLOUT_POLICY_TARGET } from '../model/staged-rollout.js';
export const ROLLOUT_POLICY_NAME = 'MFA Server migration';
const CAMPAIGN = 'registrationEnforcement/authenticationMethodsRegistrationCampaign';

export interface CutoverOptions {
  /** --rollout-group, in fill order. */
  rolloutGroups: readonly PolicyTarget[];
  federatedMfa: 'reject' | null;
  forceFederation: boolean;
  campaignGroup: PolicyTarget | null;
  /** The --group migration scope, if any. */
  scopeGroup?: PolicyTarget;
}

/** One tenant-level cutover change: the rollout policy, a group attached to it, a domain's federation. */
export interface CutoverChange {
  /** `featureRolloutPolicies/multiFactorAuthentication`, `.../appliesTo/<groupId>`, `domains/<domain>/federationConfiguration`. */
  target: string;
  action: 'create' | 'update';
  before: Record<string, unknown> | null;
  after: Record<string, unknown>;
  rule: RuleId;
  because: string;
  /** Federation: how many of the domain's users this plan switches; apply changes it once all of them are. */
  switches?: number;
}

/** A user's membership decision for one group. */
export interface GroupDecision {
  group: PolicyTarget;
  /** `add`: the plan adds the user; `member`: already there. */
  action: 'add' | 'member';
  rule: RuleId;
  because: string;
}

export interface UserCutover {
  rollout?: GroupDecision;
  campaign?: GroupDecision;
}

export interface RolloutGroupFill {
  id: string;
  displayName: string;
  attached: boolean;
  members_before: number;
  added: number;
}

export interface FederationSummary {
  domain: string;
  federatedIdpMfaBehavior: string | null;
  planned: boolean;
  users: number;
  unswitched: number;
  /**
   * (JSON 1.7, saved plan 2.16) The domain's tenant users outside the export (enabled, not switched by
   * staged rollout once the plan is applied) whom the federation moves to Entra MFA; present when
   * they were read (a domain whose final step the plan may take).
   */
  outside_export?: number;
  /**
   * (JSON 1.9, saved plan 2.19) Every one of `outside_export` with no cloud MFA method they can use
   * once the plan is applied, by UPN, sorted: the federation moves them to Entra MFA with nothing to
   * sign in with (only --force-federation plans that). The `federation-forced` finding names the first
   * 20; an approver must see them all. Present when there are some.
   */
  outside_without_method?: string[];
  /**
   * (JSON 1.10, saved plan 2.20) With --force-federation, every one its `federation-forced` findings
   * count, where each names the first 20: the usernames of the export refused as matching no one tenant
   * user alone whose candidates include users of the domain, each with them (`unchecked_names`); the
   * export's users of the domain outside the plan's scope (`out_of_scope_users`); the users of the
   * domain in scope neither switched already nor by the plan (`unswitched_users`). Present when there
   * are some.
   */
  unchecked_names?: string[];
  out_of_scope_users?: string[];
  unswitched_users?: string[];
  /**
   * (JSON 1.8, saved plan 2.18) The domain's subdomains that are not roots (`isRoot` false): they take
   * its federation, so its final step moves their users too, counted with the domain's; present when
   * it has some.
   */
  subdomains?: string[];
}

export type PasskeyAllowance = 'all' | 'some' | 'none' | 'unknown';

/** What the plan JSON says of the cutover as a whole. */
export interface CutoverSummary {
  rollout_groups: RolloutGroupFill[];
  switched: { already: number; by_plan: number; not_switched: number };
  federation: FederationSummary[];
  campaign_group: { id: string; displayName: string; added: number } | null;
  passkeys: { state: string | null; include_targets: string[]; allowed_for_phone_only: PasskeyAllowance };
}

/**
 * What the cutover reads of a user's mapping: little, so that every user's can be kept while a
 * large saved plan is checked a chunk of users at a time.
 */
export type CutoverUser = Pick<UserMapping, 'user' | 'skipped' | 'methodsAfter' | 'methodsBeforeWrites' | 'match'> & { tenantUser?: Pick<TenantUser, 'id' | 'userPrincipalName' | 'memberOf' | 'userType' | 'accountEnabled'> | undefined };

/** A mapping as the cutover keeps it. */
export function cutoverUser(m: CutoverUser): CutoverUser {
  const t = m.tenantUser;
  return {
    user: m.user,
    ...(m.skipped ? { skipped: m.skipped } : {}),
    ...(m.methodsAfter ? { methodsAfter: m.methodsAfter } : {}),
    ...(m.methodsBeforeWrites ? { methodsBeforeWrites: m.methodsBeforeWrites } : {}),
    // A name refused (ambiguous, shared, another domain): its candidates hold up their domains' final step.
    ...(m.match && m.match.outcome !== 'matched' ? { match: m.match } : {}),
    tenantUser: t ? { id: t.id, userPrincipalName: t.userPrincipalName, ...(t.memberOf ? { memberOf: t.memberOf } : {}), ...(t.userType !== undefined ? { userType: t.userType } : {}), ...(t.accountEnabled !== undefined ? { accountEnabled: t.accountEnabled } : {}) } : undefined,
  };
}

/** A tenant user outside the plan's users whom the cutover switches, with what they can sign in with once the plan is applied. */
export interface OtherUser {
  id: string;
  upn: string;
  memberOf: readonly string[];
  methodsAfter: MethodsAfter;
}

export interface CutoverInput {
  /** Every in-scope user's mapping, in the plan's order. */
  mappings: readonly CutoverUser[];
  /**
   * The export's users a narrower scope (--users, --group) leaves out, those disabled in MFA Server
   * too. The plan reads nothing of them, so it cannot count them switched; a domain's federation
   * moves them all the same.
   */
  outOfScope?: readonly string[];
  /**
   * Usernames are matched by on-premises name too (`--match-by upn,on-premises`): an out-of-scope
   * `DOMAIN\sam` or `sam` may be a user of any domain, so it counts for every federated domain.
   */
  onPremisesNames?: boolean;
  cutover: TenantCutover | undefined;
  /**
   * The members of the rollout groups the plan switches (`cutover.rolloutMembers`) with what they can
   * sign in with once the plan is applied; those among the plan's users are judged as they are.
   */
  others?: readonly OtherUser[];
  /**
   * (2.16) By federated domain (lower case), as `cutover.domainUsers`: its tenant users outside the
   * plan's users, with what they can sign in with once the plan is applied. Absent when not read (a
   * plan of an earlier format): then not judged.
   */
  domainUsers?: readonly { domain: string; users: readonly OtherUser[] }[];
  policy: Graph.AuthenticationMethodsPolicy;
  /** The authentication methods policy changes of the plan (the campaign group joins the campaign's). */
  policyChanges: readonly PolicyChange[];
  options: CutoverOptions;
  limits?: StagedRolloutLimits;
}

export interface CutoverMapping {
  changes: CutoverChange[];
  /** By lower-cased export username. */
  users: Map<string, UserCutover>;
  policyChanges: PolicyChange[];
  findings: Finding[];
  /** Why the plan cannot be made as asked (it exits 1 naming them). */
  refusals: string[];
  summary: CutoverSummary;
  phoneOnly: number;
  /** Lower-cased usernames the cutover says have no cloud MFA method (not-switched, switched-without-method): the mapping need not say it again. */
  methodless: Set<string>;
}

const domainOf = (upn: string) => upn.slice(upn.lastIndexOf('@') + 1).toLowerCase();

/** The cutover of the plan's users. Pure: the same input gives the same output. */
export function mapCutover(input: CutoverInput): CutoverMapping {
  const out: CutoverMapping = {
    changes: [],
    users: new Map(),
    policyChanges: [...input.policyChanges],
    findings: [],
    refusals: [],
    summary: { rollout_groups: [], switched: { already: 0, by_plan: 0, not_switched: 0 }, federation: [], campaign_group: null, passkeys: { state: null, include_targets: [], allowed_for_phone_only: 'unknown' } },
    phoneOnly: 0,
    methodless: new Set(),
  };
  const decide = (m: CutoverUser) => {
    const key = m.user.toLowerCase();
    let d = out.users.get(key);
    if (!d) out.users.set(key, (d = {}));
    return d;
  };
  const active = input.mappings.filter((m) => m.tenantUser && !m.skipped && m.methodsAfter);
  const phoneOnly = active.filter((m) => isPhoneOnly(m.methodsAfter!));
  out.phoneOnly = phoneOnly.length;

  const switched = planRollout(input, active, out, decide);
  if (input.options.campaignGroup) planCampaign(input, phoneOnly, out, decide);
  const passkeys = passkeyAllowance(input, phoneOnly);
  out.summary.passkeys = passkeys.summary;
  for (const m of phoneOnly) out.findings.push(phoneOnlyFinding(m, passkeys.of(m), input.options.campaignGroup));
  if (phoneOnly.length > 0) out.findings.push(passkeys.finding(phoneOnly.length));
  if (input.options.federatedMfa === 'reject') planFederation(input, active, switched, out);
  for (const f of out.findings) if (f.user && (f.code === 'not-switched' || f.code === 'switched-without-method')) out.methodless.add(f.user.toLowerCase());
  return out;
}

/** The staged rollout: the policy, the groups, each user's group. Returns who is switched once the plan is applied. */
function planRollout(input: CutoverInput, active: readonly CutoverUser[], out: CutoverMapping, decide: (m: CutoverUser) => UserCutover): (m: CutoverUser) => boolean {
  const limits = input.limits ?? STAGED_ROLLOUT_LIMITS;
  const named = input.options.rolloutGroups;
  const policy = input.cutover?.rolloutPolicy ?? null;
  const groupById = new Map((input.cutover?.groups ?? []).map((g) => [g.id, g]));
  const attached = new Set(policy?.appliesTo ?? []);
  const memberOf = (u: Pick<TenantUser, 'memberOf'>) => new Set(u.memberOf ?? []);
  // Without --rollout-group the plan only needs to know who is switched already (for the federation),
  // counting only users with a cloud method: one switched without is not ready for the IdP's MFA to go.
  if (named.length === 0) {
    const reached = rolloutReach(input);
    return (m) => reached(m) && hasCloudMethod(m.methodsAfter!);
  }

  const refuse = (why: string) => out.refusals.push(why);
  if (named.length > limits.groupsPerFeature) refuse(`--rollout-group is given ${named.length} times: staged rollout takes at most ${limits.groupsPerFeature} groups per feature`);
  if (policy?.isAppliedToOrganization) {
    refuse(`the staged rollout policy "${policy.displayName}" for multiFactorAuthentication applies to the whole organisation: every user is switched already, and groups do not apply (drop --rollout-group, or turn that off in the portal first)`);
  }
  const groups: TenantGroup[] = [];
  for (const ref of named) {
    const g = groupById.get(ref.id);
    if (!g) {
      refuse(`--rollout-group "${ref.displayName}" (${ref.id}) could not be read`);
      continue;
    }
    const why = unusableGroup(g, limits);
    if (why) refuse(`--rollout-group "${g.displayName}": ${why}`);
    if (!attached.has(g.id) && g.users > limits.membersAtFirstAdd) {
      refuse(`--rollout-group "${g.displayName}" has ${g.users} members: staged rollout takes a group only while it has at most ${limits.membersAtFirstAdd} (it may grow after), so name an emptier group, or one attached to the policy already`);
    }
    groups.push(g);
  }
  const newGroups = groups.filter((g) => !attached.has(g.id));
  if (attached.size + newGroups.length > limits.groupsPerFeature) {
    refuse(`the staged rollout policy applies to ${attached.size} group(s) already; adding ${newGroups.length} more passes the ${limits.groupsPerFeature} groups staged rollout takes per feature`);
  }
  if (input.options.scopeGroup && named.some((g) => g.id === input.options.scopeGroup!.id)) {
    out.findings.push({
      severity: 'warning',
      code: 'rollout-group-is-scope',
      rule: 'CUTOVER-STAGED-ROLLOUT',
      message: `"${input.options.scopeGroup.displayName}" is both the migration scope (--group) and a rollout group: Microsoft advises separate groups, so that adding a user to the scope does not switch them before their methods are there${groupsThePlanSwitches(policy, named.map((g) => g.id)).includes(input.options.scopeGroup.id) ? '; and this plan switches its members by its staged rollout step: apply writes their methods first and holds that step until they are done (an apply that leaves one of them out never sends it)' : ''}`,
    });
  }

  // The policy: there and enabled, never for the whole organisation.
  if (!policy) {
    out.changes.push({
      target: ROLLOUT_POLICY_TARGET,
      action: 'create',
      before: null,
      after: { displayName: ROLLOUT_POLICY_NAME, feature: 'multiFactorAuthentication', isEnabled: true, isAppliedToOrganization: false },
      rule: 'CUTOVER-STAGED-ROLLOUT',
      because: 'the tenant has no staged rollout policy for multiFactorAuthentication: created for the named groups only',
    });
  } else if (!policy.isEnabled) {
    const others = policy.appliesTo.filter((id) => !named.some((g) => g.id === id)).length;
    out.changes.push({
      target: ROLLOUT_POLICY_TARGET,
      action: 'update',
      before: rolloutPolicyState(policy),
      after: { ...rolloutPolicyState(policy)!, isEnabled: true },
      rule: 'CUTOVER-STAGED-ROLLOUT',
      because: `the staged rollout policy "${policy.displayName}" is disabled${others > 0 ? `; enabling it switches the members of its ${others} other group(s) too` : ''}`,
    });
  }
  for (const g of newGroups) {
    out.changes.push({
      target: `${ROLLOUT_POLICY_TARGET}/appliesTo/${g.id}`,
      action: 'create',
      before: null,
      after: { groupId: g.id, displayName: g.displayName, policyId: policy?.id ?? null },
      rule: 'CUTOVER-STAGED-ROLLOUT',
      because: `"${g.displayName}" has ${g.users} member(s): it is added to staged rollout now (at most ${limits.membersAtFirstAdd} when first added), its users after`,
    });
  }

  // Users, in the plan's order, into the first group with room.
  const fill = new Map(groups.map((g) => [g.id, g.users]));
  const rolloutIds = new Set([...attached, ...groups.map((g) => g.id)]);
  const nameOf = (id: string) => groupById.get(id)?.displayName ?? id;
  const isSwitched = new Set<string>();
  // A domain whose federation rejects the IdP's MFA already sends every user of it to Entra MFA: a
  // rollout group adds nothing for them.
  const rejecting = new Set((input.cutover?.federatedDomains ?? []).filter((d) => d.federatedIdpMfaBehavior === REJECT_IDP_MFA).map((d) => d.id.toLowerCase()));
  // A subdomain that is not a root counts as its root, whose federation is its own (model/federation-root.ts).
  const governing = federationRootOf(input.cutover?.federatedDomains ?? []);
  const byFederation = new Map<string, number>();
  // A managed domain's users sign in to Entra itself, which does their MFA already: staged rollout
  // moves users of federated domains only, so a rollout group changes nothing for them either.
  const managed = managedDomainSet(input.cutover);
  const byManagedDomain = new Map<string, number>();
  // The domains whose users Entra does MFA for already, managed first: where their users are counted,
  // and the rule and reason a user of them with no cloud method is warned of.
  const onEntraMfa: readonly { domains: Set<string>; counted: Map<string, number>; rule: RuleId; why: (domain: string) => string }[] = [
    { domains: managed, counted: byManagedDomain, rule: 'CUTOVER-MANAGED-DOMAIN', why: (domain) => `${domain} is a managed domain (Entra authenticates its users), so Entra does this user's MFA already` },
    { domains: rejecting, counted: byFederation, rule: 'CUTOVER-SWITCH-USER', why: (domain) => `${domain} rejects the federated IdP's MFA already, so Entra does this user's MFA` },
  ];
  // The plan's users its staged rollout step switches with no cloud method, by group.
  const stranded = new Map<string, string[]>();
  const strandedBy = (group: string) => stranded.get(group) ?? stranded.set(group, []).get(group)!;
  let overflow = 0;
  for (const m of active) {
    const u = m.tenantUser!;
    const domain = governing(domainOf(u.userPrincipalName));
    const entra = onEntraMfa.find((e) => e.domains.has(domain));
    if (entra) {
      if (hasCloudMethod(m.methodsAfter!)) {
        out.summary.switched.already++;
        isSwitched.add(u.id);
        entra.counted.set(domain, (entra.counted.get(domain) ?? 0) + 1);
        continue;
      }
      out.summary.switched.not_switched++;
      out.findings.push({
        severity: 'warning',
        code: 'switched-without-method',
        user: m.user,
        rule: entra.rule,
        message: `${entra.why(domain)}, and they have no cloud MFA method the policy lets them use once the plan is applied: nothing to sign in with (migrate or enable a method for them)`,
      });
      continue;
    }
    const holding = [...memberOf(u)].find((id) => rolloutIds.has(id));
    if (holding) {
      decide(m).rollout = { group: { id: holding, displayName: nameOf(holding) }, action: 'member', rule: 'CUTOVER-SWITCH-USER', because: `already a member of "${nameOf(holding)}" (staged rollout)` };
      // Switched by this plan's staged rollout step (enabling the policy, attaching the group), which
      // apply sends only once the user's own writes are done. Not when another group of theirs is
      // attached to the enabled policy already, whichever group is named first.
      const byPlan = !switchedBefore(policy, u.memberOf ?? []);
      if (hasCloudMethod(m.methodsAfter!)) {
        out.summary.switched.already++;
        isSwitched.add(u.id);
        if (byPlan && m.methodsBeforeWrites && !hasCloudMethod(m.methodsBeforeWrites)) {
          out.findings.push({
            severity: 'warning',
            code: 'switched-before-methods',
            user: m.user,
            rule: 'CUTOVER-SWITCH-USER',
            // Still a warning: the attach (or enable) waits for them, and a run that does not write their methods holds it.
            message: `a member of the rollout group "${nameOf(holding)}" who has no cloud MFA method yet: this plan's staged rollout step switches them to Entra MFA (${attached.has(holding) ? 'enabling the staged rollout policy' : 'attaching the group'}), so apply writes their methods first and holds the ${attached.has(holding) ? 'enable' : 'attach'} until they are done. A write of theirs that fails holds it, and the switches into the group, until a resume writes it; an apply whose --users, --group or --max-users leaves them out never sends it (take them out of the group and plan again to switch them in a wave instead)`,
          });
        }
        continue;
      }
      // Counted with those the plan cannot switch, as the federation step counts them.
      out.summary.switched.not_switched++;
      // Switched by this plan with nothing to sign in with: whoever has their password could register
      // a method of their own, so the plan is refused (a black-box test saw one applied, exit 0).
      if (byPlan) {
        strandedBy(holding).push(u.userPrincipalName);
        continue;
      }
      // Switched before the plan: their membership is the admin's (the plan never removes it), and it
      // does not count as a switch, not for the federation step either. Named by the group that
      // switched them (`holding` may be one the plan attaches: a review saw the wrong one named).
      const by = switchingGroup(policy, u.memberOf ?? []) ?? holding;
      out.findings.push({
        severity: 'warning',
        code: 'switched-without-method',
        user: m.user,
        rule: 'CUTOVER-SWITCH-USER',
        message: `a member of the rollout group "${nameOf(by)}" with no cloud MFA method the policy lets them use once the plan is applied: switched to Entra MFA already by it, with nothing to sign in with (migrate or enable a method for them, or take them out of ${rolloutGroupsOf(u, rolloutIds).length > 1 ? 'the rollout groups' : 'the group'})`,
      });
      continue;
    }
    if (!hasCloudMethod(m.methodsAfter!)) {
      out.summary.switched.not_switched++;
      out.findings.push({
        severity: 'warning',
        code: 'not-switched',
        user: m.user,
        rule: 'CUTOVER-SWITCH-USER',
        message: NOT_SWITCHED,
      });
      continue;
    }
    const g = groups.find((x) => fill.get(x.id)! < limits.membersPerGroup);
    if (!g) {
      overflow++;
      continue;
    }
    fill.set(g.id, fill.get(g.id)! + 1);
    decide(m).rollout = {
      group: { id: g.id, displayName: g.displayName },
      action: 'add',
      rule: 'CUTOVER-SWITCH-USER',
      because: `switched to Entra MFA by staged rollout once every other change of the user succeeded ("${g.displayName}", member ${fill.get(g.id)} of at most ${limits.membersPerGroup})`,
    };
    isSwitched.add(u.id);
    out.summary.switched.by_plan++;
  }
  for (const [domain, n] of byFederation) {
    out.findings.push({
      severity: 'info',
      code: 'switched-by-federation',
      rule: 'CUTOVER-SWITCH-USER',
      message: `${n} user(s) of ${domain}, whose federation rejects the IdP's MFA already, are switched to Entra MFA by it: not added to a rollout group`,
    });
  }
  for (const [domain, n] of byManagedDomain) {
    out.findings.push({
      severity: 'info',
      code: 'switched-managed-domain',
      rule: 'CUTOVER-MANAGED-DOMAIN',
      message: `${n} user(s) of ${domain}, a managed domain, are on Entra MFA already (Entra authenticates them and does their MFA; MFA Server can have served them only on premises, through RADIUS, IIS or LDAP, which the cutover does not move): not added to a rollout group, which changes nothing for them`,
    });
  }
  if (overflow > 0) {
    const room = groups.reduce((n, g) => n + Math.max(0, limits.membersPerGroup - g.users), 0);
    refuse(`the rollout groups have room for ${room} more user(s) (${limits.membersPerGroup} a group) and this plan switches ${room + overflow}: add another --rollout-group`);
  }
  switchedOthers(input, active, policy, nameOf, stranded, out);
  out.summary.rollout_groups = groups.map((g) => ({ id: g.id, displayName: g.displayName, attached: attached.has(g.id), members_before: g.users, added: fill.get(g.id)! - g.users }));
  return (m) => isSwitched.has(m.tenantUser!.id);
}

/** Users named in a finding that lists them; the rest are counted. */
const LISTED_AT_MOST = 20;
/** Users named in a refusal that lists them; the rest are counted. */
const REFUSAL_LISTS = 5;

/** The group of a user's attached to the enabled policy (the first), which switched them before the plan. */
function switchingGroup(policy: TenantRolloutPolicy | null, memberOf: readonly string[]): string | undefined {
  return policy?.isEnabled === true ? memberOf.find((id) => policy.appliesTo.includes(id)) : undefined;
}

/** The rollout groups (attached, or the plan's) that hold a user. */
function rolloutGroupsOf(u: Pick<TenantUser, 'memberOf'>, rolloutIds: ReadonlySet<string>): string[] {
  return (u.memberOf ?? []).filter((id) => rolloutIds.has(id));
}

/** Whether staged rollout switched a user before the plan: a group of theirs attached to the enabled policy (or the policy for everyone). */
function switchedBefore(policy: TenantRolloutPolicy | null, memberOf: readonly string[]): boolean {
  return policy?.isEnabled === true && (policy.isAppliedToOrganization || memberOf.some((id) => policy.appliesTo.includes(id)));
}

/**
 * The members of the groups the plan switches who are not among its users (outside the scope, or
 * left out of it, as disabled in MFA Server): attaching their group or enabling the policy switches
 * them all the same. The plan is refused, a reason per group, while the step switches anyone, among
 * its users (`planUsers`, by group) or not, with nothing to sign in with; one of them switched before
 * the plan (by another group of theirs) is warned of, a finding per group.
 */
function switchedOthers(input: CutoverInput, active: readonly CutoverUser[], policy: TenantRolloutPolicy | null, nameOf: (id: string) => string, planUsers: ReadonlyMap<string, string[]>, out: CutoverMapping): void {
  const switching = groupsThePlanSwitches(policy, input.options.rolloutGroups.map((g) => g.id));
  if (switching.length === 0) return;
  const planned = new Set(active.map((m) => m.tenantUser!.id));
  const how = !policy ? 'creating the staged rollout policy for it' : !policy.isEnabled ? 'enabling the staged rollout policy' : 'attaching the group to staged rollout';
  // A user of a domain whose federation rejects the IdP's MFA, or of a managed domain, is on Entra MFA already, as a plan user of it is judged.
  const rejecting = new Set((input.cutover?.federatedDomains ?? []).filter((d) => d.federatedIdpMfaBehavior === REJECT_IDP_MFA).map((d) => d.id.toLowerCase()));
  const managed = managedDomainSet(input.cutover);
  const governing = federationRootOf(input.cutover?.federatedDomains ?? []);
  const before = (o: { upn: string; memberOf: readonly string[] }) => rejecting.has(governing(domainOf(o.upn))) || managed.has(domainOf(o.upn)) || switchedBefore(policy, o.memberOf);
  for (const group of switching) {
    const methodless = (input.others ?? []).filter((o) => o.memberOf.includes(group) && !planned.has(o.id) && !hasCloudMethod(o.methodsAfter));
    const already = methodless.filter(before).map((o) => o.upn).sort();
    const byPlan = [...new Set([...(planUsers.get(group) ?? []), ...methodless.filter((o) => !before(o)).map((o) => o.upn)])].sort();
    if (byPlan.length > 0) {
      const listed = byPlan.slice(0, REFUSAL_LISTS).join(', ') + (byPlan.length > REFUSAL_LISTS ? ` and ${byPlan.length - REFUSAL_LISTS} more` : '');
      out.refusals.push(
        `the rollout group "${nameOf(group)}": ${how} switches ${byPlan.length} member(s) to Entra MFA who have no cloud MFA method the policy lets them use once the plan is applied, with nothing to sign in with (whoever has their password could register one): ${listed}. Take them out of the group, or give them a method first (migrate or enable one for them), and plan again (or plan without --rollout-group for now)`,
      );
    }
    if (already.length === 0) continue;
    const listed = already.slice(0, LISTED_AT_MOST).join(', ') + (already.length > LISTED_AT_MOST ? ` and ${already.length - LISTED_AT_MOST} more` : '');
    out.findings.push({
      severity: 'warning',
      code: 'switched-without-method',
      rule: 'CUTOVER-SWITCH-USER',
      message: `${already.length} member(s) of "${nameOf(group)}" outside this plan's users have no cloud MFA method the policy lets them use: switched to Entra MFA already (by another group of theirs attached to staged rollout, their domain's federation, or their domain being managed), with nothing to sign in with (migrate or enable a method for them, or take them out of the group): ${listed}`,
    });
  }
}

/** The final step: the federated IdP's MFA rejected, per verified federated domain of the plan's users. */
function planFederation(input: CutoverInput, active: readonly CutoverUser[], switched: (m: CutoverUser) => boolean, out: CutoverMapping): void {
  // A user disabled in MFA Server is left out of the plan, but while their Entra account can sign in,
  // the federation moves them to Entra MFA all the same: they count (a black-box test saw them locked out).
  const disabledHere = (m: CutoverUser) => m.skipped?.code === 'user-disabled';
  const counted = input.mappings.filter((m) => m.tenantUser && (!disabledHere(m) || m.tenantUser.accountEnabled !== false));
  const activeSet = new Set(active);
  const reached = rolloutReach(input);
  // The tenant users the plan judges through a row of theirs (matched by UPN or by on-premises name).
  const judged = new Set(input.mappings.flatMap((m) => (m.tenantUser ? [m.tenantUser.id.toLowerCase()] : [])));
  // Names refused as matching no one tenant user alone (ambiguous, shared, another domain): a candidate no row of the plan judges may be an unswitched user of its domain.
  const refused = input.mappings.filter((m) => !m.tenantUser && m.match && m.match.outcome !== 'matched');
  const seen = input.cutover?.outOfScopeMatches;
  const lookedUp = input.onPremisesNames === true && seen ? new Map(seen.map((e) => [e.user.toLowerCase(), e.upns])) : undefined;
  for (const d of input.cutover?.federatedDomains ?? []) {
    // The domain and its subdomains that are not roots, which take its federation: one final step moves them all.
    const family = new Set(domainsOf(d));
    const subdomains = d.subdomains ?? [];
    const users = counted.filter((m) => family.has(domainOf(m.tenantUser!.userPrincipalName)));
    const summary: FederationSummary = { domain: d.id, federatedIdpMfaBehavior: d.federatedIdpMfaBehavior, planned: false, users: users.length, unswitched: 0, ...(subdomains.length > 0 ? { subdomains: [...subdomains] } : {}) };
    out.summary.federation.push(summary);
    const unmatchedUpns: string[] = [];
    const unmatched = refused.flatMap((m) => {
      const of = m.match!.users.filter((u) => family.has(domainOf(u.upn)) && !judged.has(u.id.toLowerCase()));
      unmatchedUpns.push(...of.map((u) => u.upn));
      return of.length > 0 ? [`${m.user} (${of.map((u) => u.upn).join(', ')})`] : [];
    });
    if (users.length === 0 && unmatched.length === 0) {
      out.findings.push({ severity: 'info', code: 'federation-not-in-scope', rule: 'CUTOVER-FEDERATION', message: `${d.id} is federated but holds no user of this plan: its federation is left as it is` });
      continue;
    }
    if (d.federatedIdpMfaBehavior === REJECT_IDP_MFA) continue;
    if (!d.federationId) {
      out.refusals.push(`--federated-mfa reject: ${d.id} is federated but Graph shows no federation configuration for it`);
      continue;
    }
    // A disabled user has nothing planned, so no method to judge: switched already (or by the rollout the
    // plan enables) is what counts; the federation changes nothing for them then (a review).
    const left = users.filter((m) => (disabledHere(m) ? !reached(m) : !activeSet.has(m) || !switched(m)));
    const unswitched = left.map((m) => m.user);
    const disabledLeft = left.filter(disabledHere).length;
    const ofThem = disabledLeft > 0 ? ` (${disabledLeft} of them disabled in MFA Server, whose Entra account can still sign in)` : '';
    summary.unswitched = unswitched.length;
    // Every reason the step is refused for is named, not the first alone (a black-box test met them one run at a time).
    let blocked = false;
    if (unmatched.length > 0) {
      const names = `${unmatched.slice(0, 20).join(', ')}${unmatched.length > 20 ? ` and ${unmatched.length - 20} more` : ''}`;
      if (!input.options.forceFederation) {
        out.refusals.push(
          `--federated-mfa reject: ${unmatched.length} username(s) of the export match no one tenant user alone (ambiguous, another export user's too, or in another domain: see their findings), and users of ${d.id} are among their candidates, which this plan cannot tell switched: ${names}. Rejecting the federated IdP's MFA moves every user of the domain to Entra MFA at once; make each username its user's UPN in users.csv (or give --netbios-domain, or keep one row of a person held twice) and plan again (or --force-federation)`,
        );
        blocked = true;
      }
      out.findings.push({
        severity: 'warning',
        code: 'federation-forced',
        rule: 'CUTOVER-FEDERATION',
        message: `${d.id}: --force-federation: ${unmatched.length} username(s) of the export match no one tenant user alone and users of the domain are among their candidates, not checked; any of them not switched will meet Entra MFA when it applies: ${names}${everyOne(unmatched.length, 'unchecked_names')}`,
      });
      if (input.options.forceFederation) summary.unchecked_names = unmatched;
    }
    // A UPN tells its domain; with on-premises matching, the tenant users the name may be tell theirs
    // (looked up: outOfScopeMatches), else a name that is no UPN tells none and counts for every domain.
    const unread = (input.outOfScope ?? []).flatMap((u) => {
      const entra = (lookedUp?.get(u.toLowerCase()) ?? []).filter((upn) => family.has(domainOf(upn)));
      if (entra.length > 0) return [`${u} (Entra ${entra.join(', ')})`];
      const told = u.includes('@') ? family.has(domainOf(u)) : input.onPremisesNames === true && !lookedUp;
      return told ? [u] : [];
    });
    if (unread.length > 0) {
      const names = `${unread.slice(0, 20).join(', ')}${unread.length > 20 ? ` and ${unread.length - 20} more` : ''}`;
      const untold = !lookedUp && unread.some((u) => !u.includes('@')) ? ' (or whose username, not a UPN, tells no domain)' : '';
      if (!input.options.forceFederation) {
        out.refusals.push(
          `--federated-mfa reject: ${unread.length} user(s) of ${d.id}${untold} in the export are outside this plan's scope (--users, --group), so it cannot tell whether they are switched: ${names}. Rejecting the federated IdP's MFA moves every user of the domain to Entra MFA at once; plan the final step with every user of the domain in scope: the whole export, or a --users list of them (a user no longer in the tenant counts for nothing there) (or --force-federation)`,
        );
        blocked = true;
      }
      out.findings.push({
        severity: 'warning',
        code: 'federation-forced',
        rule: 'CUTOVER-FEDERATION',
        message: `${d.id}: --force-federation: ${unread.length} user(s) of the domain${untold} in the export are outside this plan's scope and were not checked; any of them not switched will meet Entra MFA when it applies: ${names}${everyOne(unread.length, 'out_of_scope_users')}`,
      });
      if (input.options.forceFederation) summary.out_of_scope_users = unread;
    }
    const list = `${unswitched.slice(0, 20).join(', ')}${unswitched.length > 20 ? ` and ${unswitched.length - 20} more` : ''}`;
    if (unswitched.length > 0 && !input.options.forceFederation) {
      out.refusals.push(
        `--federated-mfa reject: ${unswitched.length} user(s) of ${d.id} in scope would be left on MFA Server, neither switched already nor switched by this plan (it switches only users left with a cloud MFA method they can use)${ofThem}: ${list}. Rejecting the federated IdP's MFA moves every user of the domain to Entra MFA at once; switch them first (or --force-federation)`,
      );
      blocked = true;
    }
    const outside = input.domainUsers ? outsideExport(input, d.id, summary, judged, new Set(unmatchedUpns), lookedUp, out) : undefined;
    if (outside?.refused) blocked = true;
    if (blocked) continue;
    summary.planned = true;
    const switches = active.filter((m) => family.has(domainOf(m.tenantUser!.userPrincipalName)) && out.users.get(m.user.toLowerCase())?.rollout?.action === 'add').length;
    const reaching = subdomains.length > 0 ? ` and of its subdomain(s) ${subdomains.join(', ')}, which take its federation` : '';
    out.changes.push({
      target: `domains/${d.id}/federationConfiguration`,
      action: 'update',
      before: federationState(d),
      after: { id: d.federationId, federatedIdpMfaBehavior: REJECT_IDP_MFA },
      rule: 'CUTOVER-FEDERATION',
      because: `the final step for ${d.id}: Entra does the MFA of every user of the domain${reaching}${switches > 0 ? `, once the ${switches} switch(es) of this plan succeeded` : ''}`,
      switches,
    });
    out.findings.push({
      severity: 'warning',
      code: 'federation-reject',
      rule: 'CUTOVER-FEDERATION',
      message: `${d.id}: rejectMfaByFederatedIdp can take up to 24 hours to apply and affects every user of the domain${reaching}, not only this plan's; apply sets it last, once every switch of the domain succeeded`,
    });
    if (unswitched.length > 0) {
      out.findings.push({
        severity: 'warning',
        code: 'federation-forced',
        rule: 'CUTOVER-FEDERATION',
        message: `${d.id}: --force-federation: ${unswitched.length} user(s) of the domain are not switched and will meet Entra MFA when it applies${ofThem}: ${list}${everyOne(unswitched.length, 'unswitched_users')}`,
      });
      summary.unswitched_users = unswitched;
    }
    if (outside?.forced) out.findings.push(outside.forced);
    // Forced, the step moves the users the rollout leaves out to Entra MFA all the same: their
    // not-switched finding says so, not that they stay on MFA Server (a black-box review).
    if (input.options.forceFederation && left.length > 0) {
      const moved = new Set(left.map((m) => m.user.toLowerCase()));
      const message = notSwitchedForcedText(d.id);
      out.findings.forEach((f, i) => {
        if (f.code === 'not-switched' && f.user !== undefined && moved.has(f.user.toLowerCase())) out.findings[i] = { ...f, message };
      });
    }
  }
}

/** The not-switched finding of a user no federation step of the plan moves: they stay on MFA Server. */
const NOT_SWITCHED =
  'no cloud MFA method the policy lets them use once the plan is applied: not added to a rollout group (the user stays on MFA Server; migrate a method first, or enable one for them)';

/** The not-switched finding of a user whose domain's federation the plan sets with --force-federation: moved to Entra MFA by it, with nothing to sign in with. */
function notSwitchedForcedText(domain: string): string {
  return `no cloud MFA method the policy lets them use once the plan is applied: not added to a rollout group, but moved to Entra MFA all the same by the federation of ${domain} (--force-federation), with nothing to sign in with: they cannot complete MFA (migrate a method first, or enable one for them)`;
}

/**
 * The tenant users of a domain outside the export (2.16, `domainUsers`): the federation moves them to
 * Entra MFA as much as the plan's users, so the plan is refused while one of them has no cloud MFA
 * method they can use once it is applied (as it is for an export user left on MFA Server), naming
 * the first five and the count; `--force-federation` plans it all the same, naming them in
 * `federation-forced` (returned, for the caller to add once the step is planned; the first 20) and
 * every one in `outside_without_method`. Those with a method are counted (`outside_export`). The
 * export's users a narrower scope leaves out, and the candidates of a name refused as matching no one
 * user alone (`named`), have reasons of their own and are not named again.
 */
function outsideExport(
  input: CutoverInput,
  domain: string,
  summary: FederationSummary,
  judged: ReadonlySet<string>,
  named: ReadonlySet<string>,
  lookedUp: ReadonlyMap<string, string[]> | undefined,
  out: CutoverMapping,
): { refused: boolean; forced?: Finding } {
  const entry = input.domainUsers!.find((e) => e.domain === domain.toLowerCase());
  if (!entry) {
    // Every domain whose final step a plan may take is listed: one missing was not read, or taken out of the file.
    out.refusals.push(`--federated-mfa reject: the tenant users of ${domain} outside this plan were not read, so it cannot tell what they could sign in with once the federation moves them to Entra MFA: make a new plan`);
    return { refused: true };
  }
  const reach = reachOf(input);
  const told = new Set([...named, ...(input.outOfScope ?? []), ...[...(lookedUp?.values() ?? [])].flat()].map((u) => u.toLowerCase()));
  const outside = entry.users.filter((o) => !judged.has(o.id.toLowerCase()) && !told.has(o.upn.toLowerCase()) && !reach(o.memberOf));
  summary.outside_export = outside.length;
  const methodless = outside.filter((o) => !hasCloudMethod(o.methodsAfter)).map((o) => o.upn).sort();
  if (methodless.length === 0) return { refused: false };
  summary.outside_without_method = methodless;
  const some = (n: number) => methodless.slice(0, n).join(', ') + (methodless.length > n ? ` and ${methodless.length - n} more` : '');
  // The finding keeps its cap (the terminal shows it); past it, it says where every one is.
  const rest = everyOne(methodless.length, 'outside_without_method');
  const forced: Finding = {
    severity: 'warning',
    code: 'federation-forced',
    rule: 'CUTOVER-FEDERATION',
    message: `${domain}: --force-federation: ${methodless.length} tenant user(s) of the domain outside the export have no cloud MFA method they can use and will meet Entra MFA when it applies, with nothing to sign in with: ${some(LISTED_AT_MOST)}${rest}`,
  };
  if (input.options.forceFederation) return { refused: false, forced };
  out.refusals.push(
    `--federated-mfa reject: ${methodless.length} tenant user(s) of ${domain} outside the export (enabled, not switched by staged rollout) have no cloud MFA method they can use: rejecting the federated IdP's MFA moves them to Entra MFA with nothing to sign in with (whoever has their password could register one): ${some(REFUSAL_LISTS)}. Give them a method first (or migrate them with the export, or disable the accounts no one uses), and plan again (or --force-federation)`,
  );
  return { refused: true };
}

/** Past the LISTED_AT_MOST a federation-forced finding names (how many it does not is said before): where every one is. */
function everyOne(count: number, field: 'outside_without_method' | 'unchecked_names' | 'out_of_scope_users' | 'unswitched_users'): string {
  return count > LISTED_AT_MOST ? ` (every one is in plan --format json's cutover.federation[].${field} and in the plan report)` : '';
}

/** What the plan's cutover says of `outside_export`, in every rendering. */
export function outsideExportText(n: number): string {
  return `${n} tenant user(s) of the domain outside the export, switched by the federation`;
}

/** Who staged rollout sends to Entra MFA once the plan is applied: the policy enabled (or enabled by the plan's groups), for the organisation or a group of theirs attached to it (or attached by the plan). */
function rolloutReach(input: CutoverInput): (m: CutoverUser) => boolean {
  const reach = reachOf(input);
  return (m) => reach(m.tenantUser!.memberOf ?? []);
}

/** rolloutReach by the groups that hold a user directly. */
function reachOf(input: CutoverInput): (memberOf: readonly string[]) => boolean {
  return rolloutReachOf(input.cutover?.rolloutPolicy ?? null, input.options.rolloutGroups.map((g) => g.id));
}

/** Phone-only users into the campaign group, which the Authenticator registration campaign targets. */
function planCampaign(input: CutoverInput, phoneOnly: readonly CutoverUser[], out: CutoverMapping, decide: (m: CutoverUser) => UserCutover): void {
  const ref = input.options.campaignGroup!;
  const g = input.cutover?.groups.find((x) => x.id === ref.id);
  if (!g) {
    out.refusals.push(`--campaign-group "${ref.displayName}" (${ref.id}) could not be read`);
    return;
  }
  if (g.dynamic) {
    out.refusals.push(`--campaign-group "${g.displayName}" is a dynamic group: its members come from its rule and cannot be added (use an assigned group)`);
    return;
  }
  // Added to a rollout group, a user is switched to Entra MFA: the campaign's adds do not wait for the
  // user's methods as the switch does, so a campaign group must never be one.
  const rollout = input.options.rolloutGroups.some((x) => x.id === g.id) || (input.cutover?.rolloutPolicy?.appliesTo ?? []).includes(g.id);
  if (rollout) {
    out.refusals.push(`--campaign-group "${g.displayName}" is a staged rollout group for MFA: adding a user to it switches the user to Entra MFA, before their methods are there (use a group of its own for the campaign)`);
    return;
  }
  let added = 0;
  for (const m of phoneOnly) {
    const member = (m.tenantUser!.memberOf ?? []).includes(g.id);
    if (!member) added++;
    decide(m).campaign = {
      group: { id: g.id, displayName: g.displayName },
      action: member ? 'member' : 'add',
      rule: 'CUTOVER-CAMPAIGN',
      because: member ? `already a member of "${g.displayName}"` : `SMS and voice only: the Authenticator registration campaign targets "${g.displayName}"`,
    };
  }
  out.summary.campaign_group = { id: g.id, displayName: g.displayName, added };

  // The campaign on, targeting the group: merged into the plan's own campaign changes (one change per property).
  const campaign = input.policy.registrationEnforcement?.authenticationMethodsRegistrationCampaign;
  const planned = (property: string) => out.policyChanges.find((c) => c.target === CAMPAIGN && c.property === property);
  const setting = `--campaign-group "${g.displayName}"`;
  const stateChange = planned('state');
  const enabledBefore = campaign?.state === 'enabled';
  if (!enabledBefore && !stateChange) {
    out.policyChanges.push({ target: CAMPAIGN, property: 'state', before: campaign?.state ?? null, after: 'enabled', rule: 'CUTOVER-CAMPAIGN', because: `phone-only users are asked to register Microsoft Authenticator`, setting });
  }
  const target = { id: g.id, targetType: 'group', targetedAuthenticationMethod: 'microsoftAuthenticator' };
  const before = (campaign?.includeTargets ?? []) as { id?: string }[];
  const targetsChange = planned('includeTargets');
  // The targets once the plan's own changes are applied: a campaign this plan turns on (for the
  // campaign group alone) drops the default all_users, which would prompt everyone.
  const effective = (targetsChange?.after as { id?: string }[] | undefined) ?? (enabledBefore || stateChange ? before : []);
  if (effective.some((t) => t.id === g.id || (t.id === 'all_users' && (enabledBefore || stateChange)))) return;
  if (targetsChange) {
    out.policyChanges[out.policyChanges.indexOf(targetsChange)] = { ...targetsChange, after: [...effective, target], because: `${targetsChange.because}; and "${g.displayName}" (${setting})` };
  } else {
    out.policyChanges.push({ target: CAMPAIGN, property: 'includeTargets', before, after: [...effective, target], rule: 'CUTOVER-CAMPAIGN', because: `target "${g.displayName}"`, setting });
  }
}

/** Whether the tenant's FIDO2 (passkey) configuration lets the phone-only users register a passkey. */
function passkeyAllowance(input: CutoverInput, phoneOnly: readonly CutoverUser[]) {
  const fido2 = findConfig(input.policy, 'Fido2') as (Record<string, unknown> & { state?: string | null }) | undefined;
  const ids = (list: unknown) => ((list as { id?: string }[] | null | undefined) ?? []).map((t) => String(t.id));
  const include = ids(fido2?.includeTargets);
  const exclude = ids(fido2?.excludeTargets);
  const on = fido2?.state === 'enabled';
  const campaign = input.options.campaignGroup?.id;
  const of = (m: CutoverUser): PasskeyAllowance => {
    if (!on) return 'none';
    const known = new Set([...(m.tenantUser!.memberOf ?? []), ...(campaign ? [campaign] : [])]);
    const read = new Set([...(input.cutover?.groups ?? []).map((g) => g.id), ...(campaign ? [campaign] : [])]);
    if (exclude.some((id) => known.has(id))) return 'none';
    if (exclude.some((id) => !read.has(id))) return 'unknown';
    if (include.includes('all_users') || include.some((id) => known.has(id))) return 'all';
    return include.some((id) => !read.has(id)) ? 'unknown' : 'none';
  };
  const each = phoneOnly.map(of);
  const overall: PasskeyAllowance = each.length === 0 || !on ? (on ? 'all' : 'none') : each.every((a) => a === 'all') ? 'all' : each.every((a) => a === 'none') ? 'none' : each.includes('unknown') ? 'unknown' : 'some';
  const targets = include.join(', ') || 'no one';
  return {
    of,
    summary: { state: fido2?.state ?? null, include_targets: include, allowed_for_phone_only: overall },
    finding: (n: number): Finding =>
      !on
        ? { severity: 'warning', code: 'passkeys-disabled', rule: 'CUTOVER-PHONE-DEADLINE', message: `passkeys (FIDO2) are disabled in the authentication methods policy: the ${n} user(s) left with SMS and voice only cannot register the passkey the retirement's prompt asks for; enable FIDO2 for them, or have them register Microsoft Authenticator` }
        : overall === 'all'
          ? { severity: 'info', code: 'passkeys-allowed', rule: 'CUTOVER-PHONE-DEADLINE', message: `passkeys (FIDO2) are enabled (targets: ${targets}) for all ${n} user(s) left with SMS and voice only` }
          : { severity: 'warning', code: 'passkeys-limited', rule: 'CUTOVER-PHONE-DEADLINE', message: `passkeys (FIDO2) are enabled for ${targets}${exclude.length ? ` (excluded: ${exclude.join(', ')})` : ''} only: not every one of the ${n} user(s) left with SMS and voice only can register one (${overall === 'none' ? 'none of them' : overall === 'some' ? 'some of them' : 'membership not read'})` },
  };
}

function phoneOnlyFinding(m: CutoverUser, passkeys: PasskeyAllowance, campaign: PolicyTarget | null): Finding {
  return { severity: 'warning', code: 'phone-only-after-retirement', user: m.user, rule: 'CUTOVER-PHONE-DEADLINE', message: phoneOnlyMessage(m.tenantUser!.userType === 'Guest', passkeys, campaign) };
}

/**
 * The words of phoneOnlyFinding, made once for each case and shared: most users of a large plan
 * get it, and one string built for each (a chain of the template's pieces) held 100,000 copies of
 * the same text in a 100,000-user plan check.
 */
const PHONE_ONLY_MESSAGES = new Map<string, string>();

function phoneOnlyMessage(external: boolean, passkeys: PasskeyAllowance, campaign: PolicyTarget | null): string {
  const key = `${external}|${passkeys}|${campaign?.displayName ?? ''}|${campaign ? 1 : 0}`;
  let message = PHONE_ONLY_MESSAGES.get(key);
  if (message === undefined) {
    const day = external ? `${SMS_VOICE_RETIREMENT_LATE} (external user)` : `${SMS_VOICE_RETIREMENT} (${SMS_VOICE_RETIREMENT_LATE} if a Global Administrator)`;
    const allowed = { all: 'passkeys allowed', some: 'passkeys allowed', none: 'passkeys not allowed by the policy', unknown: 'passkeys allowed for some groups' }[passkeys];
    message = `SMS/voice only: from ${day} a blocking passkey registration prompt stops their sign-in (${allowed}); ${campaign ? `in the campaign group "${campaign.displayName}"` : 'have them register Authenticator or a passkey'}`;
    // Bounded: the campaign group's name is the key's only open part.
    if (PHONE_ONLY_MESSAGES.size < 64) PHONE_ONLY_MESSAGES.set(key, message);
  }
  return message;
}
