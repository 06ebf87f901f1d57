import { describe, expect, it } from 'vitest';
import type * as Graph from '@microsoft/microsoft-graph-types-beta';
import { ALL_USERS, mapPolicy, type MethodUsage } from '../../src/mapping/policy-rules.js';
import type { ServerSettings } from '../../src/source/settings-schema.js';

const none: MethodUsage = { phoneCall: 0, textMessage: 0, mobileApp: 0, oathToken: 0, officePhones: 0, phones: 0, pinPhoneCall: 0, pinMobileApp: 0, pinTextMessage: 0, twoWaySms: 0, languages: 0 };
const group = { id: 'g-1', displayName: 'MFA Migration Wave 1' };

/** Graph's defaults for a new tenant (the parts these rules read). */
function defaultPolicy(): Graph.AuthenticationMethodsPolicy {
  return {
    id: 'authenticationMethodsPolicy',
    registrationEnforcement: { authenticationMethodsRegistrationCampaign: { state: 'default', snoozeDurationInDays: 1, includeTargets: [], excludeTargets: [] } },
    reportSuspiciousActivitySettings: { state: 'default', voiceReportingCode: 0, includeTarget: { id: 'all_users', targetType: 'group' } },
    authenticationMethodConfigurations: [
      { id: 'MicrosoftAuthenticator', state: 'enabled', isSoftwareOathEnabled: false, includeTargets: [{ id: 'all_users', targetType: 'group', authenticationMode: 'any' }] } as Graph.AuthenticationMethodConfiguration,
      { id: 'Sms', state: 'disabled', includeTargets: [{ id: 'all_users', targetType: 'group' }] } as Graph.AuthenticationMethodConfiguration,
      { id: 'Voice', state: 'disabled', isOfficePhoneAllowed: false, includeTargets: [{ id: 'all_users', targetType: 'group' }] } as Graph.AuthenticationMethodConfiguration,
      { id: 'HardwareOath', state: 'disabled', includeTargets: [] } as Graph.AuthenticationMethodConfiguration,
      { id: 'TemporaryAccessPass', state: 'disabled', defaultLifetimeInMinutes: 60, minimumLifetimeInMinutes: 60, maximumLifetimeInMinutes: 480, isUsableOnce: false, includeTargets: [] } as Graph.AuthenticationMethodConfiguration,
    ],
  };
}

const change = (target: string, property: string) => expect.objectContaining({ target, property });

