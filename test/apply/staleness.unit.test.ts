import { describe, expect, it } from 'vitest';
import { findStale } from '../../src/apply/staleness.js';
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
