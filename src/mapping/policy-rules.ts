import type * as Graph from '@microsoft/microsoft-graph-types-beta';
import { findConfig, policyAfter, type MethodConfig, type PolicyAfter } from '../model/method-policy.js';
import { bypassLifetime } from './bypass-lifetime.js';
import { mapSmsSignIn } from './sms-sign-in.js';
import { isPublicRange, MAX_TRUSTED_IPS } from './trusted-ips.js';
import type { DefaultMethod } from '../model/tenant.js';
import type { ServerSettings } from '../source/settings-schema.js';
import type { Finding } from './finding.js';
import type { RuleId } from './rules.js';

/** One property of the tenant policy the plan would change. */
export interface PolicyChange {
  /** `authenticationMethodConfigurations/Sms`, `registrationEnforcement/authenticationMethodsRegistrationCampaign`, `reportSuspiciousActivitySettings`. */
  target: string;
  property: string;
  before: unknown;
  after: unknown;
  rule: RuleId;
  because: string;
  /** The MFA Server setting or usage behind the change, for the auditors' table. */
  setting: string;
}

/** What the migrating users use, which also decides what the policy must enable. */
export interface MethodUsage {
  phoneCall: number;
  textMessage: number;
  mobileApp: number;
  oathToken: number;
  officePhones: number;
  /** Users who will have a phone from MFA Server (any type). */
  phones: number;
  pinPhoneCall: number;
  pinMobileApp: number;
  /** Users whose text messages are OTP + PIN. */
  pinTextMessage: number;
  twoWaySms: number;
  languages: number;
}

/** The group the enabled methods target: a group object id (with its name for reports) or all users. */
export interface PolicyTarget {
  id: string;
  displayName: string;
}

export const ALL_USERS: PolicyTarget = { id: 'all_users', displayName: 'all users' };

export { findConfig };

export interface PolicyMapping {
  changes: PolicyChange[];
  findings: Finding[];
  /** The policy as the changes leave it, to tell user by user what they can sign in with. */
  after: PolicyAfter;
  /**
   * Default methods the policy enables for anyone once the changes are applied (their state only):
   * what a plan of format 2.2 or older assumed for every user.
   */
  enabledDefaults: Set<DefaultMethod>;
}


/**
 * Maps MFA Server's settings and the users' methods to the tenant's authentication methods policy,
 * as property-level changes against the current policy, plus findings for what Graph cannot set.
 */
