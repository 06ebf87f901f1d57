import { describe, expect, it } from 'vitest';
import type { OpRecord } from '../../src/apply/journal.js';
import type { Operation } from '../../src/apply/operations.js';
import { alreadyAsBefore, alreadyUndone, bulkLeftReason, changedSince, inverseOperations, notReversibleGone, serialsLeftInInventory } from '../../src/apply/rollback-inverses.js';
import type { TenantHardwareToken, TenantSnapshot, TenantUser } from '../../src/model/tenant.js';

const U = '00000000-0000-4000-8000-000000000001';
const op = (o: Partial<Operation> & Pick<Operation, 'id' | 'kind' | 'resource'>): Operation => ({ user: 'a@x.com', userId: U, stateFingerprint: '', dependsOn: [], before: null, after: null, ...o });

const mobileCreate = op({ id: `${U}/phoneMethods/mobile`, kind: 'phone-create', resource: 'phoneMethods/mobile', after: { phoneNumber: '+1 4255550100', phoneType: 'mobile' } });
const officeUpdate = op({ id: `${U}/phoneMethods/office`, kind: 'phone-update', resource: 'phoneMethods/office', before: { phoneNumber: '+1 4255550199', phoneType: 'office' }, after: { phoneNumber: '+1 4255550111', phoneType: 'office' } });
const tokenCreate = op({ id: `${U}/hardwareOathMethods/S1/create`, kind: 'token-create', resource: 'hardwareOathMethods/S1', after: { serialNumber: 'S1' } });
const tokenActivate = op({ id: `${U}/hardwareOathMethods/S1/activate`, kind: 'token-activate', resource: 'hardwareOathMethods/S1', after: { serialNumber: 'S1' } });
const preTokenActivate = op({ id: `${U}/hardwareOathMethods/S2/activate`, kind: 'token-activate', resource: 'hardwareOathMethods/S2', before: { id: 'dev-2', assignedTo: U, status: 'assigned' }, after: { serialNumber: 'S2' } });
const policy = op({ id: 'policy/authenticationMethodConfigurations/Sms', kind: 'policy-config', resource: 'authenticationMethodConfigurations/Sms', user: undefined, userId: undefined, before: { state: 'disabled' }, after: { state: 'enabled' } });
const records = new Map<string, OpRecord>([[tokenCreate.id, { op: tokenCreate.id, state: 'done', result: { deviceId: 'dev-1' } }]]);

describe('rollback: a token moved to another user since the run (found by a review)', () => {
  it('is not gone already, and neither its unassign nor its delete touches it', () => {
    const V = '00000000-0000-4000-8000-000000000002';
    const { inverses } = inverseOperations([tokenCreate, tokenActivate], records);
    const user = (id: string, upn: string): TenantUser => ({ id, userPrincipalName: upn, phones: [], emails: [], authenticatorCount: 0, softwareOathCount: 0, hardwareOath: [], defaultMethod: null });
    const tenant: TenantSnapshot = {
      tenant: { id: 't', displayName: 'T' },
      policy: {},
      users: new Map([
        ['a@x.com', user(U, 'a@x.com')],
        ['b@x.com', user(V, 'b@x.com')],
      ]),
      hardwareTokens: new Map([['s1', [{ id: 'dev-1', serialNumber: 'S1', status: 'activated', assignedToId: V }]]]),
    };
    for (const inv of inverses) {
      expect(alreadyUndone(inv, tenant), inv.id).toBe(false);
      expect(changedSince(inv, tenant), inv.id).toMatch(/no longer assigned to the user|assigned to another user/);
    }
    // Deleted from the tenant altogether: gone, and done.
    const gone: TenantSnapshot = { ...tenant, hardwareTokens: new Map() };
    expect(inverses.filter((inv) => inv.kind !== 'token-delete').map((inv) => alreadyUndone(inv, gone))).toEqual([true, true]);
  });
});

