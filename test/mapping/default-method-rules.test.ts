import { describe, expect, it } from 'vitest';
import { decideDefaultMethod, serverDefaultInEntra, type DefaultMethodMode } from '../../src/mapping/default-method-rules.js';
import type { MfaMethod, MfaUser } from '../../src/model/export-data.js';
import type { DefaultMethod, PhoneType } from '../../src/model/tenant.js';

const ALL: DefaultMethod[] = ['push', 'oath', 'sms', 'voiceMobile', 'voiceAlternateMobile', 'voiceOffice'];
const user = (defaultMethod?: MfaMethod): MfaUser => ({ line: 2, username: 'u@contoso.com', enabled: true, ...(defaultMethod ? { defaultMethod } : {}) });

describe('serverDefaultInEntra', () => {
  it.each([
    ['phone_call', 'mobile', undefined, 'voiceMobile'],
    ['phone_call', 'office', undefined, 'voiceOffice'],
    ['phone_call', undefined, 'alternateMobile', 'voiceAlternateMobile'],
    ['text_message', 'mobile', undefined, 'sms'],
    ['oath_token', undefined, undefined, 'oath'],
    ['mobile_app', undefined, undefined, 'push'],
  ] as const)('%s with the primary phone at %s, backup at %s -> %s', (method, primary, backup, expected) => {
    expect(serverDefaultInEntra(user(method), primary as PhoneType | undefined, backup as PhoneType | undefined)).toBe(expected);
  });
});

describe('decideDefaultMethod', () => {
  const decide = (method: MfaMethod | undefined, current: DefaultMethod | null, available: DefaultMethod[], mode: DefaultMethodMode = 'if-unset', enabled: DefaultMethod[] = ALL, primaryType: PhoneType = 'mobile') =>
    decideDefaultMethod({ user: user(method), current, available: new Set(available), enabledByPolicy: new Set(enabled), primaryType, mode });

  it.each([
    // [MFA Server default, tenant default, user will have, mode, policy enables, expected target, rule]
    ['phone_call', null, ['sms', 'voiceMobile'], 'if-unset', ALL, 'voiceMobile', 'DEFAULT-FROM-SERVER'],
    ['phone_call', 'sms', ['sms', 'voiceMobile'], 'if-unset', ALL, undefined, 'DEFAULT-IF-UNSET'],
    ['phone_call', 'sms', ['sms', 'voiceMobile'], 'always', ALL, 'voiceMobile', 'DEFAULT-FROM-SERVER'],
    ['text_message', null, ['sms', 'voiceMobile', 'oath'], 'most-secure-if-unset', ALL, 'oath', 'DEFAULT-MOST-SECURE'],
    ['text_message', 'sms', ['sms', 'oath'], 'most-secure-if-unset', ALL, undefined, 'DEFAULT-IF-UNSET'],
    ['mobile_app', null, ['sms', 'voiceMobile'], 'if-unset', ALL, 'sms', 'DEFAULT-PUSH-NEEDS-APP'],
    ['mobile_app', null, ['push', 'sms'], 'if-unset', ALL, 'push', 'DEFAULT-FROM-SERVER'],
    ['text_message', null, ['sms', 'voiceMobile'], 'if-unset', ['voiceMobile'], 'voiceMobile', 'DEFAULT-POLICY-FALLBACK'],
    ['oath_token', null, ['oath', 'sms'], 'if-unset', ALL, 'oath', 'DEFAULT-FROM-SERVER'],
    [undefined, null, ['sms'], 'if-unset', ALL, undefined, 'DEFAULT-FROM-SERVER'],
  ] as const)('%s, tenant %s, has %j, %s, policy %j -> %s (%s)', (method, current, available, mode, enabled, target, rule) => {
    const d = decide(method, current, [...available], mode, [...enabled]);
    expect(d.target).toBe(target);
    expect(d.rule).toBe(rule);
  });

  it('puts voice before SMS on a landline mobile, asking the number type only when SMS would win', () => {
    let asked = 0;
    const landline = (available: DefaultMethod[], enabled: DefaultMethod[] = ALL) =>
      decideDefaultMethod({ user: user('mobile_app'), current: null, available: new Set(available), enabledByPolicy: new Set(enabled), primaryType: 'mobile', mode: 'most-secure-if-unset', mobileSmsLess: () => (asked++, 'fixed line') });
    expect(landline(['sms', 'voiceMobile'])).toMatchObject({ target: 'voiceMobile', rule: 'DEFAULT-SMS-LANDLINE', because: expect.stringContaining('landline') });
    expect(asked).toBe(1);
    // No voice to fall back to: SMS it is (the mapping reports it).
    expect(landline(['sms', 'voiceMobile'], ['sms']).target).toBe('sms');
    // Push first: the number is never typed.
    expect(landline(['push', 'sms', 'voiceMobile']).target).toBe('push');
    expect(asked).toBe(1);
    // A toll-free number is said as such.
    const tollFree = decideDefaultMethod({ user: user('mobile_app'), current: null, available: new Set<DefaultMethod>(['sms', 'voiceMobile']), enabledByPolicy: new Set(ALL), primaryType: 'mobile', mode: 'most-secure-if-unset', mobileSmsLess: () => 'toll free' });
    expect(tollFree).toMatchObject({ target: 'voiceMobile', rule: 'DEFAULT-SMS-LANDLINE', because: expect.stringContaining('(voice before SMS: the mobile number is a toll free number)') });
  });

  it('reports a fallback and a default it cannot set', () => {
    expect(decide('mobile_app', null, ['sms']).findings).toEqual([expect.objectContaining({ code: 'default-method-fallback', severity: 'info' })]);
    expect(decide('text_message', null, ['sms'], 'if-unset', []).findings).toEqual([expect.objectContaining({ code: 'default-method-unset', severity: 'warning' })]);
  });
});