export function mapPolicy(settings: ServerSettings | undefined, usage: MethodUsage, policy: Graph.AuthenticationMethodsPolicy, target: PolicyTarget, setsDefaults = true): PolicyMapping {
  const changes: PolicyChange[] = [];
  const findings: Finding[] = [];
  const portal = settings?.userPortal;
  const allowed = new Set(portal?.allowMethodSelection ?? []);
  if (settings?.company?.userDefaults?.method) allowed.add(settings.company.userDefaults.method);
  const reason = (method: string, count: number, setting: boolean) =>
    [setting ? `MFA Server allows ${method}` : undefined, count > 0 ? `${count} migrating user(s) use ${method}` : undefined].filter(Boolean).join('; ');
  const source = (key: 'phone_call' | 'text_message' | 'mobile_app' | 'oath_token', label: string, count: number, extra?: string) =>
    [allowed.has(key) ? `userPortal.allowMethodSelection: ${key}` : undefined, extra, count > 0 ? `${count} user(s) with ${label}` : undefined].filter(Boolean).join('; ');

  const enable = (id: string, rule: RuleId, why: string, setting: string, targetExtras: Record<string, unknown>) => {
    const config = findConfig(policy, id);
    const name = `authenticationMethodConfigurations/${config?.id ?? id}`;
    const wantTarget = { id: target.id, targetType: 'group', isRegistrationRequired: false, ...targetExtras };
    if (config?.state !== 'enabled') {
      changes.push({ target: name, property: 'state', before: config?.state ?? null, after: 'enabled', rule, because: why, setting });
      const before = config?.includeTargets ?? [];
      if (!(before.length === 1 && before[0]?.id === target.id)) {
        changes.push({ target: name, property: 'includeTargets', before, after: [wantTarget], rule, because: `target ${target.displayName}`, setting });
      }
      return;
    }
    const before = config.includeTargets ?? [];
    if (!before.some((t) => t.id === 'all_users' || t.id === target.id)) {
      changes.push({ target: name, property: 'includeTargets', before, after: [...before, wantTarget], rule, because: `${why}; add ${target.displayName} to the targets`, setting });
    }
  };

  // A migrated phone is of no use while neither voice nor SMS is on (Microsoft: "Users can't try
  // their newly migrated MFA methods unless they're enabled"); voice reaches every phone type.
  const voice = usage.phoneCall > 0 || allowed.has('phone_call') || usage.phones > 0;
  const sms = usage.textMessage > 0 || allowed.has('text_message');
  const app = usage.mobileApp > 0 || allowed.has('mobile_app') || portal?.allowMobileAppActivation === true;
  const oath = usage.oathToken > 0 || allowed.has('oath_token') || portal?.allowOathTokenAssociation === true;
  if (voice) {
    const why = [reason('phone calls', usage.phoneCall, allowed.has('phone_call')), usage.phones > 0 ? `${usage.phones} migrating user(s) will have a phone` : undefined].filter(Boolean).join('; ');
    const setting = [source('phone_call', 'default method phone call', usage.phoneCall), usage.phones > 0 ? `${usage.phones} user(s) with a phone` : undefined].filter(Boolean).join('; ');
    enable('Voice', 'POL-VOICE', why, setting, {});
  }
  if (voice && usage.officePhones > 0) {
    const config = findConfig(policy, 'Voice');
    if (config?.isOfficePhoneAllowed !== true) {
      changes.push({
        target: `authenticationMethodConfigurations/${config?.id ?? 'Voice'}`,
        property: 'isOfficePhoneAllowed',
        before: config?.isOfficePhoneAllowed ?? null,
        after: true,
        rule: 'POL-VOICE-OFFICE',
        because: `${usage.officePhones} migrating user(s) will have an office phone`,
        setting: `${usage.officePhones} user(s) with a phone extension`,
      });
    }
  }
  if (sms) enable('Sms', 'POL-SMS', reason('text messages', usage.textMessage, allowed.has('text_message')), source('text_message', 'default method text message', usage.textMessage), { isUsableForSignIn: false });
  mapSmsSignIn(policy, changes, findings, usage.phones);
  if (app) {
    const activation = portal?.allowMobileAppActivation ? 'userPortal.allowMobileAppActivation: true' : undefined;
    enable('MicrosoftAuthenticator', 'POL-AUTHENTICATOR', reason('the mobile app', usage.mobileApp, allowed.has('mobile_app')) || 'MFA Server lets users activate the mobile app', source('mobile_app', 'the mobile app', usage.mobileApp, activation), { authenticationMode: 'any' });
  }
  if (oath) {
    const association = portal?.allowOathTokenAssociation ? 'userPortal.allowOathTokenAssociation: true' : undefined;
    enable('HardwareOath', 'POL-HARDWARE-OATH', reason('OATH tokens', usage.oathToken, allowed.has('oath_token')) || 'MFA Server lets users associate OATH tokens', source('oath_token', 'an OATH token', usage.oathToken, association), {});
  }

  if (settings?.mobileApp?.oathPasscode === true) {
    const config = findConfig(policy, 'MicrosoftAuthenticator');
    if (config?.isSoftwareOathEnabled !== true) {
      changes.push({
        target: `authenticationMethodConfigurations/${config?.id ?? 'MicrosoftAuthenticator'}`,
        property: 'isSoftwareOathEnabled',
        before: config?.isSoftwareOathEnabled ?? null,
        after: true,
        rule: 'POL-AUTHENTICATOR-OTP',
        because: 'the MFA Server mobile app shows OATH passcodes',
        setting: 'mobileApp.oathPasscode: true',
      });
    }
  }

  if (portal?.allowOneTimeBypass === true) mapBypass(policy, target, portal.oneTimeBypassSeconds ?? 300, changes, findings);
  if (portal?.allowUserEnrollment === true || portal?.allowMobileAppActivation === true) mapCampaign(policy, target, changes);
  const fraud = settings?.company?.fraudAlert;
  if (fraud?.enabled === true) mapFraudAlert(policy, target, fraud.reportingCode ?? 0, changes, findings);

  manualFindings(settings, usage, findings);
  // Said where the plan may set default methods (not with --default-method never).
  if (setsDefaults) systemPreferredFinding(policy, findings);
  const after = policyAfter(policy, changes);
  return { changes, findings, after, enabledDefaults: enabledDefaults(after) };
}