describe('rollback: the inverse of each operation', () => {
  it("a bulk create's tokens leave the inventory each after its own unassign, side by side: not one chain (one refused held back every later delete and the policy; 100,000 deletes went one at a time)", () => {
    const V = '00000000-0000-4000-8000-000000000002';
    const bulk = op({ id: 'tokens/abc', kind: 'token-bulk-create', resource: 'hardwareOathDevices', user: undefined, userId: undefined, after: { tokens: [{ serialNumber: 'B1' }, { serialNumber: 'B2' }, { serialNumber: 'B3' }] } });
    const assign = (userId: string, serial: string) => op({ id: `${userId}/hardwareOathMethods/${serial}/assign-activate`, kind: 'token-assign-activate', resource: `hardwareOathMethods/${serial}`, userId, after: { serialNumber: serial, created: true }, dependsOn: [bulk.id] });
    const done = [policy, bulk, assign(U, 'B1'), assign(V, 'B2')];
    const recs = new Map<string, OpRecord>([[bulk.id, { op: bulk.id, state: 'done', result: { devices: { B1: 'd1', B2: 'd2', B3: 'd3' } } }]]);
    const { inverses } = inverseOperations(done, recs);
    const deletes = inverses.filter((i) => i.kind === 'token-delete');
    expect(deletes.map((d) => [d.before, d.dependsOn])).toEqual([
      [{ serialNumber: 'B1', deviceId: 'd1', heldBy: U }, [`rollback/${U}/hardwareOathMethods/B1/assign-activate/unassign`]],
      [{ serialNumber: 'B2', deviceId: 'd2', heldBy: V }, [`rollback/${V}/hardwareOathMethods/B2/assign-activate/unassign`]],
      // Made but never assigned (its user left out): nothing to wait for.
      [{ serialNumber: 'B3', deviceId: 'd3' }, []],
    ]);
    // The policy waits for every user's methods, not for the inventory.
    expect(inverses.find((i) => i.kind === 'policy-config')!.dependsOn.sort()).toEqual([`rollback/${U}/hardwareOathMethods/B1/assign-activate/unassign`, `rollback/${V}/hardwareOathMethods/B2/assign-activate/unassign`].sort());
  });

  it('undoes newest first, chained per user, the policy last after every user', () => {
    const { inverses, notReversible } = inverseOperations([policy, mobileCreate, officeUpdate, tokenCreate, tokenActivate, preTokenActivate], records);
    expect(notReversible).toEqual([]);
    expect(inverses.map((i) => [i.id, i.kind])).toEqual([
      [`rollback/${preTokenActivate.id}`, 'token-deactivate'],
      [`rollback/${tokenActivate.id}`, 'token-deactivate'],
      [`rollback/${tokenCreate.id}/unassign`, 'token-unassign'],
      [`rollback/${tokenCreate.id}/delete`, 'token-delete'],
      [`rollback/${officeUpdate.id}`, 'phone-update'],
      [`rollback/${mobileCreate.id}`, 'phone-delete'],
      [`rollback/${policy.id}`, 'policy-config'],
    ]);
    // Each user's inverses form one chain; the policy waits for the last of every user's.
    for (let i = 1; i < 6; i++) expect(inverses[i]!.dependsOn).toEqual([inverses[i - 1]!.id]);
    expect(inverses[6]!.dependsOn).toEqual([inverses[5]!.id]);
    // What each inverse writes: the state before; a token by the device the run created or found.
    expect(inverses[4]!.after).toEqual(officeUpdate.before);
    expect(inverses[0]!.before).toMatchObject({ deviceId: 'dev-2' });
    expect(inverses[1]!.before).toMatchObject({ deviceId: 'dev-1' });
    expect(inverses[3]!.before).toMatchObject({ deviceId: 'dev-1' });
    expect(inverses[6]!.after).toEqual({ state: 'disabled' });
  });

  it('restores a default method that was set, but never sends null for one that was not (nor deletes the phone it needs)', () => {
    const restore = op({ id: `${U}/signInPreferences`, kind: 'signin-update', resource: 'signInPreferences', before: { userPreferredMethodForSecondaryAuthentication: 'voiceOffice' }, after: { userPreferredMethodForSecondaryAuthentication: 'sms' } });
    expect(inverseOperations([restore], new Map()).inverses[0]).toMatchObject({ kind: 'signin-update', after: { userPreferredMethodForSecondaryAuthentication: 'voiceOffice' } });
    const unset = { ...restore, before: { userPreferredMethodForSecondaryAuthentication: null } };
    const { inverses, notReversible } = inverseOperations([mobileCreate, officeUpdate, unset], new Map());
    expect(inverses.map((i) => i.kind)).toEqual(['phone-update']);
    expect(notReversible).toEqual([
      { user: 'a@x.com', target: 'signInPreferences', reason: 'the user had no default method before the run and Graph cannot unset one: left as sms, which uses phoneMethods/mobile: that phone stays, so the default still names a method the user has', kind: 'default-set' },
      { user: 'a@x.com', target: 'phoneMethods/mobile', reason: expect.stringMatching(/backs the default method sms/), kind: 'behind-default' },
    ]);
  });
});

