import { describe, expect, it } from 'vitest';
import type { MfaUser } from '../../src/model/export-data.js';
import { policyAfter } from '../../src/model/method-policy.js';
import type { TenantUser } from '../../src/model/tenant.js';
import { RULES } from '../../src/mapping/rules.js';
import { mapUser, methodUsage } from '../../src/mapping/user-mapping.js';

const phone = { countryCode: '1', nationalNumber: '4255550122', entra: '+1 4255550122' };

function user(fields: Partial<MfaUser> = {}): MfaUser {
  return { line: 2, username: 'yusuf@contoso.com', enabled: true, phone, defaultMethod: 'text_message', phoneCallMode: 'standard', textMessageMode: 'otp', textMessageDirection: 'one_way', mobileAppMode: 'standard', ...fields };
}

const tenantUser: TenantUser = { id: 'u1', userPrincipalName: 'yusuf@contoso.com', phones: [], emails: [], authenticatorCount: 0, softwareOathCount: 0, hardwareOath: [], defaultMethod: null };

function pinFindings(u: MfaUser): [string, string, string][] {
  const m = mapUser({
    user: u,
    seeds: [],
    devices: [],
    tenantUser,
    inventory: new Map(),
    policy: { after: policyAfter({}, []), enabledForAnyone: new Set(['sms', 'voiceMobile']) },
    options: { includeEmail: false, defaultMethod: 'if-unset', prune: false },
  });
  return m.findings.filter((f) => f.code === 'pin-mode').map((f) => [f.severity, f.rule, f.message]);
}

/** An auditor found a user's text message (OTP + PIN) mode dropped without a word, beside phone call and mobile app PIN modes said per user. */
describe('PIN modes, user by user', () => {
  it('says a text message (OTP + PIN) mode, with a rule of its own that says what becomes of it', () => {
    expect(pinFindings(user({ textMessageMode: 'otp_pin' }))).toEqual([['info', 'USER-SMS-PIN-MODE', 'text message OTP + PIN mode: no per-user PIN in Entra (the SMS code alone, or Authenticator instead)']]);
    expect(RULES['USER-SMS-PIN-MODE']).toMatch(/Text message \(OTP \+ PIN\)/);
    // Two-way OTP + PIN (sms_two_way_otp_plus_pin): both are said.
    const m = pinFindings(user({ textMessageMode: 'otp_pin', textMessageDirection: 'two_way' }));
    expect(m.map(([, rule]) => rule)).toEqual(['USER-SMS-PIN-MODE']);
  });

  it('says nothing of PINs for OTP alone, and each PIN mode once when several are on', () => {
    expect(pinFindings(user())).toEqual([]);
    expect(pinFindings(user({ phoneCallMode: 'pin', mobileAppMode: 'pin', textMessageMode: 'otp_pin' })).map(([, rule, message]) => `${rule}: ${message.split(':')[0]}`)).toEqual([
      'USER-PIN-MODE: phone call PIN mode',
      'USER-PIN-MODE: mobile app PIN mode',
      'USER-SMS-PIN-MODE: text message OTP + PIN mode',
    ]);
  });

  it('counts the migrating users with each PIN mode, text message OTP + PIN among them (disabled users not)', () => {
    const users = [
      user({ username: 'a', textMessageMode: 'otp_pin' }),
      user({ username: 'b', textMessageMode: 'otp_pin', phoneCallMode: 'pin' }),
      user({ username: 'c', mobileAppMode: 'pin' }),
      user({ username: 'd', textMessageMode: 'otp_pin', enabled: false }),
      user({ username: 'e' }),
    ];
    expect(methodUsage(users, new Set(), new Set())).toMatchObject({ pinPhoneCall: 1, pinMobileApp: 1, pinTextMessage: 2 });
  });
});