/**
 * System-preferred MFA, tenant-wide (the policy's `systemCredentialPreferences`, beta): on, or Microsoft
 * managed (on since 2023), Entra prompts the most secure method a user has, and a default method is
 * used only by the NPS extension and the AD FS adapter. Said once for the plan; a user's own flag, where
 * Graph gives it, is said per user (default-ignored-system-preferred). A black-box test saw a tenant with
 * it on for everyone planned some 45 defaults with a word for one user.
 */
function systemPreferredFinding(policy: Graph.AuthenticationMethodsPolicy, findings: Finding[]): void {
  const prefs = (policy as { systemCredentialPreferences?: { state?: string; includeTargets?: { id?: string }[]; excludeTargets?: { id?: string }[] } }).systemCredentialPreferences;
  if (prefs?.state !== 'enabled' && prefs?.state !== 'default') return;
  const include = prefs.includeTargets ?? [];
  const whom = include.length === 0 || include.some((t) => t.id === 'all_users') ? 'all users' : `the ${include.length} group(s) it targets`;
  const except = (prefs.excludeTargets ?? []).length > 0 ? ` (${prefs.excludeTargets!.length} excluded)` : '';
  findings.push({
    severity: 'info',
    code: 'system-preferred-on',
    rule: 'DEFAULT-SYSTEM-PREFERRED',
    message: `system-preferred MFA is ${prefs.state === 'default' ? 'Microsoft managed (on)' : 'on'} in the tenant for ${whom}${except}: Entra prompts the most secure method each of them has, and a default method this plan sets for them is used only by the NPS extension and the AD FS adapter`,
  });
}

