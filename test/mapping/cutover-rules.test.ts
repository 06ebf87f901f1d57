import type { AuthenticationMethodsPolicy } from '@microsoft/microsoft-graph-types-beta';
import { describe, expect, it } from 'vitest';
import { mapCutover, type CutoverInput, type CutoverOptions } from '../../src/mapping/cutover-rules.js';
import type { PolicyChange } from '../../src/mapping/policy-rules.js';
import { cutoverUserChanges } from '../../src/plan/user-diff.js';
import type { UserMapping } from '../../src/mapping/user-mapping.js';
import type { MethodsAfter } from '../../src/model/cloud-methods.js';
import type { PhoneType, TenantCutover, TenantGroup } from '../../src/model/tenant.js';

const G = (n: number) => `00000000-0000-4000-8000-0000000000g${n}`;
const group = (n: number, over: Partial<TenantGroup> = {}): TenantGroup => ({ id: G(n), displayName: `Group ${n}`, dynamic: false, users: 0, groups: 0, contacts: 0, ...over });
const ref = (n: number) => ({ id: G(n), displayName: `Group ${n}` });

interface UserSpec {
  phones?: PhoneType[];
  oath?: boolean;
  authenticator?: boolean;
  passwordless?: boolean;
  memberOf?: string[];
  userType?: string;
  domain?: string;
  disabled?: boolean;
  /** The Entra account's accountEnabled (absent: not read). */
  accountEnabled?: boolean;
  /** The methods they hold before the plan writes any (absent: not known). */
  before?: Partial<MethodsAfter>;
}

/** A user as the mapping leaves them: their methods once the plan is applied, and what the tenant says of them. */
function user(name: string, spec: UserSpec = {}): UserMapping {
  const upn = `${name}@${spec.domain ?? 'contoso.com'}`;
  const methodsAfter: MethodsAfter = { phones: spec.phones ?? [], oath: spec.oath ?? false, authenticator: spec.authenticator ?? false, passwordless: spec.passwordless ?? false };
  return {
    user: upn,
    tenantUser: {
      id: `id-${name}`,
      userPrincipalName: upn,
      phones: [],
      emails: [],
      authenticatorCount: 0,
      softwareOathCount: 0,
      hardwareOath: [],
      defaultMethod: null,
      memberOf: spec.memberOf ?? [],
      ...(spec.accountEnabled !== undefined ? { accountEnabled: spec.accountEnabled } : {}),
      ...(spec.userType ? { userType: spec.userType } : {}),
    },
    phones: [],
    cloudOnlyPhones: [],
    tokens: [],
    findings: [],
    ...(spec.disabled ? { skipped: { code: 'user-disabled', rule: 'USER-DISABLED' } } : { methodsAfter }),
    ...(spec.before ? { methodsBeforeWrites: { phones: [], oath: false, authenticator: false, passwordless: false, ...spec.before } } : {}),
  };
}

const phoneUser = (name: string, spec: UserSpec = {}) => user(name, { phones: ['mobile'], ...spec });
const tokenUser = (name: string, spec: UserSpec = {}) => user(name, { phones: ['mobile'], oath: true, ...spec });

const NONE: CutoverOptions = { rolloutGroups: [], federatedMfa: null, forceFederation: false, campaignGroup: null };
const tenant = (over: Partial<TenantCutover> = {}): TenantCutover => ({ rolloutPolicy: null, groups: [], federatedDomains: [], ...over });
const FEDERATED = { id: 'contoso.com', federationId: 'fed-1', federatedIdpMfaBehavior: 'acceptIfMfaDoneByFederatedIdp' };

function cutover(mappings: UserMapping[], options: Partial<CutoverOptions>, t: TenantCutover = tenant(), more: Partial<CutoverInput> = {}) {
  return mapCutover({ mappings, cutover: t, policy: {}, policyChanges: [], options: { ...NONE, ...options }, ...more });
}
const decisions = (r: ReturnType<typeof mapCutover>) => Object.fromEntries([...r.users].map(([k, d]) => [k.split('@')[0], d.rollout ? `${d.rollout.action} ${d.rollout.group.displayName}` : '-']));