describe('mapPolicy', () => {
  it('enables each method in use for the target group, leaving targets that already cover it', () => {
    const r = mapPolicy(undefined, { ...none, phoneCall: 3, textMessage: 2, mobileApp: 1, oathToken: 1 }, defaultPolicy(), group);
    expect(r.changes).toEqual(
      expect.arrayContaining([
        { target: 'authenticationMethodConfigurations/Voice', property: 'state', before: 'disabled', after: 'enabled', rule: 'POL-VOICE', because: '3 migrating user(s) use phone calls', setting: '3 user(s) with default method phone call' },
        { target: 'authenticationMethodConfigurations/Voice', property: 'includeTargets', before: [{ id: 'all_users', targetType: 'group' }], after: [{ id: 'g-1', targetType: 'group', isRegistrationRequired: false }], rule: 'POL-VOICE', because: 'target MFA Migration Wave 1', setting: '3 user(s) with default method phone call' },
        change('authenticationMethodConfigurations/Sms', 'state'),
        { target: 'authenticationMethodConfigurations/Sms', property: 'includeTargets', before: [{ id: 'all_users', targetType: 'group' }], after: [{ id: 'g-1', targetType: 'group', isRegistrationRequired: false, isUsableForSignIn: false }], rule: 'POL-SMS', because: 'target MFA Migration Wave 1', setting: '2 user(s) with default method text message' },
        change('authenticationMethodConfigurations/HardwareOath', 'state'),
      ]),
    );
    // Authenticator is already enabled for all users: nothing to change.
    expect(r.changes.filter((c) => c.target.endsWith('MicrosoftAuthenticator'))).toEqual([]);
    expect([...r.enabledDefaults].sort()).toEqual(['oath', 'push', 'sms', 'voiceAlternateMobile', 'voiceMobile']);
  });

  it('enables nothing that is neither allowed nor used', () => {
    expect(mapPolicy({}, none, defaultPolicy(), ALL_USERS).changes).toEqual([]);
  });

  it('enables what the user portal allows even when nobody uses it yet, and office phones when needed', () => {
    const settings: ServerSettings = { userPortal: { allowMethodSelection: ['text_message'] } };
    const r = mapPolicy(settings, { ...none, phoneCall: 1, officePhones: 1 }, defaultPolicy(), ALL_USERS);
    expect(r.changes).toEqual(expect.arrayContaining([change('authenticationMethodConfigurations/Sms', 'state'), { target: 'authenticationMethodConfigurations/Voice', property: 'isOfficePhoneAllowed', before: false, after: true, rule: 'POL-VOICE-OFFICE', because: '1 migrating user(s) will have an office phone', setting: '1 user(s) with a phone extension' }]));
    // all_users target already there: no target added; SMS's is only made MFA-only (POL-SMS-SIGN-IN).
    expect(r.changes.filter((c) => c.property === 'includeTargets').map((c) => c.rule)).toEqual(['POL-SMS-SIGN-IN']);
    expect(r.enabledDefaults.has('voiceOffice')).toBe(true);
  });

  it('adds the group to an enabled method that targets other groups', () => {
    const policy = defaultPolicy();
    (policy.authenticationMethodConfigurations![1] as Record<string, unknown>).state = 'enabled';
    (policy.authenticationMethodConfigurations![1] as Record<string, unknown>).includeTargets = [{ id: 'g-other', targetType: 'group' }];
    const r = mapPolicy(undefined, { ...none, textMessage: 1 }, policy, group);
    expect(r.changes).toEqual([expect.objectContaining({ property: 'includeTargets', after: [{ id: 'g-other', targetType: 'group' }, expect.objectContaining({ id: 'g-1' })] })]);
  });

  it('turns SMS on for MFA only: the all_users target it keeps gets isUsableForSignIn false, with its rule', () => {
    const policy = defaultPolicy();
    (policy.authenticationMethodConfigurations![1] as Record<string, unknown>).includeTargets = [{ id: 'all_users', targetType: 'group', isUsableForSignIn: true }];
    const r = mapPolicy(undefined, { ...none, textMessage: 2, phones: 2 }, policy, ALL_USERS);
    expect(r.changes.filter((c) => c.target.endsWith('/Sms'))).toEqual([
      expect.objectContaining({ property: 'state', after: 'enabled', rule: 'POL-SMS' }),
      expect.objectContaining({
        property: 'includeTargets',
        before: [{ id: 'all_users', targetType: 'group', isUsableForSignIn: true }],
        after: [{ id: 'all_users', targetType: 'group', isUsableForSignIn: false }],
        rule: 'POL-SMS-SIGN-IN',
        because: expect.stringMatching(/MFA only.*no password/),
      }),
    ]);
    expect(r.findings.filter((f) => f.rule === 'POL-SMS-SIGN-IN')).toEqual([]);
  });

  it("leaves SMS sign-in the tenant already has on, and says so when phones migrate", () => {
    const policy = defaultPolicy();
    Object.assign(policy.authenticationMethodConfigurations![1]!, { state: 'enabled', includeTargets: [{ id: 'all_users', targetType: 'group', isUsableForSignIn: true }] });
    const r = mapPolicy(undefined, { ...none, textMessage: 1, phones: 1 }, policy, ALL_USERS);
    expect(r.changes.filter((c) => c.target.endsWith('/Sms'))).toEqual([]);
    expect(r.findings).toEqual([expect.objectContaining({ severity: 'warning', code: 'sms-sign-in-kept', rule: 'POL-SMS-SIGN-IN', message: expect.stringContaining('for all users') })]);
    // Sign-in already off, or no phone migrating: nothing to say.
    Object.assign(policy.authenticationMethodConfigurations![1]!, { includeTargets: [{ id: 'all_users', targetType: 'group', isUsableForSignIn: false }] });
    expect(mapPolicy(undefined, { ...none, phones: 1 }, policy, ALL_USERS).findings).toEqual([]);
  });

  it.each([
    [300, 10],
    [60, 10],
    [1200, 20],
  ])('maps a %i s one-time bypass to a one-time Temporary Access Pass of %i minutes', (seconds, minutes) => {
    const r = mapPolicy({ userPortal: { allowOneTimeBypass: true, oneTimeBypassSeconds: seconds } }, none, defaultPolicy(), ALL_USERS);
    const tap = Object.fromEntries(r.changes.filter((c) => c.target.endsWith('TemporaryAccessPass')).map((c) => [c.property, c.after]));
    expect(tap).toMatchObject({ state: 'enabled', defaultLifetimeInMinutes: minutes, minimumLifetimeInMinutes: minutes, isUsableOnce: true });
  });

  const tapChanges = (r: ReturnType<typeof mapPolicy>) => r.changes.filter((c) => c.target.endsWith('TemporaryAccessPass') && /LifetimeInMinutes$/.test(c.property)).map((c) => [c.property, c.before, c.after]);
  const bypass = (seconds: number, policy = defaultPolicy()) => mapPolicy({ userPortal: { allowOneTimeBypass: true, oneTimeBypassSeconds: seconds } }, none, policy, ALL_USERS);

  /** Found by a Graph-contract review: a 36000 s bypass planned default 600 with the maximum left at 480, which Graph refuses. */
  it('raises the maximum lifetime with a default above it, and lowers the minimum with one below it, each with its before and after', () => {
    expect(tapChanges(bypass(36000))).toEqual([
      ['maximumLifetimeInMinutes', 480, 600],
      ['defaultLifetimeInMinutes', 60, 600],
    ]);
    expect(bypass(36000).changes.find((c) => c.property === 'maximumLifetimeInMinutes')).toMatchObject({ rule: 'POL-TAP', because: 'the maximum lifetime must not be less than the default lifetime', setting: 'userPortal.allowOneTimeBypass: true, oneTimeBypassSeconds: 36000' });
    // Within both bounds: neither moves.
    expect(tapChanges(bypass(7200))).toEqual([['defaultLifetimeInMinutes', 60, 120]]);
    // Exactly the maximum: no change to it.
    expect(tapChanges(bypass(480 * 60))).toEqual([['defaultLifetimeInMinutes', 60, 480]]);
    expect(tapChanges(bypass(1200))).toEqual([
      ['minimumLifetimeInMinutes', 60, 20],
      ['defaultLifetimeInMinutes', 60, 20],
    ]);
    // Where TAP is already on for others, the maximum MFA Server's bypass would need is said, not set.
    const policy = defaultPolicy();
    Object.assign(policy.authenticationMethodConfigurations![4]!, { state: 'enabled', includeTargets: [{ id: 'g-helpdesk', targetType: 'group' }] });
    const kept = mapPolicy({ userPortal: { allowOneTimeBypass: true, oneTimeBypassSeconds: 36000 } }, none, policy, group);
    expect(tapChanges(kept)).toEqual([]);
    expect(kept.findings.find((f) => f.code === 'tap-settings-kept')?.message).toMatch(/would give maximumLifetimeInMinutes 600, defaultLifetimeInMinutes 600, isUsableOnce true/);
  });

  it.each([
    [300, 10, 'info', /lasts 300 s, less than the 10 minutes a Temporary Access Pass lasts at least/],
    [540, 10, 'info', /lasts 540 s/],
    [43200 * 60 + 1, 43200, 'warning', /lasts 2592001 s \(43201 minutes\), more than the 43200 minutes \(30 days\)/],
    [10_000_000, 43200, 'warning', /ends before the bypass it replaces would/],
  ] as const)('clamps a %i s bypass to %i minutes and says so (%s)', (seconds, minutes, severity, message) => {
    const r = bypass(seconds);
    const after = Object.fromEntries(tapChanges(r).map(([p, , a]) => [p, a]));
    expect(after['defaultLifetimeInMinutes']).toBe(minutes);
    // The bounds Graph needs around it move too: never past 10..43200.
    if (minutes === 43200) expect(after['maximumLifetimeInMinutes']).toBe(43200);
    else expect(after['minimumLifetimeInMinutes']).toBe(10);
    expect(r.findings.filter((f) => f.code === 'tap-lifetime-clamped')).toEqual([{ severity, code: 'tap-lifetime-clamped', rule: 'POL-TAP-LIFETIME', message: expect.stringMatching(message) }]);
  });

  it('does not call a bypass Graph takes as it is clamped: 541 s and up to 30 days', () => {
    for (const seconds of [541, 600, 601, 43200 * 60]) expect(bypass(seconds).findings.filter((f) => f.code === 'tap-lifetime-clamped')).toEqual([]);
    // Rounded up to whole minutes: a pass never ends before the bypass would.
    expect(tapChanges(bypass(601)).find(([p]) => p === 'defaultLifetimeInMinutes')?.[2]).toBe(11);
  });

  it('maps self-service enrolment to the registration campaign and fraud alert to report suspicious activity', () => {
    const r = mapPolicy({ userPortal: { allowUserEnrollment: true }, company: { fraudAlert: { enabled: true, reportingCode: 8 } } }, none, defaultPolicy(), group);
    expect(r.changes).toEqual(
      expect.arrayContaining([
        change('registrationEnforcement/authenticationMethodsRegistrationCampaign', 'state'),
        expect.objectContaining({ target: 'registrationEnforcement/authenticationMethodsRegistrationCampaign', property: 'includeTargets', after: [{ id: 'g-1', targetType: 'group', targetedAuthenticationMethod: 'microsoftAuthenticator' }] }),
        expect.objectContaining({ target: 'reportSuspiciousActivitySettings', property: 'state', after: 'enabled' }),
        expect.objectContaining({ target: 'reportSuspiciousActivitySettings', property: 'voiceReportingCode', before: 0, after: 8 }),
      ]),
    );
    // Report suspicious activity already covers all users: its target is left alone.
    expect(r.changes.filter((c) => c.property === 'includeTarget')).toEqual([]);
  });

  it('leaves the settings of a Temporary Access Pass already on for others as they are, and says what MFA Server would have set', () => {
    const policy = defaultPolicy();
    Object.assign(policy.authenticationMethodConfigurations![4]!, { state: 'enabled', includeTargets: [{ id: 'g-helpdesk', targetType: 'group' }] });
    const r = mapPolicy({ userPortal: { allowOneTimeBypass: true, oneTimeBypassSeconds: 300 } }, none, policy, group);
    // The group is added; the lifetimes and one-time use, which are every TAP user's, are not touched.
    expect(r.changes).toEqual([expect.objectContaining({ property: 'includeTargets', after: [{ id: 'g-helpdesk', targetType: 'group' }, expect.objectContaining({ id: 'g-1' })] })]);
    const [kept] = r.findings.filter((f) => f.code === 'tap-settings-kept');
    expect(kept?.message).toMatch(/defaultLifetimeInMinutes 60, isUsableOnce false\); MFA Server's bypass would give minimumLifetimeInMinutes 10, defaultLifetimeInMinutes 10, isUsableOnce true/);
    // TAP on for the target group alone: its settings are the group's, and are set.
    Object.assign(policy.authenticationMethodConfigurations![4]!, { includeTargets: [{ id: 'g-1', targetType: 'group' }] });
    const own = mapPolicy({ userPortal: { allowOneTimeBypass: true, oneTimeBypassSeconds: 300 } }, none, policy, group);
    expect(own.changes.map((c) => c.property).sort()).toEqual(['defaultLifetimeInMinutes', 'isUsableOnce', 'minimumLifetimeInMinutes']);
  });

  it('never takes report suspicious activity from the group it is on for: it has one target', () => {
    const policy = defaultPolicy();
    policy.reportSuspiciousActivitySettings = { state: 'enabled', voiceReportingCode: 0, includeTarget: { id: 'g-all-staff', targetType: 'group' } };
    const r = mapPolicy({ company: { fraudAlert: { enabled: true, reportingCode: 5 } } }, none, policy, group);
    expect(r.changes.filter((c) => c.target === 'reportSuspiciousActivitySettings')).toEqual([]);
    const [kept] = r.findings.filter((f) => f.code === 'report-suspicious-kept');
    expect(kept).toMatchObject({ severity: 'warning', rule: 'POL-REPORT-SUSPICIOUS' });
    expect(kept!.message).toMatch(/already on for group g-all-staff only.*MFA Migration Wave 1 does not get it; its reporting code stays 0 \(MFA Server's is 5\)/);
    // On for all users: covered, and the code everyone uses is kept.
    policy.reportSuspiciousActivitySettings = { state: 'enabled', voiceReportingCode: 0, includeTarget: { id: 'all_users', targetType: 'group' } };
    const all = mapPolicy({ company: { fraudAlert: { enabled: true, reportingCode: 5 } } }, none, policy, group);
    expect(all.changes).toEqual([]);
    expect(all.findings.find((f) => f.code === 'report-suspicious-kept')).toMatchObject({ severity: 'info' });
  });

  it('tells public trusted IP ranges from those Entra cannot take, and says when there are more than 50', () => {
    const trusted = (trustedIps: string[]) => mapPolicy({ userPortal: { trustedIps } }, none, defaultPolicy(), ALL_USERS).findings.find((f) => f.code === 'trusted-ips')!;
    const fine = trusted(['203.0.114.0/24', '8.8.8.8', '2a00:1450::/32']);
    expect(fine.severity).toBe('info');
    for (const bad of ['100.64.0.0/10', '169.254.0.0/16', '::1', '0.0.0.0/0', '10.1.2.3', 'fd12::/16', '192.0.2.0/24', '::ffff:10.0.0.1', '::ffff:192.168.1.1', '::ffff:192.168.0.0/120', '2002::/16']) {
      const f = trusted(['8.8.8.8', bad]);
      expect(f.severity, bad).toBe('warning');
      expect(f.message, bad).toMatch(new RegExp(`not public .*cannot be used: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`));
    }
    const many = trusted(Array.from({ length: 51 }, (_, i) => `8.8.${i}.0/24`));
    expect(many).toMatchObject({ severity: 'warning', message: expect.stringMatching(/51 public ranges are more than the 50 trusted IPs take/) });
  });

  it('reports the phone call settings and fallbacks set by hand, and a fraud code that needs custom greetings', () => {
    const r = mapPolicy({ company: { phoneCall: { callerId: '+1 425 555 0100', customGreetings: false }, fraudAlert: { enabled: true, reportingCode: 5 } }, userPortal: { useOathTokenFallback: true } }, none, defaultPolicy(), ALL_USERS);
    const codes = r.findings.map((f) => `${f.severity}:${f.code}`);
    expect(codes).toEqual(expect.arrayContaining(['info:caller-id', 'warning:fraud-code-greetings', 'info:oath-fallback']));
    // The caller ID is a phone number: never printed.
    expect(JSON.stringify(r.findings)).not.toMatch(/555/);
    const greetings = mapPolicy({ company: { phoneCall: { customGreetings: true }, fraudAlert: { enabled: true, reportingCode: 5 } } }, none, defaultPolicy(), ALL_USERS);
    expect(greetings.findings.map((f) => f.code)).toEqual(expect.arrayContaining(['custom-greetings']));
    expect(greetings.findings.map((f) => f.code)).not.toContain('fraud-code-greetings');
  });

  it('turns on Authenticator OTP codes for the OATH passcode', () => {
    const r = mapPolicy({ mobileApp: { oathPasscode: true } }, none, defaultPolicy(), ALL_USERS);
    expect(r.changes).toEqual([expect.objectContaining({ property: 'isSoftwareOathEnabled', before: false, after: true, rule: 'POL-AUTHENTICATOR-OTP' })]);
    expect(r.enabledDefaults.has('oath')).toBe(true);
  });

  it('reports what has no cloud equivalent, with the manual step', () => {
    const settings: ServerSettings = {
      company: { userDefaults: { phoneCallMode: 'pin', mobileAppMode: 'pin' }, lockout: { enabled: true, failures: 5 }, fraudAlert: { enabled: true, blockUser: true } },
      userPortal: { useSecurityQuestions: true, trustedIps: ['203.0.113.0/24', '10.0.0.0/8'], maxMobileAppDevices: 8, enabled: true },
      mobileApp: { accountName: 'Contoso' },
    };
    const codes = mapPolicy(settings, { ...none, languages: 3 }, defaultPolicy(), ALL_USERS).findings.map((f) => `${f.severity}:${f.code}`);
    expect(codes.sort()).toEqual(
      ['warning:pin-mode', 'info:pin-mode', 'info:lockout', 'warning:fraud-block', 'info:security-questions', 'warning:trusted-ips', 'warning:device-limit', 'info:user-portal', 'info:account-name', 'info:language'].sort(),
    );
  });
});

describe('PIN modes with no cloud setting', () => {
  const pin = (settings: ServerSettings | undefined, usage: Partial<MethodUsage>) =>
    mapPolicy(settings, { ...none, ...usage }, defaultPolicy(), ALL_USERS)
      .findings.filter((f) => f.code === 'pin-mode')
      .map((f) => [f.severity, f.rule, f.message.split(':')[0]]);

  /** An auditor found text message (OTP + PIN) said only for the company default, with no count of the users who have it. */
  it('says text message (OTP + PIN) with how many migrating users have it, as the other PIN modes, default or not', () => {
    expect(pin(undefined, { pinTextMessage: 2 })).toEqual([['info', 'POL-MANUAL', 'text message (OTP + PIN) mode (2 user(s)) has no per-user PIN in Entra']]);
    expect(pin({ company: { userDefaults: { textMessageMode: 'otp_pin' } } }, {})).toEqual([['info', 'POL-MANUAL', 'text message (OTP + PIN) mode has no per-user PIN in Entra']]);
    expect(pin(undefined, { pinPhoneCall: 1, pinMobileApp: 3, pinTextMessage: 2 }).map((f) => f[2])).toEqual([
      'phone call (PIN) mode (1 user(s)) has no per-user PIN in Entra',
      'mobile app (PIN) mode (3 user(s))',
      'text message (OTP + PIN) mode (2 user(s)) has no per-user PIN in Entra',
    ]);
    expect(pin(undefined, {})).toEqual([]);
  });
});

describe('system-preferred MFA in the tenant', () => {
  const withPrefs = (prefs: Record<string, unknown>) => ({ ...defaultPolicy(), systemCredentialPreferences: prefs }) as Graph.AuthenticationMethodsPolicy;
  const said = (policy: Graph.AuthenticationMethodsPolicy) => mapPolicy(undefined, none, policy, ALL_USERS).findings.filter((f) => f.code === 'system-preferred-on').map((f) => [f.severity, f.rule, f.message]);

  it('is said once for the plan when on or Microsoft managed, for whom; not when off or not read (a black-box test: 45 defaults planned, one user warned)', () => {
    expect(said(withPrefs({ state: 'default', includeTargets: [{ id: 'all_users' }], excludeTargets: [] }))).toEqual([
      ['info', 'DEFAULT-SYSTEM-PREFERRED', 'system-preferred MFA is Microsoft managed (on) in the tenant for all users: Entra prompts the most secure method each of them has, and a default method this plan sets for them is used only by the NPS extension and the AD FS adapter'],
    ]);
    expect(said(withPrefs({ state: 'enabled', includeTargets: [{ id: 'g1' }, { id: 'g2' }], excludeTargets: [{ id: 'g3' }] }))[0]![2]).toMatch(/^system-preferred MFA is on in the tenant for the 2 group\(s\) it targets \(1 excluded\):/);
    expect(said(withPrefs({ state: 'disabled' }))).toEqual([]);
    expect(said(defaultPolicy())).toEqual([]);
    // With --default-method never no default is set: nothing to say.
    expect(mapPolicy(undefined, none, withPrefs({ state: 'default' }), ALL_USERS, false).findings.filter((f) => f.code === 'system-preferred-on')).toEqual([]);
  });
});
