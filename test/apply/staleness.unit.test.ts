import { describe, expect, it } from 'vitest';
import { findStale, leftOutStale, switchGaps } from '../../src/apply/staleness.js';
import type { TenantSnapshot } from '../../src/model/tenant.js';
import { stateFingerprint } from '../../src/plan/fingerprint.js';
import type { PlanUser } from '../../src/plan/plan-file.js';

const U = '00000000-0000-4000-8000-000000000001';
const mobile = { phoneNumber: '+1 4255550100', phoneType: 'mobile' };

function snapshot(phones: { phoneType: 'mobile'; phoneNumber: string }[], smsState = 'disabled', id = U): TenantSnapshot {
  return {
    tenant: { id: 't', displayName: '' },
    policy: { authenticationMethodConfigurations: [{ id: 'Sms', state: smsState } as never] },
    users: new Map([['a@x.com', { id, userPrincipalName: 'a@x.com', phones, emails: [], authenticatorCount: 0, softwareOathCount: 0, hardwareOath: [], defaultMethod: null }]]),
    hardwareTokens: new Map(),
  };
}
const planUser = (before: Record<string, unknown> | null): PlanUser => ({
  upn: 'a@x.com',
  userId: U,
  changes: [{ resource: 'phoneMethods/mobile', action: before ? 'update' : 'create', before, after: mobile, rule: 'PHONE-PRIMARY-MOBILE', because: '', state_fingerprint: stateFingerprint(before) }],
});
const smsChange = { target: 'authenticationMethodConfigurations/Sms', property: 'state', before: 'disabled', after: 'enabled', rule: 'POL-SMS' as const, because: '', setting: '', state_fingerprint: stateFingerprint('disabled') };

describe('findStale (pure)', () => {
  it('finds nothing when the tenant holds what the plan saw', () => {
    expect(findStale([planUser(null)], [smsChange], snapshot([]))).toEqual([]);
  });

  it('names each object that changed since the plan: a phone added, the policy changed', () => {
    expect(findStale([planUser(null)], [smsChange], snapshot([{ phoneType: 'mobile', phoneNumber: '+1 2065550000' }], 'enabled'))).toEqual([
      { target: 'authenticationMethodConfigurations/Sms.state', planned: smsChange.state_fingerprint, now: stateFingerprint('enabled'), reason: 'the policy changed since the plan' },
      { user: 'a@x.com', target: 'phoneMethods/mobile', planned: stateFingerprint(null), now: stateFingerprint({ phoneNumber: '+1 2065550000', phoneType: 'mobile' }), reason: 'changed in the tenant since the plan' },
    ]);
  });

  it('a user gone, or the UPN now held by another object, is stale', () => {
    const gone = snapshot([]);
    gone.users.clear();
    expect(findStale([planUser(null)], [], gone)).toEqual([expect.objectContaining({ user: 'a@x.com', reason: 'the user is no longer in the tenant' })]);
    expect(findStale([planUser(null)], [], snapshot([], 'disabled', 'another-id'))).toEqual([expect.objectContaining({ now: 'absent' })]);
  });
});

describe("findStale and leftOutStale (pure): a plan's token held by another user", () => {
  const OTHER = '00000000-0000-4000-8000-0000000000ff';
  const tok = (id: string, assignedToId?: string) => ({ id, serialNumber: '20010006', status: assignedToId ? 'assigned' : 'available', ...(assignedToId ? { assignedToId } : {}) });
  const withTokens = (...tokens: ReturnType<typeof tok>[]): TenantSnapshot => ({ ...snapshot([]), hardwareTokens: new Map([['20010006', tokens]]) });
  const created: PlanUser = {
    upn: 'a@x.com',
    userId: U,
    changes: [{ resource: 'hardwareOathMethods/20010006', action: 'create', before: null, after: { serialNumber: '20010006' }, rule: 'OATH-HARDWARE', because: '', state_fingerprint: stateFingerprint(null) }] as PlanUser['changes'],
  };
  const seenFree = { id: 'd1', serialNumber: '20010006', status: 'available', assignedTo: null };
  const assigned: PlanUser = { ...created, changes: [{ ...created.changes[0]!, action: 'update', before: seenFree, state_fingerprint: stateFingerprint(seenFree) }] };

  it('a token the plan creates, now assigned to another user, is stale, naming the serial and the holder (the state compared leaves others\' tokens out)', () => {
    expect(findStale([created], [], withTokens(tok('d9', OTHER)))).toEqual([
      expect.objectContaining({ user: 'a@x.com', target: 'hardwareOathMethods/20010006', now: `assigned to ${OTHER}`, reason: expect.stringMatching(new RegExp(`serial 20010006 is assigned to another user \\(${OTHER}\\).*plan again`)) }),
    ]);
    // The plan's user holds one of the serial: that one is theirs (a duplicate elsewhere is not what they write).
    expect(findStale([created], [], withTokens(tok('d9', OTHER), tok('d8', U)))[0]?.reason).toBe('changed in the tenant since the plan');
  });

  it('the inventory token the plan assigns, now another user\'s, is stale with the holder; another token of the serial held elsewhere is not', () => {
    expect(findStale([assigned], [], withTokens(tok('d1', OTHER)))).toEqual([expect.objectContaining({ now: `assigned to ${OTHER}` })]);
    expect(findStale([assigned], [], withTokens(tok('d1'), tok('d9', OTHER)))).toEqual([]);
  });

  it('a token a bulk create left out (the inventory held it) that is gone now, or held by another, can never be written by the run', () => {
    expect(leftOutStale([{ user: created, resources: ['hardwareOathMethods/20010006'] }], withTokens())).toEqual([expect.objectContaining({ now: 'absent', reason: expect.stringMatching(/no longer in the inventory: this run cannot create it now; plan again/) })]);
    expect(leftOutStale([{ user: created, resources: ['hardwareOathMethods/20010006'] }], withTokens(tok('d9', OTHER)))).toEqual([expect.objectContaining({ now: `assigned to ${OTHER}` })]);
    // Unassigned, or the user's: the assign by serial can take it.
    expect(leftOutStale([{ user: created, resources: ['hardwareOathMethods/20010006'] }], withTokens(tok('d9')))).toEqual([]);
    expect(leftOutStale([{ user: created, resources: ['hardwareOathMethods/20010006'] }], withTokens(tok('d9', U)))).toEqual([]);
  });
});