describe('staged rollout: the policy, the groups, who is switched where', () => {
  it('creates the MFA policy when there is none (never for the whole organisation), attaches the empty group, and switches every user left with a cloud method', () => {
    const r = cutover([phoneUser('alice'), tokenUser('bob'), user('judy'), user('niaj', { authenticator: true })], { rolloutGroups: [ref(1)] }, tenant({ groups: [group(1)] }));
    expect(r.refusals).toEqual([]);
    expect(r.changes.map((c) => [c.target, c.action, c.rule])).toEqual([
      ['featureRolloutPolicies/multiFactorAuthentication', 'create', 'CUTOVER-STAGED-ROLLOUT'],
      [`featureRolloutPolicies/multiFactorAuthentication/appliesTo/${G(1)}`, 'create', 'CUTOVER-STAGED-ROLLOUT'],
    ]);
    expect(r.changes[0]!.after).toEqual({ displayName: 'MFA Server migration', feature: 'multiFactorAuthentication', isEnabled: true, isAppliedToOrganization: false });
    expect(decisions(r)).toEqual({ alice: 'add Group 1', bob: 'add Group 1', niaj: 'add Group 1' });
    // judy has no cloud method: not switched, and said so.
    expect(r.findings.filter((f) => f.code === 'not-switched').map((f) => [f.user, f.rule, f.severity])).toEqual([['judy@contoso.com', 'CUTOVER-SWITCH-USER', 'warning']]);
    expect(r.summary.switched).toEqual({ already: 0, by_plan: 3, not_switched: 1 });
    expect(r.summary.rollout_groups).toEqual([{ id: G(1), displayName: 'Group 1', attached: false, members_before: 0, added: 3 }]);
  });

  it('enables a disabled policy (saying whom else it switches), leaves an enabled one and its attached groups alone', () => {
    const disabled = { id: 'p1', displayName: 'MFA', isEnabled: false, isAppliedToOrganization: false, appliesTo: [G(2)] };
    const r = cutover([phoneUser('alice')], { rolloutGroups: [ref(1)] }, tenant({ rolloutPolicy: disabled, groups: [group(1), group(2, { users: 7 })] }));
    expect(r.changes[0]).toMatchObject({ action: 'update', before: { id: 'p1', isEnabled: false, isAppliedToOrganization: false }, after: { id: 'p1', isEnabled: true, isAppliedToOrganization: false } });
    expect(r.changes[0]!.because).toMatch(/switches the members of its 1 other group/);
    expect(r.changes[1]!.after).toEqual({ groupId: G(1), displayName: 'Group 1', policyId: 'p1' });
    const enabled = cutover([phoneUser('alice')], { rolloutGroups: [ref(1)] }, tenant({ rolloutPolicy: { ...disabled, isEnabled: true, appliesTo: [G(1)] }, groups: [group(1, { users: 5000 })] }));
    expect(enabled.changes).toEqual([]);
    expect(decisions(enabled)).toEqual({ alice: 'add Group 1' });
  });

  it('fills the groups in the order given, never past the per-group limit: the rest go to the next group', () => {
    const limits = { groupsPerFeature: 10, membersPerGroup: 3, membersAtFirstAdd: 2 };
    const users = ['a', 'b', 'c', 'd', 'e'].map((n) => phoneUser(n));
    const r = cutover(users, { rolloutGroups: [ref(1), ref(2)] }, tenant({ groups: [group(1, { users: 1 }), group(2)] }), { limits });
    expect(decisions(r)).toEqual({ a: 'add Group 1', b: 'add Group 1', c: 'add Group 2', d: 'add Group 2', e: 'add Group 2' });
    expect(r.summary.rollout_groups.map((g) => [g.displayName, g.members_before, g.added])).toEqual([['Group 1', 1, 2], ['Group 2', 0, 3]]);
    // With the real limits: a group 2 short of 50,000 takes 2, the next takes the rest.
    const real = cutover(users, { rolloutGroups: [ref(1), ref(2)] }, tenant({ rolloutPolicy: { id: 'p', displayName: 'MFA', isEnabled: true, isAppliedToOrganization: false, appliesTo: [G(1)] }, groups: [group(1, { users: 49_998 }), group(2)] }));
    expect(decisions(real)).toEqual({ a: 'add Group 1', b: 'add Group 1', c: 'add Group 2', d: 'add Group 2', e: 'add Group 2' });
    expect(real.changes.map((c) => c.target)).toEqual([`featureRolloutPolicies/multiFactorAuthentication/appliesTo/${G(2)}`]);
    // No room left for everyone: refused, not discovered in apply.
    const full = cutover(users, { rolloutGroups: [ref(1)] }, tenant({ groups: [group(1, { users: 2 })] }), { limits });
    expect(full.refusals).toEqual(['the rollout groups have room for 1 more user(s) (3 a group) and this plan switches 5: add another --rollout-group']);
  });

  it('refuses what staged rollout cannot use, with the reason: dynamic, nested, contacts, too big, too big for a first add, past 10 groups', () => {
    const named = [1, 2, 3, 4, 5].map(ref);
    const r = cutover([phoneUser('alice')], { rolloutGroups: named }, tenant({
      groups: [group(1, { dynamic: true }), group(2, { groups: 1 }), group(3, { contacts: 2 }), group(4, { users: 50_001 }), group(5, { users: 201 })],
    }));
    expect(r.refusals).toEqual([
      '--rollout-group "Group 1": a dynamic group: staged rollout does not take dynamic groups (use an assigned group)',
      '--rollout-group "Group 2": it holds 1 group(s): staged rollout does not take nested groups',
      '--rollout-group "Group 3": it holds 2 contact(s): staged rollout takes groups of users only',
      '--rollout-group "Group 4": it has 50001 members: staged rollout takes at most 50000 per group',
      expect.stringMatching(/^--rollout-group "Group 4" has 50001 members: staged rollout takes a group only while it has at most 200/),
      expect.stringMatching(/^--rollout-group "Group 5" has 201 members: staged rollout takes a group only while it has at most 200/),
    ]);
    // A group attached already may be bigger than 200: the first-add limit is behind it.
    const attached = cutover([phoneUser('alice')], { rolloutGroups: [ref(5)] }, tenant({ rolloutPolicy: { id: 'p', displayName: 'MFA', isEnabled: true, isAppliedToOrganization: false, appliesTo: [G(5)] }, groups: [group(5, { users: 201 })] }));
    expect(attached.refusals).toEqual([]);
    const eleven = Array.from({ length: 11 }, (_, i) => ({ id: `g${i}`, displayName: `G${i}` }));
    expect(cutover([], { rolloutGroups: eleven }, tenant({ groups: eleven.map((g) => ({ ...group(0), ...g })) })).refusals[0]).toMatch(/given 11 times: staged rollout takes at most 10 groups per feature/);
    const nine = { id: 'p', displayName: 'MFA', isEnabled: true, isAppliedToOrganization: false, appliesTo: Array.from({ length: 9 }, (_, i) => `old${i}`) };
    expect(cutover([], { rolloutGroups: [ref(1), ref(2)] }, tenant({ rolloutPolicy: nine, groups: [group(1), group(2)] })).refusals).toEqual([
      'the staged rollout policy applies to 9 group(s) already; adding 2 more passes the 10 groups staged rollout takes per feature',
    ]);
    const org = cutover([], { rolloutGroups: [ref(1)] }, tenant({ rolloutPolicy: { ...nine, appliesTo: [], isAppliedToOrganization: true }, groups: [group(1)] }));
    expect(org.refusals[0]).toMatch(/applies to the whole organisation/);
  });

  it('leaves a user already in a rollout group (named, or attached to the policy) where they are; warns when the rollout group is the migration scope', () => {
    const policy = { id: 'p', displayName: 'MFA', isEnabled: true, isAppliedToOrganization: false, appliesTo: [G(9)] };
    const r = cutover([phoneUser('alice', { memberOf: [G(9)] }), phoneUser('bob', { memberOf: [G(1)] }), phoneUser('carol')], { rolloutGroups: [ref(1)], scopeGroup: ref(1) }, tenant({ rolloutPolicy: policy, groups: [group(1, { users: 1 }), group(9, { users: 1, displayName: 'Old wave' })] }));
    expect(decisions(r)).toEqual({ alice: 'member Old wave', bob: 'member Group 1', carol: 'add Group 1' });
    expect(r.summary.switched).toEqual({ already: 2, by_plan: 1, not_switched: 0 });
    expect(r.findings.filter((f) => f.code === 'rollout-group-is-scope').map((f) => f.severity)).toEqual(['warning']);
    // Group 1 is attached by this plan, first: its members are switched before their methods are written.
    expect(r.findings.find((f) => f.code === 'rollout-group-is-scope')?.message).toMatch(/; and this plan switches its members by its staged rollout step: apply writes their methods first and holds that step until they are done \(an apply that leaves one of them out never sends it\)$/);
    const attached = cutover([phoneUser('bob', { memberOf: [G(1)] })], { rolloutGroups: [ref(1)], scopeGroup: ref(1) }, tenant({ rolloutPolicy: { ...policy, appliesTo: [G(1)] }, groups: [group(1, { users: 1 })] }));
    expect(attached.findings.find((f) => f.code === 'rollout-group-is-scope')?.message).toMatch(/before their methods are there$/);
  });

  it('a member of a rollout group with no cloud method stays a member, is warned of when switched already, and does not count as switched (found by a black-box test)', () => {
    const users = [phoneUser('alice', { memberOf: [G(1)] }), user('zoe', { memberOf: [G(9)] })];
    const policy = { id: 'p', displayName: 'MFA', isEnabled: true, isAppliedToOrganization: false, appliesTo: [G(9)] };
    const groups = [group(1, { users: 1 }), group(9, { users: 1, displayName: 'Old wave' })];
    const r = cutover(users, { rolloutGroups: [ref(1)], federatedMfa: 'reject' }, tenant({ rolloutPolicy: policy, groups, federatedDomains: [FEDERATED] }));
    expect(decisions(r)).toEqual({ alice: 'member Group 1', zoe: 'member Old wave' });
    const warned = r.findings.filter((f) => f.code === 'switched-without-method');
    // zoe's group is attached to the enabled policy already: not this plan's doing, a warning.
    expect(warned.map((f) => [f.user, f.severity])).toEqual([['zoe@contoso.com', 'warning']]);
    expect(warned[0]!.message).toMatch(/switched to Entra MFA already/);
    expect(r.summary.switched).toEqual({ already: 1, by_plan: 0, not_switched: 1 });
    // She does not count for the federation: refused without --force-federation.
    expect(r.refusals).toEqual([expect.stringMatching(/1 user\(s\) of contoso\.com in scope .*: zoe@contoso\.com/)]);
    // Without --rollout-group the same: zoe, a member with no method, is not counted switched.
    const plain = cutover([users[1]!], { federatedMfa: 'reject' }, tenant({ rolloutPolicy: policy, groups, federatedDomains: [FEDERATED] }));
    expect(plain.refusals).toEqual([expect.stringContaining('1 user(s) of contoso.com in scope')]);
    const org = cutover([users[1]!], { federatedMfa: 'reject' }, tenant({ rolloutPolicy: { ...policy, isAppliedToOrganization: true }, groups, federatedDomains: [FEDERATED] }));
    expect(org.refusals).toEqual([expect.stringContaining('1 user(s) of contoso.com in scope')]);
  });
});