function mapBypass(policy: Graph.AuthenticationMethodsPolicy, target: PolicyTarget, seconds: number, changes: PolicyChange[], findings: Finding[]): void {
  const config = findConfig(policy, 'TemporaryAccessPass');
  const name = `authenticationMethodConfigurations/${config?.id ?? 'TemporaryAccessPass'}`;
  const { minutes: lifetime, clamped } = bypassLifetime(seconds);
  if (clamped) findings.push(clamped);
  const because = `MFA Server lets users start a one-time bypass of ${seconds} s; Temporary Access Pass is Entra's replacement (at least 10 minutes)`;
  const setting = `userPortal.allowOneTimeBypass: true, oneTimeBypassSeconds: ${seconds}`;
  // Targets as for every method the plan turns on: only the target group when it enables TAP, the
  // group added when TAP is already on for other groups.
  const before = config?.includeTargets ?? [];
  const wantTarget = { id: target.id, targetType: 'group', isRegistrationRequired: false };
  const enabled = config?.state === 'enabled';
  if (!enabled) {
    changes.push({ target: name, property: 'state', before: config?.state ?? null, after: 'enabled', rule: 'POL-TAP', because, setting });
    if (!(before.length === 1 && before[0]?.id === target.id)) {
      changes.push({ target: name, property: 'includeTargets', before, after: [wantTarget], rule: 'POL-TAP', because: `target ${target.displayName}`, setting });
    }
  } else if (!before.some((t) => t.id === 'all_users' || t.id === target.id)) {
    changes.push({ target: name, property: 'includeTargets', before, after: [...before, wantTarget], rule: 'POL-TAP', because: `add ${target.displayName} to the targets`, setting });
  }
  // Graph takes the default only between the minimum and the maximum (Graph's defaults 60 and 480 where
  // the policy read gives none): the bound it passes moves with it, in the same PATCH.
  const min = (config?.minimumLifetimeInMinutes as number | null | undefined) ?? 60;
  const max = (config?.maximumLifetimeInMinutes as number | null | undefined) ?? 480;
  const wanted = [
    ...(min > lifetime ? [{ property: 'minimumLifetimeInMinutes', before: config?.minimumLifetimeInMinutes ?? null, after: lifetime, because: 'the minimum lifetime must not exceed the default lifetime' }] : []),
    ...(max < lifetime ? [{ property: 'maximumLifetimeInMinutes', before: config?.maximumLifetimeInMinutes ?? null, after: lifetime, because: 'the maximum lifetime must not be less than the default lifetime' }] : []),
    ...(config?.defaultLifetimeInMinutes !== lifetime ? [{ property: 'defaultLifetimeInMinutes', before: config?.defaultLifetimeInMinutes ?? null, after: lifetime, because }] : []),
    ...(config?.isUsableOnce !== true ? [{ property: 'isUsableOnce', before: config?.isUsableOnce ?? null, after: true, because: 'a bypass is one-time' }] : []),
  ];
  // TAP's lifetimes and one-time use are the whole tenant's: where it is already on for others, they are theirs to keep.
  if (enabled && before.some((t) => t.id !== target.id)) {
    if (wanted.length > 0) {
      findings.push({
        severity: 'info',
        code: 'tap-settings-kept',
        rule: 'POL-TAP',
        message: `Temporary Access Pass is already on for others, so its settings, which apply to everyone it targets, are kept (${wanted.map((w) => `${w.property} ${JSON.stringify(w.before)}`).join(', ')}); MFA Server's bypass would give ${wanted.map((w) => `${w.property} ${JSON.stringify(w.after)}`).join(', ')}: change them by hand if that suits every TAP user`,
      });
    }
    return;
  }
  for (const w of wanted) changes.push({ target: name, property: w.property, before: w.before, after: w.after, rule: 'POL-TAP', because: w.because, setting });
}

function mapCampaign(policy: Graph.AuthenticationMethodsPolicy, target: PolicyTarget, changes: PolicyChange[]): void {
  const campaign = policy.registrationEnforcement?.authenticationMethodsRegistrationCampaign;
  const name = 'registrationEnforcement/authenticationMethodsRegistrationCampaign';
  const because = 'MFA Server lets users enrol and activate the mobile app themselves; the campaign nudges migrated users to register Microsoft Authenticator';
  const setting = 'userPortal.allowUserEnrollment / allowMobileAppActivation: true';
  const enabled = campaign?.state === 'enabled';
  if (!enabled) changes.push({ target: name, property: 'state', before: campaign?.state ?? null, after: 'enabled', rule: 'POL-CAMPAIGN', because, setting });
  const before = campaign?.includeTargets ?? [];
  // Turning the campaign on targets the target group only (the default policy's all_users would
  // prompt everyone); a campaign already on gets the group added unless it covers it.
  const covered = enabled ? before.some((t) => t.id === 'all_users' || t.id === target.id) : before.length === 1 && before[0]?.id === target.id;
  if (!covered) {
    changes.push({
      target: name,
      property: 'includeTargets',
      before,
      after: [...(enabled ? before : []), { id: target.id, targetType: 'group', targetedAuthenticationMethod: 'microsoftAuthenticator' }],
      rule: 'POL-CAMPAIGN',
      because: `target ${target.displayName}`,
      setting,
    });
  }
}