describe('switchGaps (pure): what a switch sent after an earlier pass rests on', () => {
  const T = 'tok-1';
  const token = (status: string, assignedToId?: string) => new Map([['20010001', [{ id: T, serialNumber: '20010001', status, ...(assignedToId ? { assignedToId } : {}) }]]]);
  const user = (over: Partial<PlanUser> = {}): PlanUser => ({
    upn: 'a@x.com',
    userId: U,
    changes: [
      { resource: 'phoneMethods/mobile', action: 'create', before: null, after: mobile, rule: 'PHONE-PRIMARY-MOBILE', because: '', state_fingerprint: stateFingerprint(null) },
      { resource: 'hardwareOathMethods/20010001', action: 'create', before: null, after: { serialNumber: '20010001' }, rule: 'OATH-CREATE', because: '', state_fingerprint: stateFingerprint(null) },
      { resource: 'rolloutGroup/g1', action: 'create', before: null, after: { groupId: 'g1' }, rule: 'CUTOVER-SWITCH-USER', because: '', state_fingerprint: stateFingerprint(null) },
    ] as PlanUser['changes'],
    ...over,
  });
  const withToken = (s: TenantSnapshot, status: string, assignedToId?: string): TenantSnapshot => ({ ...s, hardwareTokens: token(status, assignedToId) });

  it('nothing when what the run wrote is there (a token: the user\'s, activated)', () => {
    expect(switchGaps(user(), ['phoneMethods/mobile', 'hardwareOathMethods/20010001'], withToken(snapshot([{ phoneType: 'mobile', phoneNumber: '+1 4255550100' }]), 'activated', U))).toEqual([]);
    // A number written otherwise since is still a phone the user can sign in with.
    expect(switchGaps(user(), ['phoneMethods/mobile'], snapshot([{ phoneType: 'mobile', phoneNumber: '+1 2065550000' }]))).toEqual([]);
  });

  it('names a phone the run wrote that is gone, and a token no longer activated for the user or no longer theirs', () => {
    expect(switchGaps(user(), ['phoneMethods/mobile'], snapshot([]))).toEqual(['phoneMethods/mobile, which the run wrote in an earlier pass, is no longer in the tenant']);
    expect(switchGaps(user(), ['hardwareOathMethods/20010001'], withToken(snapshot([]), 'assigned', U))).toEqual(['hardwareOathMethods/20010001, which the run wrote in an earlier pass, is no longer activated for the user']);
    expect(switchGaps(user(), ['hardwareOathMethods/20010001'], withToken(snapshot([]), 'available'))).toEqual(['hardwareOathMethods/20010001, which the run wrote in an earlier pass, is no longer activated for the user']);
  });

  it('judges only what the run wrote (a write not done is sent before the switch, which waits for it)', () => {
    expect(switchGaps(user(), [], snapshot([]))).toEqual([]);
  });

  it('counts a method the plan kept as it was (usable then), and a user gone', () => {
    const kept = user({ changes: [user().changes[2]!], kept: [{ resource: 'phoneMethods/mobile', action: 'no-op', before: mobile, after: mobile, rule: 'PHONE-PRIMARY-MOBILE', because: '', state_fingerprint: stateFingerprint(mobile) }] as PlanUser['changes'] });
    expect(switchGaps(kept, [], snapshot([]))).toEqual(['phoneMethods/mobile, which the plan kept as it was, is no longer in the tenant']);
    expect(switchGaps(kept, [], snapshot([mobile as { phoneType: 'mobile'; phoneNumber: string }]))).toEqual([]);
    const gone = snapshot([]);
    gone.users.clear();
    expect(switchGaps(kept, [], gone)).toEqual(['the user is no longer in the tenant']);
  });
});
