import { describe, expect, it } from 'vitest';
import { findCutoverStale, type PlannedAdd } from '../../src/apply/cutover-preflight.js';
import type { TenantCutover, TenantGroup } from '../../src/model/tenant.js';
import { stateFingerprint } from '../../src/plan/fingerprint.js';
import type { SavedCutoverChange } from '../../src/plan/plan-file.js';

const G1 = 'aaaaaaaa-0000-4000-8000-000000000001';
const group = (over: Partial<TenantGroup> = {}): TenantGroup => ({ id: G1, displayName: 'Rollout', dynamic: false, users: 0, groups: 0, contacts: 0, ...over });
const change = (c: Omit<SavedCutoverChange, 'state_fingerprint' | 'rule' | 'because'>): SavedCutoverChange => ({ ...c, rule: 'CUTOVER-STAGED-ROLLOUT', because: '', state_fingerprint: stateFingerprint(c.before) });
const policyCreate = change({ target: 'featureRolloutPolicies/multiFactorAuthentication', action: 'create', before: null, after: {} });
const attach = change({ target: `featureRolloutPolicies/multiFactorAuthentication/appliesTo/${G1}`, action: 'create', before: null, after: { groupId: G1 } });
const federation = change({ target: 'domains/contoso.com/federationConfiguration', action: 'update', before: { id: 'f1', federatedIdpMfaBehavior: 'acceptIfMfaDoneByFederatedIdp' }, after: { id: 'f1', federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp' } });
const add: PlannedAdd = { upn: 'a@contoso.com', userId: 'u1', resource: `rolloutGroup/${G1}` };
const live = (over: Partial<TenantCutover> = {}, memberOf: Record<string, string[]> = {}) => ({
  cutover: { rolloutPolicy: null, groups: [group()], federatedDomains: [{ id: 'contoso.com', federationId: 'f1', federatedIdpMfaBehavior: 'acceptIfMfaDoneByFederatedIdp' }], ...over },
  memberOf: new Map(Object.entries(memberOf)),
});

describe('the cutover pre-flight: what changed in the tenant since the plan', () => {
  it('finds nothing when the tenant is as the plan read it', () => {
    expect(findCutoverStale([policyCreate, attach, federation], [add], live())).toEqual([]);
  });

  it('a policy created since, the group attached since or grown past 200, the federation changed, the user added since: each stale, the user by name', () => {
    const reasons = (l: ReturnType<typeof live>, adds = [add]) => findCutoverStale([policyCreate, attach, federation], adds, l).map((s) => `${s.user ?? '-'} ${s.target.split('/')[0]}: ${s.reason}`);
    const policy = { id: 'p', displayName: 'Someone else', isEnabled: true, isAppliedToOrganization: false, appliesTo: [G1] };
    expect(reasons(live({ rolloutPolicy: policy }))).toEqual([
      '- featureRolloutPolicies: the staged rollout policy changed since the plan',
      '- featureRolloutPolicies: the group was added to the staged rollout policy since the plan',
    ]);
    expect(reasons(live({ groups: [group({ users: 201 })] }))).toEqual([expect.stringMatching(/^- featureRolloutPolicies: "Rollout": it has 201 members now, more than the 200/)]);
    expect(reasons(live({ groups: [group({ dynamic: true })] }))).toEqual([expect.stringMatching(/a dynamic group/)]);
    expect(reasons(live({ federatedDomains: [{ id: 'contoso.com', federationId: 'f1', federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp' }] }))).toEqual(['- domains: the federation changed since the plan']);
    expect(reasons(live({}, { u1: [G1] }))).toEqual(['a@contoso.com rolloutGroup: the user was added to the group since the plan']);
    expect(reasons(live({ groups: [] }))).toEqual(['- featureRolloutPolicies: the group is no longer in the tenant', 'a@contoso.com rolloutGroup: the group is no longer in the tenant']);
  });

  it('a group that would pass 50,000 with the plan\'s adds is stale', () => {
    const adds = [add, { ...add, upn: 'b@contoso.com', userId: 'u2' }];
    const enabled = { id: 'p', displayName: 'MFA', isEnabled: true, isAppliedToOrganization: false, appliesTo: [G1] };
    expect(findCutoverStale([], adds, live({ rolloutPolicy: enabled, groups: [group({ users: 49_999 })] })).map((s) => s.reason)).toEqual(['"Rollout" has 49999 members now: adding 2 passes the 50000 staged rollout takes per group']);
  });

  /** Found by a black-box test: a plan that only adds users to an attached group of the enabled policy was applied after the policy was disabled, "done" and nobody switched. */
  it('switches that rest on the policy enabled and their group attached, as the plan read them: stale once it is disabled, deleted or detached', () => {
    const enabled = { id: 'p', displayName: 'MFA', isEnabled: true, isAppliedToOrganization: false, appliesTo: [G1] };
    const adds = [add, { ...add, upn: 'b@contoso.com', userId: 'u2' }];
    const stale = (l: ReturnType<typeof live>, changes: SavedCutoverChange[] = []) => findCutoverStale(changes, adds, l).map((s) => `${s.target} ${s.now}: ${s.reason}`);
    expect(stale(live({ rolloutPolicy: enabled }))).toEqual([]);
    expect(stale(live({ rolloutPolicy: { ...enabled, isEnabled: false } }))).toEqual([
      'featureRolloutPolicies/multiFactorAuthentication disabled: the staged rollout policy was disabled since the plan: the 2 user(s) the plan adds to rollout groups would not be switched to Entra MFA (added to the group all the same)',
    ]);
    expect(stale(live({ rolloutPolicy: null }))).toEqual([expect.stringMatching(/^featureRolloutPolicies\/multiFactorAuthentication absent: the staged rollout policy was deleted since the plan: the 2 user\(s\)/)]);
    expect(stale(live({ rolloutPolicy: { ...enabled, appliesTo: [] } }))).toEqual([
      `featureRolloutPolicies/multiFactorAuthentication/appliesTo/${G1} detached: "Rollout" was detached from the staged rollout policy since the plan: the 2 user(s) the plan adds to it would not be switched to Entra MFA`,
    ]);
    // What the plan itself creates, enables or attaches is its own changes' to compare (the policy's fingerprint, an attach not made since).
    const enable = change({ target: 'featureRolloutPolicies/multiFactorAuthentication', action: 'update', before: { id: 'p', isEnabled: false, isAppliedToOrganization: false }, after: { id: 'p', isEnabled: true, isAppliedToOrganization: false } });
    expect(stale(live({ rolloutPolicy: { ...enabled, isEnabled: false } }), [enable])).toEqual([]);
    expect(stale(live({ rolloutPolicy: { ...enabled, isEnabled: false, appliesTo: [] } }), [enable])).toEqual([expect.stringMatching(/appliesTo\/\S+ detached: "Rollout" was detached/)]);
    expect(stale(live({ rolloutPolicy: null }), [policyCreate, attach])).toEqual([]);
    // Only switches: a campaign group's adds rest on no rollout.
    expect(findCutoverStale([], [{ ...add, resource: `campaignGroup/${G1}` }], live({ rolloutPolicy: null }))).toEqual([]);
  });

  it("the federation's final step: the staged rollout the plan saw switching the domain's users must still be there (found by a review)", () => {
    const enabled = { id: 'p', displayName: 'MFA', isEnabled: true, isAppliedToOrganization: false, appliesTo: [G1] };
    const seen: TenantCutover = { rolloutPolicy: enabled, groups: [group({ users: 35 })], federatedDomains: [] };
    const reasons = (l: ReturnType<typeof live>) => findCutoverStale([federation], [], l, undefined, seen).map((s) => s.reason);
    expect(reasons(live({ rolloutPolicy: enabled, groups: [group({ users: 35 })] }))).toEqual([]);
    expect(reasons(live({ rolloutPolicy: enabled, groups: [group({ users: 40 })] }))).toEqual([]);
    expect(reasons(live({ rolloutPolicy: null, groups: [group({ users: 35 })] }))).toEqual([expect.stringMatching(/switched by changed since \(the policy is gone\)/)]);
    expect(reasons(live({ rolloutPolicy: { ...enabled, isEnabled: false }, groups: [group({ users: 35 })] }))).toEqual([expect.stringMatching(/the policy is disabled/)]);
    expect(reasons(live({ rolloutPolicy: enabled, groups: [group({ users: 0 })] }))).toEqual([expect.stringMatching(/detached or with fewer members/)]);
    expect(reasons(live({ rolloutPolicy: { ...enabled, appliesTo: [] }, groups: [group({ users: 35 })] }))).toEqual([expect.stringMatching(/detached or with fewer members/)]);
  });
});