function mapFraudAlert(policy: Graph.AuthenticationMethodsPolicy, target: PolicyTarget, code: number, changes: PolicyChange[], findings: Finding[]): void {
  const current = policy.reportSuspiciousActivitySettings;
  const name = 'reportSuspiciousActivitySettings';
  const because = 'MFA Server fraud alert is on; report suspicious activity is its replacement';
  const setting = `company.fraudAlert.enabled: true, reportingCode: ${code}`;
  const inc = current?.includeTarget;
  const codeBefore = current?.voiceReportingCode ?? null;
  if (current?.state === 'enabled' && inc?.id !== target.id) {
    // On for others already: it has one target, so the target group cannot be added beside it, and
    // its reporting code is theirs too. Left as it is, and said.
    const covers = inc?.id === 'all_users';
    const codeNote = codeBefore !== code ? `; its reporting code stays ${codeBefore ?? 'unset'} (MFA Server's is ${code})` : '';
    if (!covers || codeNote) {
      findings.push({
        severity: covers ? 'info' : 'warning',
        code: 'report-suspicious-kept',
        rule: 'POL-REPORT-SUSPICIOUS',
        message: covers
          ? `report suspicious activity is already on for all users${codeNote}`
          : `report suspicious activity is already on for group ${inc?.id ?? '(none)'} only, and takes one target: the plan leaves it as it is, so ${target.displayName} does not get it${codeNote}; point it at a group holding both by hand`,
      });
    }
    return;
  }
  if (current?.state !== 'enabled') changes.push({ target: name, property: 'state', before: current?.state ?? null, after: 'enabled', rule: 'POL-REPORT-SUSPICIOUS', because, setting });
  if (codeBefore !== code) changes.push({ target: name, property: 'voiceReportingCode', before: codeBefore, after: code, rule: 'POL-REPORT-SUSPICIOUS', because: `fraud reporting code ${code}`, setting });
  if (inc?.id !== 'all_users' && inc?.id !== target.id) {
    changes.push({ target: name, property: 'includeTarget', before: inc ?? null, after: { id: target.id, targetType: 'group' }, rule: 'POL-REPORT-SUSPICIOUS', because: `target ${target.displayName}`, setting });
  }
}