describe('rollback: a default method Graph cannot unset, said as it is left', () => {
  const unset = (method: string, userId = U, user = 'a@x.com') =>
    op({ id: `${userId}/signInPreferences`, kind: 'signin-update', resource: 'signInPreferences', user, userId, before: { userPreferredMethodForSecondaryAuthentication: null }, after: { userPreferredMethodForSecondaryAuthentication: method } });
  const reasonFor = (done: Operation[], recs = new Map<string, OpRecord>()) => inverseOperations(done, recs).notReversible.find((x) => x.target === 'signInPreferences')!.reason;

  /** A scale test read "where this rollback removes the method it names, it names nothing" for 15,472 users whose phone was kept. */
  it('says the default names nothing only where this rollback takes its method away (an OATH token the run added or activated); a phone default keeps its phone', () => {
    expect(reasonFor([mobileCreate, unset('sms')])).toBe('the user had no default method before the run and Graph cannot unset one: left as sms, which uses phoneMethods/mobile: that phone stays, so the default still names a method the user has');
    expect(reasonFor([officeUpdate, unset('voiceOffice')])).toMatch(/left as voiceOffice, which uses phoneMethods\/office: that phone stays/);
    for (const token of [[tokenCreate, tokenActivate], [preTokenActivate]]) {
      expect(reasonFor([...token, unset('oath')], records)).toBe(
        'the user had no default method before the run and Graph cannot unset one: left as oath, though this rollback takes back the OATH token the run added or activated for the user: unless they have another OATH method, the default names one they cannot use, and Entra asks them for another method at sign-in (or to register one)',
      );
    }
    // Another user's token is not this user's; a token found made by another run is not undone.
    const V = '00000000-0000-4000-8000-000000000002';
    expect(reasonFor([tokenCreate, unset('oath', V, 'b@x.com')], records)).toBe('the user had no default method before the run and Graph cannot unset one: left as oath, a method this rollback does not take away');
    const adopted = new Map<string, OpRecord>([[tokenCreate.id, { op: tokenCreate.id, state: 'done', result: { deviceId: 'dev-1', adopted: true } }]]);
    expect(reasonFor([tokenCreate, unset('oath')], adopted)).toMatch(/left as oath, a method this rollback does not take away$/);
    expect(reasonFor([unset('push')])).toMatch(/left as push, a method this rollback does not take away$/);
  });
});

