import { describe, expect, it } from 'vitest';
import type { OpRecord } from '../../src/apply/journal.js';
import type { Operation } from '../../src/apply/operations.js';
import { changedSince, inverseOperations } from '../../src/apply/rollback-inverses.js';
import type { TenantSnapshot, TenantUser } from '../../src/model/tenant.js';

const U = '00000000-0000-4000-8000-000000000001';
const op = (o: Partial<Operation> & Pick<Operation, 'id' | 'kind' | 'resource'>): Operation => ({ user: 'a@x.com', userId: U, stateFingerprint: '', dependsOn: [], before: null, after: null, ...o });

const mobileCreate = op({ id: `${U}/phoneMethods/mobile`, kind: 'phone-create', resource: 'phoneMethods/mobile', after: { phoneNumber: '+1 4255550100', phoneType: 'mobile' } });
const officeUpdate = op({ id: `${U}/phoneMethods/office`, kind: 'phone-update', resource: 'phoneMethods/office', before: { phoneNumber: '+1 4255550199', phoneType: 'office' }, after: { phoneNumber: '+1 4255550111', phoneType: 'office' } });
const tokenCreate = op({ id: `${U}/hardwareOathMethods/S1/create`, kind: 'token-create', resource: 'hardwareOathMethods/S1', after: { serialNumber: 'S1' } });
const tokenActivate = op({ id: `${U}/hardwareOathMethods/S1/activate`, kind: 'token-activate', resource: 'hardwareOathMethods/S1', after: { serialNumber: 'S1' } });
const preTokenActivate = op({ id: `${U}/hardwareOathMethods/S2/activate`, kind: 'token-activate', resource: 'hardwareOathMethods/S2', before: { id: 'dev-2', assignedTo: U, status: 'assigned' }, after: { serialNumber: 'S2' } });
const policy = op({ id: 'policy/authenticationMethodConfigurations/Sms', kind: 'policy-config', resource: 'authenticationMethodConfigurations/Sms', user: undefined, userId: undefined, before: { state: 'disabled' }, after: { state: 'enabled' } });
const records = new Map<string, OpRecord>([[tokenCreate.id, { op: tokenCreate.id, state: 'done', result: { deviceId: 'dev-1' } }]]);

describe('rollback: the inverse of each operation', () => {
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
      { user: 'a@x.com', target: 'signInPreferences', reason: expect.stringMatching(/no default method before the run and Graph cannot unset one: left as sms/) },
      { user: 'a@x.com', target: 'phoneMethods/mobile', reason: expect.stringMatching(/backs the default method sms/) },
    ]);
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