function manualFindings(settings: ServerSettings | undefined, usage: MethodUsage, findings: Finding[]): void {
  const add = (severity: Finding['severity'], code: string, message: string) => findings.push({ severity, code, rule: 'POL-MANUAL', message });
  const d = settings?.company?.userDefaults;
  if (d?.phoneCallMode === 'pin' || usage.pinPhoneCall > 0) {
    add('warning', 'pin-mode', `phone call (PIN) mode${usage.pinPhoneCall ? ` (${usage.pinPhoneCall} user(s))` : ''} has no per-user PIN in Entra: turn on voice OTP for those users, or move them to Authenticator`);
  }
  if (d?.mobileAppMode === 'pin' || usage.pinMobileApp > 0) {
    add('info', 'pin-mode', `mobile app (PIN) mode${usage.pinMobileApp ? ` (${usage.pinMobileApp} user(s))` : ''}: Entra requires number matching for every Authenticator push, which replaces the PIN`);
  }
  if (d?.textMessageMode === 'otp_pin' || usage.pinTextMessage > 0) {
    add('info', 'pin-mode', `text message (OTP + PIN) mode${usage.pinTextMessage ? ` (${usage.pinTextMessage} user(s))` : ''} has no per-user PIN in Entra: users type the SMS code alone (it still proves possession of the phone); no action needed`);
  }
  if (d?.textMessageDirection === 'two_way' || usage.twoWaySms > 0) {
    add('info', 'two-way-sms', `two-way text messages${usage.twoWaySms ? ` (${usage.twoWaySms} user(s))` : ''} are not supported in Entra: users type the one-way SMS code`);
  }
  const lockout = settings?.company?.lockout;
  if (lockout?.enabled) {
    add('info', 'lockout', `MFA Server lockout (${lockout.failures ?? '?'} failures) counts wrong PINs, and Entra has no PINs: nothing to carry over (Entra's "Account lockout (MFA Server only)" setting applies to MFA Server alone)`);
  }
  const phoneCall = settings?.company?.phoneCall;
  // The number itself is not repeated: phone numbers are masked in every output.
  if (phoneCall?.callerId) add('info', 'caller-id', 'MFA Server phone calls show a caller ID of your own: set it for Entra\'s calls by hand (Multifactor authentication > Phone call settings; US numbers only)');
  if (phoneCall?.customGreetings) add('info', 'custom-greetings', 'MFA Server plays custom greetings: upload them for Entra by hand (Multifactor authentication > Phone call settings: .wav or .mp3, at most 1 MB, under 20 s)');
  const fraud = settings?.company?.fraudAlert;
  if (fraud?.enabled && (fraud.reportingCode ?? 0) !== 0 && !phoneCall?.customGreetings) {
    add('warning', 'fraud-code-greetings', `Entra takes a fraud reporting code other than 0 (here ${fraud.reportingCode}) only with custom greetings that ask for it: with the default greetings callers report fraud with 0`);
  }
  if (fraud?.enabled && fraud.blockUser) {
    add('warning', 'fraud-block', 'MFA Server blocks users who report fraud: with report suspicious activity, reporters become high user risk; add an Identity Protection user-risk policy to block them');
  }
  const portal = settings?.userPortal;
  if (portal?.useOathTokenFallback) add('info', 'oath-fallback', 'OATH tokens as a fallback: in Entra a user picks any registered method at sign-in ("Sign in another way"), so a migrated token serves as one with no setting');
  if (portal?.useSecurityQuestions) add('info', 'security-questions', 'security questions are used only for self-service password reset in Entra; users pick a fallback MFA method at sign-in instead');
  if (portal?.trustedIps?.length) {
    const notPublic = portal.trustedIps.filter((r) => !isPublicRange(r));
    const publicCount = portal.trustedIps.length - notPublic.length;
    const tooMany = publicCount > MAX_TRUSTED_IPS;
    add(
      notPublic.length || tooMany ? 'warning' : 'info',
      'trusted-ips',
      `trusted IPs (${portal.trustedIps.length}) become MFA trusted IPs or Conditional Access named locations, set by hand (public ranges only, at most ${MAX_TRUSTED_IPS} trusted IPs)${notPublic.length ? `; these are not public (private, shared, loopback, link-local, documentation or reserved, or they hold such addresses) and cannot be used: ${notPublic.join(', ')}` : ''}${tooMany ? `; ${publicCount} public ranges are more than the ${MAX_TRUSTED_IPS} trusted IPs take: merge them, or use a named location` : ''}`,
    );
  }
  if ((portal?.maxMobileAppDevices ?? 0) > 5) add('warning', 'device-limit', `MFA Server allows ${portal!.maxMobileAppDevices} mobile app devices per user; Entra allows 5 Authenticator registrations and OATH tokens in all`);
  if (portal?.enabled) add('info', 'user-portal', 'after migration, stop user portal logins or redirect the portal URL to https://aka.ms/mfasetup');
  if (settings?.mobileApp?.accountName) {
    add('info', 'account-name', `rename the MFA Server mobile app account name ("${settings.mobileApp.accountName}"), e.g. to "On-Premises MFA Server", so users can tell it from the Entra account in Authenticator`);
  }
  if (usage.languages > 0) add('info', 'language', `${usage.languages} user(s) have a language set in MFA Server; Entra uses the browser's language`);
}


/** Which default methods the policy enables after the changes (for the default method fallback). */
function enabledDefaults(view: PolicyAfter): Set<DefaultMethod> {
  // Each method's state only, targets aside: what plans before 2.3 judged every user by.
  const on = (id: MethodConfig) => view.configs[id].enabled;
  const out = new Set<DefaultMethod>();
  if (on('MicrosoftAuthenticator')) out.add('push');
  if (on('HardwareOath') || on('SoftwareOath') || view.authenticatorOtp) out.add('oath');
  if (on('Sms')) out.add('sms');
  if (on('Voice')) {
    out.add('voiceMobile');
    out.add('voiceAlternateMobile');
    if (view.officePhoneAllowed) out.add('voiceOffice');
  }
  return out;
}