describe('rollback: what changed since the run is left alone', () => {
  const user = (over: Partial<TenantUser>): TenantUser => ({ id: U, userPrincipalName: 'a@x.com', phones: [], emails: [], authenticatorCount: 0, softwareOathCount: 0, hardwareOath: [], defaultMethod: null, ...over });
  const tenant = (u: TenantUser | undefined, policyState = 'enabled'): TenantSnapshot => ({
    tenant: { id: 't', displayName: '' },
    policy: { authenticationMethodConfigurations: [{ id: 'Sms', state: policyState } as never] },
    users: new Map(u ? [['a@x.com', u]] : []),
    hardwareTokens: new Map([['s1', [{ id: 'dev-1', serialNumber: 'S1', status: 'activated', assignedToId: U }]]]),
  });
  const [deactivate, , , restoreOffice, deleteMobile, putPolicyBack] = inverseOperations([policy, mobileCreate, officeUpdate, tokenCreate, tokenActivate], records).inverses;

  it('runs an inverse when the object holds what the run left, whatever the spacing of a number', () => {
    const asLeft = user({ phones: [{ phoneType: 'mobile', phoneNumber: '+1 425 555 0100' }, { phoneType: 'office', phoneNumber: '+1 4255550111' }] });
    for (const inv of [deactivate!, restoreOffice!, deleteMobile!, putPolicyBack!]) expect(changedSince(inv, tenant(asLeft)), inv.id).toBeUndefined();
  });

  it('names what changed: a number, the policy, a user gone, a token reassigned', () => {
    const changed = user({ phones: [{ phoneType: 'mobile', phoneNumber: '+1 2065550000' }, { phoneType: 'office', phoneNumber: '+1 4255550111' }] });
    expect(changedSince(deleteMobile!, tenant(changed))).toBe('the phone changed since the run');
    expect(changedSince(putPolicyBack!, tenant(changed, 'disabled'))).toBe('state changed since the run');
    expect(changedSince(restoreOffice!, tenant(undefined))).toBe('the user is no longer in the tenant');
    const t = tenant(changed);
    t.hardwareTokens.set('s1', [{ id: 'dev-1', serialNumber: 'S1', status: 'activated', assignedToId: 'someone-else' }]);
    expect(changedSince(deactivate!, t)).toBe('the token is no longer assigned to the user');
  });
});