describe('members with no cloud method whom the plan\'s staged rollout step would switch (a black-box test saw one applied, exit 0)', () => {
  const policy = { id: 'p', displayName: 'MFA', isEnabled: true, isAppliedToOrganization: false, appliesTo: [G(9)] };
  const groups = [group(1, { users: 2 }), group(9, { users: 1, displayName: 'Old wave' })];
  const other = (name: string, memberOf: string[], methods: Partial<MethodsAfter> = {}) => ({ id: `id-${name}`, upn: `${name}@contoso.com`, memberOf, methodsAfter: { phones: [], oath: false, authenticator: false, passwordless: false, ...methods } });

  it('refuse the plan when a plan user of the group has none: attaching it, or enabling the policy, or creating it', () => {
    const users = [phoneUser('bob', { memberOf: [G(1)] }), user('zoe', { memberOf: [G(1)] })];
    const attaching = cutover(users, { rolloutGroups: [ref(1)] }, tenant({ rolloutPolicy: policy, groups }));
    expect(attaching.refusals).toEqual([
      'the rollout group "Group 1": attaching the group to staged rollout switches 1 member(s) to Entra MFA who have no cloud MFA method the policy lets them use once the plan is applied, with nothing to sign in with (whoever has their password could register one): zoe@contoso.com. Take them out of the group, or give them a method first (migrate or enable one for them), and plan again (or plan without --rollout-group for now)',
    ]);
    expect(attaching.findings.filter((f) => f.code === 'switched-without-method')).toEqual([]);
    const enabling = cutover(users, { rolloutGroups: [ref(1)] }, tenant({ rolloutPolicy: { ...policy, isEnabled: false, appliesTo: [G(1)] }, groups }));
    expect(enabling.refusals).toEqual([expect.stringMatching(/^the rollout group "Group 1": enabling the staged rollout policy switches 1 member\(s\) .*: zoe@contoso\.com\./)]);
    const creating = cutover(users, { rolloutGroups: [ref(1)] }, tenant({ groups }));
    expect(creating.refusals).toEqual([expect.stringMatching(/^the rollout group "Group 1": creating the staged rollout policy for it switches 1 member\(s\)/)]);
  });

  it('refuse it for a member outside the plan\'s users with none, naming the first five and a count, plan users with them', () => {
    const users = [phoneUser('bob', { memberOf: [G(1)] }), user('amy', { memberOf: [G(1)] })];
    const others = ['zoe', 'yan', 'xia', 'wes', 'vic', 'uma'].map((n) => other(n, [G(1)]));
    const r = cutover(users, { rolloutGroups: [ref(1)] }, tenant({ rolloutPolicy: policy, groups }), { others: [...others, other('ted', [G(1)], { phones: ['mobile'] })] });
    expect(r.refusals).toEqual([expect.stringMatching(/ switches 7 member\(s\) to Entra MFA .*: amy@contoso\.com, uma@contoso\.com, vic@contoso\.com, wes@contoso\.com, xia@contoso\.com and 2 more\. Take them out of the group, or give them a method first/)]);
    const one = cutover([phoneUser('bob', { memberOf: [G(1)] })], { rolloutGroups: [ref(1)] }, tenant({ rolloutPolicy: policy, groups }), { others: [other('zoe', [G(1)])] });
    expect(one.refusals).toEqual([expect.stringMatching(/switches 1 member\(s\) .*: zoe@contoso\.com\. Take them out/)]);
  });

  it('do not refuse it for a member whose only methods are those the plan writes, or one switched before the plan (warned of)', () => {
    // bob holds nothing until the plan writes his phone: apply writes it before the attach (switched-before-methods).
    const writes = cutover([phoneUser('bob', { memberOf: [G(1)], before: {} })], { rolloutGroups: [ref(1)] }, tenant({ rolloutPolicy: policy, groups }));
    expect(writes.refusals).toEqual([]);
    expect(writes.findings.filter((f) => f.code === 'switched-before-methods').map((f) => f.user)).toEqual(['bob@contoso.com']);
    // zoe is in Old wave too, attached to the enabled policy: switched already, whichever of her groups comes first.
    const zoe = user('zoe', { memberOf: [G(1), G(9)] });
    const before = cutover([phoneUser('bob', { memberOf: [G(1)] }), zoe], { rolloutGroups: [ref(1)] }, tenant({ rolloutPolicy: policy, groups }), { others: [other('amy', [G(1), G(9)])] });
    expect(before.refusals).toEqual([]);
    expect(before.findings.filter((f) => f.code === 'switched-without-method').map((f) => [f.user, f.message])).toEqual([
      ['zoe@contoso.com', expect.stringMatching(/switched to Entra MFA already/)],
      [undefined, expect.stringMatching(/^1 member\(s\) of "Group 1" outside this plan's users .*: switched to Entra MFA already .*: amy@contoso\.com$/)],
    ]);
  });
});

describe('members of a rollout group this plan switches before it writes their methods', () => {
  const policy = { id: 'p', displayName: 'MFA', isEnabled: true, isAppliedToOrganization: false, appliesTo: [] as string[] };
  const users = [phoneUser('alice', { memberOf: [G(1)], before: { phones: ['office'] } }), phoneUser('bob', { memberOf: [G(1)], before: {} }), phoneUser('carol', { before: {} })];
  const warned = (r: ReturnType<typeof cutover>) => r.findings.filter((f) => f.code === 'switched-before-methods').map((f) => f.user);

  it('are warned of when the plan attaches their group or enables the policy: apply writes their methods first and holds that step until they are done (a black-box test saw them switched with no method, unwarned)', () => {
    const attaching = cutover(users, { rolloutGroups: [ref(1)] }, tenant({ rolloutPolicy: policy, groups: [group(1, { users: 2 })] }));
    // alice has a method already; carol is added after her writes; bob has nothing until his are done.
    expect(warned(attaching)).toEqual(['bob@contoso.com']);
    expect(attaching.findings.find((f) => f.code === 'switched-before-methods')).toMatchObject({
      severity: 'warning',
      rule: 'CUTOVER-SWITCH-USER',
      message: expect.stringMatching(/^a member of the rollout group "Group 1" who has no cloud MFA method yet: this plan's staged rollout step switches them to Entra MFA \(attaching the group\), so apply writes their methods first and holds the attach until they are done\. .*leaves them out never sends it/),
    });
    const enabling = cutover(users, { rolloutGroups: [ref(1)] }, tenant({ rolloutPolicy: { ...policy, isEnabled: false, appliesTo: [G(1)] }, groups: [group(1, { users: 2 })] }));
    expect(warned(enabling)).toEqual(['bob@contoso.com']);
    expect(enabling.findings.find((f) => f.code === 'switched-before-methods')?.message).toMatch(/\(enabling the staged rollout policy\), so apply writes their methods first and holds the enable until they are done/);
  });

  it('are not, when their group is attached to an enabled policy already: the plan does not switch them', () => {
    const r = cutover(users, { rolloutGroups: [ref(1)] }, tenant({ rolloutPolicy: { ...policy, appliesTo: [G(1)] }, groups: [group(1, { users: 2 })] }));
    expect(warned(r)).toEqual([]);
  });
});

describe('a domain whose federation rejects the IdP\'s MFA already', () => {
  const REJECTING = { ...FEDERATED, federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp' };
  it('switches its users already: none is added to a rollout group; one with no cloud method is warned of as switched without one, not as left on MFA Server (a black-box test found the plan and status disagreeing)', () => {
    const users = [phoneUser('alice'), user('judy'), phoneUser('other', { domain: 'fabrikam.com' })];
    const r = cutover(users, { rolloutGroups: [ref(1)] }, tenant({ groups: [group(1)], federatedDomains: [REJECTING] }));
    expect(decisions(r)).toEqual({ other: 'add Group 1' });
    expect(r.summary.switched).toEqual({ already: 1, by_plan: 1, not_switched: 1 });
    expect(r.findings.filter((f) => f.user === 'judy@contoso.com').map((f) => [f.code, f.severity])).toEqual([['switched-without-method', 'warning']]);
    expect(r.findings.find((f) => f.user === 'judy@contoso.com')!.message).toMatch(/^contoso\.com rejects the federated IdP's MFA already, so Entra does this user's MFA/);
    expect(r.findings.find((f) => f.code === 'switched-by-federation')!.message).toBe("1 user(s) of contoso.com, whose federation rejects the IdP's MFA already, are switched to Entra MFA by it: not added to a rollout group");
    expect(r.findings.some((f) => f.code === 'not-switched')).toBe(false);
  });
});

describe('a managed domain (a black-box test saw its users added to the rollout group and shown not switched)', () => {
  const MANAGED = 'contoso.onmicrosoft.com';
  const policy = { id: 'p', displayName: 'MFA', isEnabled: true, isAppliedToOrganization: false, appliesTo: [] as string[] };
  const other = (name: string, memberOf: string[]) => ({ id: `id-${name}`, upn: `${name}@${MANAGED}`, memberOf, methodsAfter: { phones: [], oath: false, authenticator: false, passwordless: false } });

  it('counts its users switched already (Entra does their MFA): none is added to a rollout group; one with no cloud method is warned of as switched without one', () => {
    const users = [phoneUser('kim', { domain: MANAGED }), user('lou', { domain: MANAGED }), phoneUser('alice')];
    const r = cutover(users, { rolloutGroups: [ref(1)] }, tenant({ groups: [group(1)], federatedDomains: [FEDERATED], managedDomains: [MANAGED] }));
    expect(r.refusals).toEqual([]);
    expect(decisions(r)).toEqual({ alice: 'add Group 1' });
    expect(r.summary.switched).toEqual({ already: 1, by_plan: 1, not_switched: 1 });
    expect(r.findings.filter((f) => f.user === `lou@${MANAGED}`).map((f) => [f.code, f.severity, f.rule])).toEqual([['switched-without-method', 'warning', 'CUTOVER-MANAGED-DOMAIN']]);
    expect(r.findings.find((f) => f.user === `lou@${MANAGED}`)!.message).toMatch(/^contoso\.onmicrosoft\.com is a managed domain \(Entra authenticates its users\), so Entra does this user's MFA already/);
    expect(r.findings.filter((f) => f.code === 'switched-managed-domain').map((f) => [f.severity, f.rule, f.message])).toEqual([
      ['info', 'CUTOVER-MANAGED-DOMAIN', expect.stringMatching(/^1 user\(s\) of contoso\.onmicrosoft\.com, a managed domain, are on Entra MFA already .*: not added to a rollout group/)],
    ]);
    expect(r.findings.some((f) => f.code === 'not-switched')).toBe(false);
    expect(r.methodless).toEqual(new Set([`lou@${MANAGED}`]));
  });

  it('does not refuse attaching a group that holds one with no cloud method, a plan user or not: the attach does not switch them', () => {
    const users = [phoneUser('alice', { memberOf: [G(1)] }), user('lou', { domain: MANAGED, memberOf: [G(1)] })];
    const r = cutover(users, { rolloutGroups: [ref(1)] }, tenant({ rolloutPolicy: policy, groups: [group(1, { users: 3 })], federatedDomains: [FEDERATED], managedDomains: [MANAGED] }), { others: [other('max', [G(1)])] });
    expect(r.refusals).toEqual([]);
    expect(r.findings.filter((f) => f.code === 'switched-without-method').map((f) => [f.user, f.message])).toEqual([
      [`lou@${MANAGED}`, expect.stringMatching(/managed domain/)],
      [undefined, expect.stringMatching(/^1 member\(s\) of "Group 1" outside this plan's users .*their domain being managed\), with nothing to sign in with .*: max@contoso\.onmicrosoft\.com$/)],
    ]);
    // The same group without the domains read (a plan older than 2.17): refused, as it was.
    expect(cutover(users, { rolloutGroups: [ref(1)] }, tenant({ rolloutPolicy: policy, groups: [group(1, { users: 3 })], federatedDomains: [FEDERATED] }), { others: [other('max', [G(1)])] }).refusals).toHaveLength(1);
  });
});

describe('federation: the final step', () => {
  const options = { rolloutGroups: [ref(1)], federatedMfa: 'reject' as const };
  const t = (over: Partial<TenantCutover> = {}) => tenant({ groups: [group(1)], federatedDomains: [FEDERATED], ...over });

  it('is planned when every in-scope user of the domain is switched, last, waiting for the switches this plan makes', () => {
    const r = cutover([phoneUser('alice'), tokenUser('bob'), user('rupert', { disabled: true, accountEnabled: false }), phoneUser('other', { domain: 'fabrikam.com' })], options, t());
    expect(r.refusals).toEqual([]);
    const fed = r.changes.find((c) => c.target === 'domains/contoso.com/federationConfiguration')!;
    expect(fed).toMatchObject({ action: 'update', before: { id: 'fed-1', federatedIdpMfaBehavior: 'acceptIfMfaDoneByFederatedIdp' }, after: { id: 'fed-1', federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp' }, rule: 'CUTOVER-FEDERATION', switches: 2 });
    expect(r.findings.find((f) => f.code === 'federation-reject')!.message).toMatch(/up to 24 hours .*every user of the domain/);
    expect(r.summary.federation).toEqual([{ domain: 'contoso.com', federatedIdpMfaBehavior: 'acceptIfMfaDoneByFederatedIdp', planned: true, users: 2, unswitched: 0 }]);
    // rupert is disabled in MFA Server and in Entra (not migrated, cannot sign in), `other` is of another domain: neither counts.
  });

  it('counts a user disabled in MFA Server whose Entra account can still sign in: the federation moves them too (a black-box test saw them locked out unsaid)', () => {
    const users = [phoneUser('alice'), user('rupert', { disabled: true, accountEnabled: true })];
    const refused = cutover(users, options, t());
    expect(refused.refusals).toEqual([expect.stringMatching(/^--federated-mfa reject: 1 user\(s\) of contoso\.com in scope would be left on MFA Server, .* \(1 of them disabled in MFA Server, whose Entra account can still sign in\): rupert@contoso\.com\./)]);
    const forced = cutover(users, { ...options, forceFederation: true }, t());
    expect(forced.findings.find((f) => f.code === 'federation-forced')!.message).toMatch(/1 user\(s\) of the domain are not switched .*\(1 of them disabled in MFA Server, whose Entra account can still sign in\): rupert@contoso\.com$/);
    // Switched already (a review): in a group of the rollout, or under a policy for the whole organisation, the federation changes nothing for them.
    expect(cutover([phoneUser('alice'), user('rupert', { disabled: true, accountEnabled: true, memberOf: [G(1)] })], options, t()).refusals).toEqual([]);
    const orgWide = { id: 'p', displayName: 'MFA', isEnabled: true, isAppliedToOrganization: true, appliesTo: [] };
    expect(cutover([phoneUser('alice'), user('rupert', { disabled: true, accountEnabled: true })], { federatedMfa: 'reject' }, t({ rolloutPolicy: orgWide })).refusals).toEqual([]);
    // A group of theirs attached to a disabled policy, with no --rollout-group to enable it: not switched.
    const off = { id: 'p', displayName: 'MFA', isEnabled: false, isAppliedToOrganization: false, appliesTo: [G(1)] };
    expect(cutover([phoneUser('alice', { memberOf: [G(1)] }), user('rupert', { disabled: true, accountEnabled: true, memberOf: [G(1)] })], { federatedMfa: 'reject' }, t({ rolloutPolicy: off })).refusals).toHaveLength(1);
  });

  it('is refused, naming the users, while users of the domain are neither switched nor switched by the plan; --force-federation plans it with a warning naming them', () => {
    const users = [phoneUser('alice'), user('judy'), user('zoe')];
    const refused = cutover(users, options, t());
    expect(refused.changes.some((c) => c.target.startsWith('domains/'))).toBe(false);
    expect(refused.refusals).toEqual([expect.stringMatching(/^--federated-mfa reject: 2 user\(s\) of contoso\.com in scope would be left on MFA Server, neither switched already nor switched by this plan \(it switches only users left with a cloud MFA method they can use\): judy@contoso\.com, zoe@contoso\.com\. .*--force-federation/)]);
    const forced = cutover(users, { ...options, forceFederation: true }, t());
    expect(forced.refusals).toEqual([]);
    expect(forced.changes.find((c) => c.target.startsWith('domains/'))!.switches).toBe(1);
    expect(forced.findings.find((f) => f.code === 'federation-forced')!.message).toContain('judy@contoso.com, zoe@contoso.com');
  });

  it('forced, the not-switched finding of a user of the domain says the federation moves them to Entra MFA with nothing to sign in with, not that they stay on MFA Server (a black-box review read both for judy)', () => {
    const users = [phoneUser('alice'), user('judy'), user('zoe'), user('other', { domain: 'fabrikam.com' })];
    const notSwitched = (r: ReturnType<typeof cutover>) => r.findings.filter((f) => f.code === 'not-switched').map((f) => [f.user, f.severity, f.message]);
    const stays = 'no cloud MFA method the policy lets them use once the plan is applied: not added to a rollout group (the user stays on MFA Server; migrate a method first, or enable one for them)';
    const moved =
      'no cloud MFA method the policy lets them use once the plan is applied: not added to a rollout group, but moved to Entra MFA all the same by the federation of contoso.com (--force-federation), with nothing to sign in with: they cannot complete MFA (migrate a method first, or enable one for them)';
    const forced = cutover(users, { ...options, forceFederation: true }, t());
    expect(forced.refusals).toEqual([]);
    // `other` is of fabrikam.com, whose federation the plan leaves as it is: on MFA Server still.
    expect(notSwitched(forced)).toEqual([
      ['judy@contoso.com', 'warning', moved],
      ['zoe@contoso.com', 'warning', moved],
      ['other@fabrikam.com', 'warning', stays],
    ]);
    // The finding's code and counts are kept: staged rollout does not switch them.
    expect(forced.summary.switched.not_switched).toBe(3);
    // Without the final step planned (no --federated-mfa, or refused: no federation configuration), they do stay.
    expect(notSwitched(cutover(users, { rolloutGroups: [ref(1)] }, t())).map(([, , m]) => m)).toEqual([stays, stays, stays]);
    const unplanned = cutover(users, { ...options, forceFederation: true }, t({ federatedDomains: [{ ...FEDERATED, federationId: null }] }));
    expect(unplanned.changes.some((c) => c.target.startsWith('domains/'))).toBe(false);
    expect(notSwitched(unplanned).map(([, , m]) => m)).toEqual([stays, stays, stays]);
  });

  it('forced past 20 users, each federation-forced finding says how many it does not name and where every one is; the summary holds every one (a lead of an earlier session)', () => {
    const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(2, '0')}@contoso.com`);
    const unswitched = names('judy', 23);
    const outOfScope = names('zed', 21);
    const forced = cutover([phoneUser('alice'), ...unswitched.map((u) => user(u.split('@')[0]!))], { ...options, forceFederation: true }, t(), { outOfScope });
    expect(forced.refusals).toEqual([]);
    const said = forced.findings.filter((f) => f.code === 'federation-forced').map((f) => f.message);
    expect(said).toEqual([
      `contoso.com: --force-federation: 21 user(s) of the domain in the export are outside this plan's scope and were not checked; any of them not switched will meet Entra MFA when it applies: ${outOfScope.slice(0, 20).join(', ')} and 1 more (every one is in plan --format json's cutover.federation[].out_of_scope_users and in the plan report)`,
      `contoso.com: --force-federation: 23 user(s) of the domain are not switched and will meet Entra MFA when it applies: ${unswitched.slice(0, 20).join(', ')} and 3 more (every one is in plan --format json's cutover.federation[].unswitched_users and in the plan report)`,
    ]);
    expect(forced.summary.federation[0]).toMatchObject({ out_of_scope_users: outOfScope, unswitched_users: unswitched });
    // Up to 20, every one is in the finding: it says nothing of elsewhere (the summary holds them all the same).
    const few = cutover([phoneUser('alice'), user('judy')], { ...options, forceFederation: true }, t());
    expect(few.findings.find((f) => f.code === 'federation-forced')!.message).toMatch(/: judy@contoso\.com$/);
    expect(few.summary.federation[0]!.unswitched_users).toEqual(['judy@contoso.com']);
    // Not forced, the plan is refused: no list.
    expect(cutover([phoneUser('alice'), user('judy')], options, t()).summary.federation[0]!.unswitched_users).toBeUndefined();
  });

  it('is refused while the export holds users of the domain a narrower scope (--users, --group) leaves out, whom the plan cannot count switched; --force-federation plans it with a warning naming them (a black-box test flipped a domain past two unswitched users so)', () => {
    const users = [phoneUser('alice'), tokenUser('bob')];
    const outOfScope = ['judy@contoso.com', 'Zoe@Contoso.com', 'other@fabrikam.com'];
    const refused = cutover(users, options, t(), { outOfScope });
    expect(refused.changes.some((c) => c.target.startsWith('domains/'))).toBe(false);
    expect(refused.refusals).toEqual([
      expect.stringMatching(/^--federated-mfa reject: 2 user\(s\) of contoso\.com in the export are outside this plan's scope \(--users, --group\), so it cannot tell whether they are switched: judy@contoso\.com, Zoe@Contoso\.com\. .*every user of the domain in scope: the whole export, or a --users list of them \(a user no longer in the tenant counts for nothing there\) \(or --force-federation\)$/),
    ]);
    const forced = cutover(users, { ...options, forceFederation: true }, t(), { outOfScope });
    expect(forced.refusals).toEqual([]);
    expect(forced.changes.find((c) => c.target.startsWith('domains/'))!.switches).toBe(2);
    expect(forced.findings.filter((f) => f.code === 'federation-forced').map((f) => f.message)).toEqual([expect.stringMatching(/^contoso\.com: --force-federation: 2 user\(s\) of the domain in the export are outside this plan's scope and were not checked.*: judy@contoso\.com, Zoe@Contoso\.com$/)]);
    // Users of another domain left out do not hold this one back.
    expect(cutover(users, options, t(), { outOfScope: ['other@fabrikam.com'] }).refusals).toEqual([]);
    // With a user in scope left unswitched too, both reasons are named in one run (a black-box test met them one run at a time).
    const both = cutover([...users, user('judy')], options, t(), { outOfScope: ['zoe@contoso.com'] });
    expect(both.refusals).toEqual([expect.stringMatching(/1 user\(s\) of contoso\.com in the export are outside this plan's scope .*zoe@contoso\.com/), expect.stringMatching(/1 user\(s\) of contoso\.com in scope would be left on MFA Server.*judy@contoso\.com/)]);
  });

  it('without --rollout-group, counts as switched the users the enabled policy reaches; leaves a domain with no user of the plan, and one that rejects already, alone', () => {
    const policy = { id: 'p', displayName: 'MFA', isEnabled: true, isAppliedToOrganization: false, appliesTo: [G(1)] };
    const users = [phoneUser('alice', { memberOf: [G(1)] }), phoneUser('bob')];
    const one = cutover(users, { federatedMfa: 'reject' }, t({ rolloutPolicy: policy }));
    expect(one.refusals).toEqual([expect.stringContaining('1 user(s) of contoso.com in scope')]);
    const both = cutover([users[0]!, phoneUser('bob', { memberOf: [G(1)] })], { federatedMfa: 'reject' }, t({ rolloutPolicy: policy }));
    expect(both.changes.map((c) => [c.target, c.switches])).toEqual([['domains/contoso.com/federationConfiguration', 0]]);
    const off = cutover([phoneUser('bob', { memberOf: [G(1)] })], { federatedMfa: 'reject' }, t({ rolloutPolicy: { ...policy, isEnabled: false } }));
    expect(off.refusals).toHaveLength(1);
    const elsewhere = cutover([phoneUser('x', { domain: 'fabrikam.com' })], { federatedMfa: 'reject' }, t());
    expect(elsewhere.changes).toEqual([]);
    expect(elsewhere.findings.map((f) => f.code)).toContain('federation-not-in-scope');
    const done = cutover([user('judy')], { federatedMfa: 'reject' }, t({ federatedDomains: [{ ...FEDERATED, federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp' }] }));
    expect([done.changes, done.refusals]).toEqual([[], []]);
  });
});

describe('the SMS/voice retirement', () => {
  it('names 2027-02-01 for every user left with SMS and voice only (2027-07-01 for an external user), counts them; email does not count, a token, Authenticator or passkey does', () => {
    const r = cutover([phoneUser('alice'), user('bob', { phones: ['office', 'alternateMobile'] }), phoneUser('guest', { userType: 'Guest' }), tokenUser('grace'), phoneUser('niaj', { authenticator: true }), phoneUser('pat', { passwordless: true }), user('zoe')], {});
    const phoneOnly = r.findings.filter((f) => f.code === 'phone-only-after-retirement');
    expect(phoneOnly.map((f) => f.user)).toEqual(['alice@contoso.com', 'bob@contoso.com', 'guest@contoso.com']);
    expect(r.phoneOnly).toBe(3);
    expect(phoneOnly[0]).toMatchObject({ severity: 'warning', rule: 'CUTOVER-PHONE-DEADLINE' });
    expect(phoneOnly[0]!.message).toMatch(/from 2027-02-01 \(2027-07-01 if a Global Administrator\) a blocking passkey registration prompt stops their sign-in/);
    expect(phoneOnly[2]!.message).toMatch(/from 2027-07-01 \(external user\)/);
  });

  it("reads the tenant's FIDO2 configuration: whether the phone-only users may register a passkey", () => {
    const fido2 = (state: string, include: string[], exclude: string[] = []): AuthenticationMethodsPolicy => ({
      authenticationMethodConfigurations: [{ id: 'Fido2', state, includeTargets: include.map((id) => ({ id })), excludeTargets: exclude.map((id) => ({ id })) } as never],
    });
    const users = [phoneUser('alice', { memberOf: [G(1)] }), phoneUser('bob')];
    const run = (policy: AuthenticationMethodsPolicy) => mapCutover({ mappings: users, cutover: tenant({ groups: [group(1)] }), policy, policyChanges: [], options: NONE });
    const off = run(fido2('disabled', ['all_users']));
    expect(off.summary.passkeys).toEqual({ state: 'disabled', include_targets: ['all_users'], allowed_for_phone_only: 'none' });
    expect(off.findings.find((f) => f.code === 'passkeys-disabled')!.message).toMatch(/2 user\(s\) left with SMS and voice only cannot register/);
    expect(run(fido2('enabled', ['all_users'])).findings.find((f) => f.code === 'passkeys-allowed')?.severity).toBe('info');
    expect(run(fido2('enabled', [G(1)])).summary.passkeys.allowed_for_phone_only).toBe('some');
    expect(run(fido2('enabled', ['all_users'], [G(1)])).summary.passkeys.allowed_for_phone_only).toBe('some');
    expect(run(fido2('enabled', ['unread-group'])).summary.passkeys.allowed_for_phone_only).toBe('unknown');
  });

  it('--campaign-group adds them to the group, targeted by the Authenticator registration campaign (merged with the plan\'s own campaign change)', () => {
    const users = [phoneUser('alice'), phoneUser('bob', { memberOf: [G(3)] }), tokenUser('grace')];
    const campaignPolicy = (state: string, targets: string[]): AuthenticationMethodsPolicy => ({ registrationEnforcement: { authenticationMethodsRegistrationCampaign: { state, includeTargets: targets.map((id) => ({ id, targetType: 'group' })) } } as never });
    const run = (policy: AuthenticationMethodsPolicy, policyChanges: PolicyChange[] = []) =>
      mapCutover({ mappings: users, cutover: tenant({ groups: [group(3, { users: 1 })] }), policy, policyChanges, options: { ...NONE, campaignGroup: ref(3) } });
    const r = run(campaignPolicy('default', ['all_users']));
    expect([...r.users].map(([u, d]) => `${u} ${d.campaign?.action}`)).toEqual(['alice@contoso.com add', 'bob@contoso.com member']);
    // As the plan's user_changes (plan-format.md): a create from null to {groupId, displayName}; a member's no-op {groupId} both sides.
    expect(users.slice(0, 2).flatMap((m) => cutoverUserChanges(m, r.users.get(m.user))).map((c) => [c.user, c.resource, c.action, c.before, c.after])).toEqual([
      ['alice@contoso.com', `campaignGroup/${G(3)}`, 'create', null, { groupId: G(3), displayName: 'Group 3' }],
      ['bob@contoso.com', `campaignGroup/${G(3)}`, 'no-op', { groupId: G(3) }, { groupId: G(3) }],
    ]);
    // A Microsoft-managed campaign (all users) becomes the tool's, for the campaign group only.
    expect(r.policyChanges.map((c) => [c.property, c.after, c.rule])).toEqual([
      ['state', 'enabled', 'CUTOVER-CAMPAIGN'],
      ['includeTargets', [{ id: G(3), targetType: 'group', targetedAuthenticationMethod: 'microsoftAuthenticator' }], 'CUTOVER-CAMPAIGN'],
    ]);
    expect(r.summary.campaign_group).toEqual({ id: G(3), displayName: 'Group 3', added: 1 });
    // On for everyone already: nothing to change.
    expect(run(campaignPolicy('enabled', ['all_users'])).policyChanges).toEqual([]);
    // The plan turns it on for the target group (POL-CAMPAIGN): the campaign group joins that change.
    const own: PolicyChange = { target: 'registrationEnforcement/authenticationMethodsRegistrationCampaign', property: 'includeTargets', before: [], after: [{ id: 'target' }], rule: 'POL-CAMPAIGN', because: 'target T', setting: 's' };
    const merged = run(campaignPolicy('enabled', []), [own]);
    expect(merged.policyChanges).toHaveLength(1);
    expect(merged.policyChanges[0]).toMatchObject({ rule: 'POL-CAMPAIGN', after: [{ id: 'target' }, { id: G(3) }] });
    const dynamic = mapCutover({ mappings: users, cutover: tenant({ groups: [group(3, { dynamic: true })] }), policy: {}, policyChanges: [], options: { ...NONE, campaignGroup: ref(3) } });
    expect(dynamic.refusals).toEqual(['--campaign-group "Group 3" is a dynamic group: its members come from its rule and cannot be added (use an assigned group)']);
    // A rollout group (named, or attached to the MFA rollout policy) as the campaign group: adding to it would
    // switch users before their methods are there (found by a review).
    const rolloutRefusal = ['--campaign-group "Group 3" is a staged rollout group for MFA: adding a user to it switches the user to Entra MFA, before their methods are there (use a group of its own for the campaign)'];
    const named = mapCutover({ mappings: users, cutover: tenant({ groups: [group(3)] }), policy: {}, policyChanges: [], options: { ...NONE, rolloutGroups: [ref(3)], campaignGroup: ref(3) } });
    expect(named.refusals).toEqual(expect.arrayContaining(rolloutRefusal));
    const attached = mapCutover({ mappings: users, cutover: tenant({ rolloutPolicy: { id: 'p', displayName: 'MFA', isEnabled: true, isAppliedToOrganization: false, appliesTo: [G(3)] }, groups: [group(3)] }), policy: {}, policyChanges: [], options: { ...NONE, campaignGroup: ref(3) } });
    expect(attached.refusals).toEqual(rolloutRefusal);
  });
});