describe('rollback of the cutover', () => {
  const G1 = 'aaaaaaaa-0000-4000-8000-000000000001';
  const cut = (o: Partial<Operation> & Pick<Operation, 'id' | 'kind' | 'resource'>) => op({ user: undefined, userId: undefined, ...o });
  const create = cut({ id: 'cutover/featureRolloutPolicy', kind: 'rollout-policy-create', resource: 'featureRolloutPolicies/multiFactorAuthentication', after: { displayName: 'MFA Server migration', isEnabled: true } });
  const attach = cut({ id: `cutover/featureRolloutPolicy/appliesTo/${G1}`, kind: 'rollout-attach', resource: `featureRolloutPolicies/multiFactorAuthentication/appliesTo/${G1}`, after: { groupId: G1, displayName: 'Rollout', policyId: null } });
  const add = op({ id: `${U}/rolloutGroup/${G1}`, kind: 'rollout-add', resource: `rolloutGroup/${G1}`, after: { groupId: G1 } });
  const fed = cut({ id: 'cutover/domains/contoso.com/federationConfiguration', kind: 'federation-update', resource: 'domains/contoso.com/federationConfiguration', before: { id: 'f1', federatedIdpMfaBehavior: 'acceptIfMfaDoneByFederatedIdp' }, after: { id: 'f1', federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp' } });
  const done = new Map<string, OpRecord>([[create.id, { op: create.id, state: 'done', result: { policyId: 'pol-1' } }]]);

  it("puts the federation back first, on its own; then detaches the group and deletes the policy it created; then removes the users it added and their methods", () => {
    const { inverses, notReversible } = inverseOperations([create, attach, mobileCreate, add, fed], done);
    expect(notReversible).toEqual([]);
    expect(inverses.map((i) => [i.id, i.kind, i.dependsOn.length])).toEqual([
      [`rollback/${fed.id}`, 'federation-update', 0],
      [`rollback/${attach.id}`, 'rollout-detach', 1],
      [`rollback/${create.id}`, 'rollout-policy-delete', 1],
      [`rollback/${add.id}`, 'group-member-remove', 1],
      [`rollback/${mobileCreate.id}`, 'phone-delete', 1],
    ]);
    // Everything waits for the federation (a failed one leaves the users in the rollout group, resumable).
    expect(inverses[1]!.dependsOn).toEqual([inverses[0]!.id]);
    expect(inverses[3]!.dependsOn).toEqual([inverses[0]!.id]);
    expect(inverses[0]!.after).toEqual(fed.before);
    expect(inverses[1]!.before).toEqual({ groupId: G1, policyId: 'pol-1' });
    expect(inverses[2]!.before).toEqual({ policyId: 'pol-1', appliesTo: [G1] });
    // The policy's delete waits for the detach; the user's methods, for the user leaving the group.
    expect(inverses[2]!.dependsOn).toEqual([inverses[1]!.id]);
    expect(inverses[4]!.dependsOn).toEqual([inverses[3]!.id]);
  });

  it('disables a policy it enabled (never deletes one it did not create); one created without its id recorded is left, said so', () => {
    const enable = cut({ id: 'cutover/featureRolloutPolicy', kind: 'rollout-policy-update', resource: 'featureRolloutPolicies/multiFactorAuthentication', before: { id: 'pol-0', isEnabled: false, isAppliedToOrganization: false }, after: { isEnabled: true } });
    expect(inverseOperations([enable], new Map()).inverses).toEqual([expect.objectContaining({ kind: 'rollout-policy-update', after: { id: 'pol-0', isEnabled: false } })]);
    expect(inverseOperations([create], new Map()).notReversible).toEqual([{ target: create.resource, reason: expect.stringMatching(/was not recorded/), kind: 'policy-id-unrecorded' }]);
  });

  it('leaves alone what changed since the run: a user no longer in the group, a federation set otherwise, a policy gone', () => {
    const { inverses } = inverseOperations([create, attach, add, fed], done);
    const [fedBack, detach, del, remove] = inverses;
    const user = { id: U, userPrincipalName: 'a@x.com', phones: [], emails: [], authenticatorCount: 0, softwareOathCount: 0, hardwareOath: [], defaultMethod: null } as TenantUser;
    const tenant = (memberOf: string[], behaviour: string, policy: boolean): TenantSnapshot => ({
      tenant: { id: 't', displayName: '' },
      policy: {},
      users: new Map([['a@x.com', { ...user, memberOf }]]),
      hardwareTokens: new Map(),
      cutover: {
        rolloutPolicy: policy ? { id: 'pol-1', displayName: 'MFA', isEnabled: true, isAppliedToOrganization: false, appliesTo: [G1] } : null,
        groups: [],
        federatedDomains: [{ id: 'contoso.com', federationId: 'f1', federatedIdpMfaBehavior: behaviour }],
      },
    });
    const as = tenant([G1], 'rejectMfaByFederatedIdp', true);
    expect([fedBack, remove, detach, del].map((i) => changedSince(i!, as))).toEqual([undefined, undefined, undefined, undefined]);
    const changed = tenant([], 'enforceMfaByFederatedIdp', false);
    expect([fedBack, remove, detach, del].map((i) => changedSince(i!, changed))).toEqual([
      'the federation of contoso.com changed since the run',
      'the user is no longer a member of the group',
      'the group no longer is in the staged rollout policy',
      'the staged rollout policy the run created is gone',
    ]);
  });
});

describe('notReversibleGone (pure): what Graph cannot undo, found gone since the run', () => {
  const signin = op({ id: `${U}/signInPreferences`, kind: 'signin-update', resource: 'signInPreferences', before: { userPreferredMethodForSecondaryAuthentication: null }, after: { userPreferredMethodForSecondaryAuthentication: 'sms' } });
  const tenant = (phones: TenantUser['phones'], defaultMethod: TenantUser['defaultMethod']): TenantSnapshot => ({
    tenant: { id: 't', displayName: 'T' },
    policy: {},
    users: new Map([['a@x.com', { id: U, userPrincipalName: 'a@x.com', phones, emails: [], authenticatorCount: 0, softwareOathCount: 0, hardwareOath: [], defaultMethod }]]),
    hardwareTokens: new Map(),
  });
  const { notReversible } = inverseOperations([mobileCreate, signin], new Map());

  it('the default and the phone behind it, still there: left in place', () => {
    expect(notReversible.map((x) => x.target).sort()).toEqual(['phoneMethods/mobile', 'signInPreferences']);
    expect(notReversible.filter((x) => notReversibleGone(x, tenant([{ phoneType: 'mobile', phoneNumber: '+1 4255550100' }], 'sms')))).toEqual([]);
  });

  it('the phone deleted and the default unset since: both gone already; a user not read is not judged', () => {
    expect(notReversible.filter((x) => notReversibleGone(x, tenant([], null))).map((x) => x.target).sort()).toEqual(['phoneMethods/mobile', 'signInPreferences']);
    const unread: TenantSnapshot = { ...tenant([], null), users: new Map() };
    expect(notReversible.filter((x) => notReversibleGone(x, unread))).toEqual([]);
  });
});

/** Another run's rollback (a second operator's state folder) or an admin put the object back since: found by a black-box review, which was told to --force them. */
describe('rollback: what is already as the run found it is done, not changed since the run (pure)', () => {
  const user = (over: Partial<TenantUser> = {}): TenantUser => ({ id: U, userPrincipalName: 'a@x.com', phones: [], emails: [], authenticatorCount: 0, softwareOathCount: 0, hardwareOath: [], defaultMethod: null, ...over });
  const tenant = (u: TenantUser, over: Partial<TenantSnapshot> = {}): TenantSnapshot => ({ tenant: { id: 't', displayName: '' }, policy: {}, users: new Map([['a@x.com', u]]), hardwareTokens: new Map(), ...over });
  const G1 = 'aaaaaaaa-0000-4000-8000-000000000001';

  it('a phone, an email, a default method and the policy put back: as before; as the run left them, or a third value, not', () => {
    const email = op({ id: `${U}/emailMethods/email`, kind: 'email-update', resource: 'emailMethods/email', before: { emailAddress: 'old@x.com' }, after: { emailAddress: 'new@x.com' } });
    const signin = op({ id: `${U}/signInPreferences`, kind: 'signin-update', resource: 'signInPreferences', before: { userPreferredMethodForSecondaryAuthentication: 'voiceOffice' }, after: { userPreferredMethodForSecondaryAuthentication: 'sms' } });
    const { inverses } = inverseOperations([policy, officeUpdate, email, signin], new Map());
    const of = (kind: Operation['kind']) => inverses.find((i) => i.kind === kind)!;
    const back = tenant(user({ phones: [{ phoneType: 'office', phoneNumber: '+1 425 555 0199' }], emails: [{ id: 'e1', emailAddress: 'OLD@x.com' }], defaultMethod: 'voiceOffice' }), { policy: { authenticationMethodConfigurations: [{ id: 'Sms', state: 'disabled' } as never] } });
    for (const inv of inverses) expect(alreadyAsBefore(inv, back), inv.id).toBe(true);
    const asLeft = tenant(user({ phones: [{ phoneType: 'office', phoneNumber: '+1 4255550111' }], emails: [{ id: 'e1', emailAddress: 'new@x.com' }], defaultMethod: 'sms' }), { policy: { authenticationMethodConfigurations: [{ id: 'Sms', state: 'enabled' } as never] } });
    for (const inv of inverses) expect(alreadyAsBefore(inv, asLeft), inv.id).toBe(false);
    const third = tenant(user({ phones: [{ phoneType: 'office', phoneNumber: '+1 2065550777' }], emails: [{ id: 'e1', emailAddress: 'other@x.com' }], defaultMethod: 'voiceMobile' }));
    for (const kind of ['phone-update', 'email-update', 'signin-update'] as const) expect(alreadyAsBefore(of(kind), third), kind).toBe(false);
    // A phone the run deleted, created again with its number: as before; with another, not.
    const deleted = op({ id: `${U}/phoneMethods/mobile/delete`, kind: 'phone-delete', resource: 'phoneMethods/mobile', before: { phoneNumber: '+1 4255550100', phoneType: 'mobile' } });
    const [recreate] = inverseOperations([deleted], new Map()).inverses;
    expect(alreadyAsBefore(recreate!, tenant(user({ phones: [{ phoneType: 'mobile', phoneNumber: '+1 4255550100' }] })))).toBe(true);
    expect(alreadyAsBefore(recreate!, tenant(user({ phones: [{ phoneType: 'mobile', phoneNumber: '+1 4255550101' }] })))).toBe(false);
  });

  it("tokens: one the run created or assigned, unassigned and not activated, is as before for its deactivate and unassign; one the user held before the run, only while they hold it; one deleted is gone", () => {
    const { inverses } = inverseOperations([tokenCreate, tokenActivate, preTokenActivate], records);
    const [preDeactivate, deactivate, unassign, del] = inverses;
    expect([preDeactivate!.kind, deactivate!.kind, unassign!.kind, del!.kind]).toEqual(['token-deactivate', 'token-deactivate', 'token-unassign', 'token-delete']);
    const inventory = (s1: { assignedToId?: string; status: string } | undefined, s2: { assignedToId?: string; status: string }) =>
      new Map<string, TenantHardwareToken[]>([...(s1 ? [['s1', [{ id: 'dev-1', serialNumber: 'S1', ...s1 }]] as [string, TenantHardwareToken[]]] : []), ['s2', [{ id: 'dev-2', serialNumber: 'S2', ...s2 }]]]);
    const unassigned = tenant(user(), { hardwareTokens: inventory({ status: 'available' }, { assignedToId: U, status: 'assigned' }) });
    expect([preDeactivate, deactivate, unassign].map((i) => alreadyAsBefore(i!, unassigned))).toEqual([true, true, true]);
    // Its delete still goes: the token the run made is there.
    expect(alreadyUndone(del!, unassigned)).toBe(false);
    // Still activated, or held by the run's user: not as before.
    const asLeft = tenant(user(), { hardwareTokens: inventory({ assignedToId: U, status: 'activated' }, { assignedToId: U, status: 'activated' }) });
    expect([preDeactivate, deactivate, unassign].map((i) => alreadyAsBefore(i!, asLeft))).toEqual([false, false, false]);
    // The user's own token (before the run) unassigned since: not as before; the run's, held by another: not either.
    const elsewhere = tenant(user(), { hardwareTokens: inventory({ assignedToId: 'someone-else', status: 'assigned' }, { status: 'available' }) });
    expect([preDeactivate, deactivate, unassign].map((i) => alreadyAsBefore(i!, elsewhere))).toEqual([false, false, false]);
    // Deleted from the inventory since: every undo of it is gone already (its delete too: nothing is sent to meet a 404).
    const gone = tenant(user(), { hardwareTokens: inventory(undefined, { assignedToId: U, status: 'assigned' }) });
    expect([deactivate, unassign, del].map((i) => alreadyUndone(i!, gone))).toEqual([true, true, true]);
    const bulk = op({ id: 'tokens/abc', kind: 'token-bulk-create', resource: 'hardwareOathDevices', user: undefined, userId: undefined, after: { tokens: [{ serialNumber: 'B3' }] } });
    const [inventoryDelete] = inverseOperations([bulk], new Map([[bulk.id, { op: bulk.id, state: 'done', result: { devices: { B3: 'd3' } } }]])).inverses;
    expect(alreadyUndone(inventoryDelete!, gone)).toBe(true);
    expect(alreadyUndone(inventoryDelete!, tenant(user(), { hardwareTokens: new Map([['b3', [{ id: 'd3', serialNumber: 'B3', status: 'available' }]]]) }))).toBe(false);
  });

  it('the cutover: the federation and the policy put back are as before; the group detached, the policy the run created deleted, are gone', () => {
    const cut = (o: Partial<Operation> & Pick<Operation, 'id' | 'kind' | 'resource'>) => op({ user: undefined, userId: undefined, ...o });
    const create = cut({ id: 'cutover/featureRolloutPolicy', kind: 'rollout-policy-create', resource: 'featureRolloutPolicies/multiFactorAuthentication', after: { displayName: 'MFA', isEnabled: true } });
    const attach = cut({ id: `cutover/featureRolloutPolicy/appliesTo/${G1}`, kind: 'rollout-attach', resource: `featureRolloutPolicies/multiFactorAuthentication/appliesTo/${G1}`, after: { groupId: G1, policyId: null } });
    const enable = cut({ id: 'cutover/featureRolloutPolicy', kind: 'rollout-policy-update', resource: 'featureRolloutPolicies/multiFactorAuthentication', before: { id: 'pol-0', isEnabled: false, isAppliedToOrganization: false }, after: { isEnabled: true } });
    const fed = cut({ id: 'cutover/domains/contoso.com/federationConfiguration', kind: 'federation-update', resource: 'domains/contoso.com/federationConfiguration', before: { id: 'f1', federatedIdpMfaBehavior: 'acceptIfMfaDoneByFederatedIdp' }, after: { id: 'f1', federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp' } });
    const [fedBack, detach, del] = inverseOperations([create, attach, fed], new Map([[create.id, { op: create.id, state: 'done', result: { policyId: 'pol-1' } }]])).inverses;
    const [disable] = inverseOperations([enable], new Map()).inverses;
    const state = (behaviour: string, policy: { id: string; isEnabled: boolean; appliesTo: string[] } | null) =>
      tenant(user(), { cutover: { rolloutPolicy: policy ? { displayName: 'MFA', isAppliedToOrganization: false, ...policy } : null, groups: [], federatedDomains: [{ id: 'contoso.com', federationId: 'f1', federatedIdpMfaBehavior: behaviour }] } });
    const back = state('acceptIfMfaDoneByFederatedIdp', null);
    expect(alreadyAsBefore(fedBack!, back)).toBe(true);
    expect([detach, del].map((i) => alreadyUndone(i!, back))).toEqual([true, true]);
    expect(alreadyAsBefore(disable!, state('acceptIfMfaDoneByFederatedIdp', { id: 'pol-0', isEnabled: false, appliesTo: [] }))).toBe(true);
    // As the run left them: undone as ever.
    const asLeft = state('rejectMfaByFederatedIdp', { id: 'pol-1', isEnabled: true, appliesTo: [G1] });
    expect(alreadyAsBefore(fedBack!, asLeft)).toBe(false);
    expect([detach, del].map((i) => alreadyUndone(i!, asLeft))).toEqual([false, false]);
    expect(alreadyAsBefore(disable!, state('rejectMfaByFederatedIdp', { id: 'pol-0', isEnabled: true, appliesTo: [] }))).toBe(false);
    // The group detached, the policy still there: the detach is gone; the delete still goes.
    const detached = state('rejectMfaByFederatedIdp', { id: 'pol-1', isEnabled: true, appliesTo: [] });
    expect([detach, del].map((i) => alreadyUndone(i!, detached))).toEqual([true, false]);
    // A third federation value: neither.
    expect(alreadyAsBefore(fedBack!, state('enforceMfaByFederatedIdp', null))).toBe(false);
  });
});

/** A lead of an earlier session: a token left in the inventory was told apart by matching its reason's words, which any rewording broke unseen. */
describe('what a rollback leaves in place is told apart by its kind, not its reason (pure)', () => {
  const empty: TenantSnapshot = { tenant: { id: 't', displayName: 'T' }, policy: {}, users: new Map(), hardwareTokens: new Map() };
  const held: TenantSnapshot = { ...empty, hardwareTokens: new Map([['s9', [{ id: 'dev-9', serialNumber: 'S9', status: 'available' } as TenantHardwareToken]]]) };

  it('each entry inverseOperations lists carries its kind', () => {
    const signin = op({ id: `${U}/signInPreferences`, kind: 'signin-update', resource: 'signInPreferences', before: { userPreferredMethodForSecondaryAuthentication: null }, after: { userPreferredMethodForSecondaryAuthentication: 'sms' } });
    const unrecorded = op({ id: `${U}/hardwareOathMethods/S9/create`, kind: 'token-create', resource: 'hardwareOathMethods/S9', after: { serialNumber: 'S9' } });
    const { notReversible } = inverseOperations([mobileCreate, signin, unrecorded], new Map());
    expect(notReversible.map((x) => [x.target, x.kind]).sort()).toEqual([
      ['hardwareOathMethods/S9', 'token-in-inventory'],
      ['phoneMethods/mobile', 'behind-default'],
      ['signInPreferences', 'default-set'],
    ]);
    expect(serialsLeftInInventory(notReversible)).toEqual(['S9']);
  });

  it('a token in the inventory whatever its reason says; another kind never, though its reason reads the same', () => {
    const token = { target: 'hardwareOathMethods/S9', reason: 'reworded: it stays where it is', kind: 'token-in-inventory' as const };
    expect(serialsLeftInInventory([token])).toEqual(['S9']);
    expect(notReversibleGone(token, empty)).toBe(true);
    expect(notReversibleGone(token, held)).toBe(false);
    const adopted = { target: 'hardwareOathMethods/S9', reason: bulkLeftReason('held'), kind: 'adopted' as const };
    expect(serialsLeftInInventory([adopted])).toEqual([]);
    expect(notReversibleGone(adopted, empty)).toBe(false);
  });
});
