import type { MfaUser, MobileDevice, OathSeed } from '../model/export-data.js';
import type { DefaultMethod, PhoneType, TenantHardwareToken, TenantUser } from '../model/tenant.js';
import { decideDefaultMethod, type DefaultMethodDecision, type DefaultMethodMode } from './default-method-rules.js';
import { mapEmail, replacedEmailFindings, type DesiredEmail } from './email-rules.js';
import type { Finding } from './finding.js';
import { mapOathTokens, type DesiredToken } from './oath-rules.js';
import { PHONE_LABEL } from './phone-label.js';
import { mapPhones, sameNumber, type DesiredPhone } from './phone-rules.js';
import { keepPrunedPhones, type CloudOnlyPhone } from './prune-default.js';
import { replacedPhoneFindings } from './phone-replace.js';
import type { MethodUsage } from './policy-rules.js';
import type { PolicyAfter } from '../model/method-policy.js';
import { enabledDefaultsFor, phoneUsable, userPolicy, type UserPolicy } from '../model/policy-view.js';
import { hasCloudMethod, usableMethods, type MethodsAfter } from '../model/cloud-methods.js';
import type { RuleId } from './rules.js';
import { smsLessLineType } from '../source/phone-line-type.js';
import { firstLabel, onPremisesName, type MatchBy, type MatchedUser, type UserMatch } from '../model/user-match.js';

export interface MappingOptions {
  includeEmail: boolean;
  defaultMethod: DefaultMethodMode;
  prune: boolean;
  /**
   * `--match-by`: `upn`, `on-premises` (looked up by on-premises name when not found by UPN). Absent
   * in plans made before it (format 2.9 and older), which matched by UPN only.
   */
  matchBy?: readonly MatchBy[];
  /** `--netbios-domain`: NetBIOS domain name (lower case) -> DNS domain; empty when none is given. */
  netbiosDomains?: ReadonlyMap<string, string>;
}

export interface UserMappingInput {
  user: MfaUser;
  seeds: OathSeed[];
  devices: MobileDevice[];
  tenantUser: TenantUser | undefined;
  /** How the user was looked up by an on-premises name (not found by UPN), when they were. */
  match?: UserMatch;
  inventory: ReadonlyMap<string, TenantHardwareToken[]>;
  policy: UserMappingPolicy;
  options: MappingOptions;
  /** Why the user's token has no seed, when a seed file holds its serial but its reader left it out. */
  seedLeftOut?: string;
}

/** The authentication methods policy as the plan leaves it. */
export interface UserMappingPolicy {
  after: PolicyAfter;
  /**
   * The default methods enabled for anyone, for a tenant user whose policy target groups were not
   * read (`policyGroups` absent: a plan of format 2.2 or older, planned before targets were
   * checked user by user, is re-derived as it was made).
   */
  enabledForAnyone: ReadonlySet<DefaultMethod>;
}

/** What one user should have in Entra, with the rule behind each part. */
export interface UserMapping {
  user: string;
  tenantUser?: TenantUser;
  /** How the user was looked up by an on-premises name, when they were: matched, or why not. */
  match?: UserMatch;
  skipped?: { code: 'user-disabled' | 'user-not-found' | 'user-ambiguous'; rule: RuleId };
  phones: DesiredPhone[];
  /** Tenant phones MFA Server does not have: deleted with --prune (unless Graph would refuse: PHONE-PRUNE-KEPT), else kept. */
  cloudOnlyPhones: CloudOnlyPhone[];
  email?: DesiredEmail;
  tokens: DesiredToken[];
  defaultMethod?: DefaultMethodDecision;
  /** The user's cloud MFA methods once the plan is applied (absent for a skipped user). */
  methodsAfter?: MethodsAfter;
  /**
   * Those of them the user holds before any of their writes, under the policy as the plan leaves it: what
   * they have when the plan's first step (the policy, the rollout groups attached) switches them.
   */
  methodsBeforeWrites?: MethodsAfter;
  findings: Finding[];
}

/** SMS and voice only: what Microsoft's SMS/voice retirement blocks. */
export function isPhoneOnly(m: MethodsAfter): boolean {
  return m.phones.length > 0 && !m.oath && !m.authenticator && !m.passwordless;
}

/** Maps one export user against their tenant account. Pure: the same input gives the same output. */
export function mapUser(input: UserMappingInput): UserMapping {
  const { user, tenantUser, options } = input;
  const name = user.username;
  const match = input.match;
  const empty = { user: name, phones: [], cloudOnlyPhones: [], tokens: [], ...(match ? { match } : {}) };
  if (!user.enabled) {
    const message = user.enabledUnreadable ? 'the enabled cell cannot be read: taken as disabled, skipped (correct the cell and plan again)' : 'disabled in MFA Server: skipped';
    // Their tenant account, when it was read (for the federation step), is kept: nothing is planned for them.
    const how = match && tenantUser ? [matchedFinding(name, match, 'info')] : [];
    return { ...empty, ...(tenantUser ? { tenantUser } : {}), skipped: { code: 'user-disabled', rule: 'USER-DISABLED' }, findings: [{ severity: user.enabledUnreadable ? 'warning' : 'info', code: 'user-disabled', user: name, rule: 'USER-DISABLED', message }, ...how] };
  }
  if (!tenantUser) return { ...empty, ...notMatched(name, match, options) };

  const findings: Finding[] = [];
  // Found by an on-premises name, not the UPN: said, with the tenant user everything below writes to.
  if (match) findings.push(matchedFinding(name, match, 'info'));
  // Found by UPN, while another tenant user has the username as on-premises UPN: the UPN wins (never a guess), but said.
  else if (tenantUser.sameOnPremisesUpn && tenantUser.sameOnPremisesUpn.length > 0) findings.push(upnOverOnPremisesFinding(name, tenantUser));
  // Migrated all the same (the account may be enabled later), but said (a black-box test found no note).
  if (tenantUser.accountEnabled === false) {
    findings.push({ severity: 'info', code: 'account-disabled-in-tenant', user: name, rule: 'USER-MATCH', message: 'the tenant account is disabled (accountEnabled false): its methods are written, but the user cannot sign in until the account is enabled' });
  }
  // With --prune a tenant mobile MFA Server does not have goes: it cannot keep a backup phone from
  // becoming the mobile (Graph refuses an alternateMobile without a mobile, and deleting a mobile beside one).
  const phones = mapPhones(user, options.prune ? undefined : tenantUser.phones.find((p) => p.phoneType === 'mobile')?.phoneNumber);
  findings.push(...phones.findings, ...replacedPhoneFindings(name, phones.phones, tenantUser.phones));
  const desiredTypes = new Set(phones.phones.map((p) => p.phoneType));
  let cloudOnlyPhones: CloudOnlyPhone[] = tenantUser.phones
    .filter((p) => !desiredTypes.has(p.phoneType))
    .map((p) => ({ phoneType: p.phoneType, phoneNumber: p.phoneNumber, rule: (options.prune ? 'PHONE-PRUNE' : 'PHONE-KEEP-CLOUD') as RuleId }));

  const oath = mapOathTokens(user, input.seeds, tenantUser, input.inventory, input.seedLeftOut);
  findings.push(...oath.findings);

  if (input.devices.length > 0) {
    findings.push({
      severity: tenantUser.authenticatorCount > 0 ? 'info' : 'warning',
      code: 'mobile-app-reregistration',
      user: name,
      rule: 'APP-REREGISTER',
      message:
        tenantUser.authenticatorCount > 0
          ? `${input.devices.length} MFA Server mobile app device(s); the user already has Microsoft Authenticator in Entra`
          : `${input.devices.length} MFA Server mobile app device(s) cannot be moved: the user must register Microsoft Authenticator (registration campaign)`,
    });
  }
  // Each PIN mode the user has is said: several can be on.
  if (user.phoneCallMode === 'pin') {
    findings.push({ severity: 'info', code: 'pin-mode', user: name, rule: 'USER-PIN-MODE', message: 'phone call PIN mode: no per-user PIN in Entra (voice OTP or Authenticator instead)' });
  }
  if (user.mobileAppMode === 'pin') {
    findings.push({ severity: 'info', code: 'pin-mode', user: name, rule: 'USER-PIN-MODE', message: 'mobile app PIN mode: replaced by number matching' });
  }
  if (user.textMessageMode === 'otp_pin') {
    findings.push({ severity: 'info', code: 'pin-mode', user: name, rule: 'USER-SMS-PIN-MODE', message: 'text message OTP + PIN mode: no per-user PIN in Entra (the SMS code alone, or Authenticator instead)' });
  }
  if (user.textMessageDirection === 'two_way') {
    findings.push({ severity: 'info', code: 'two-way-sms', user: name, rule: 'USER-TWO-WAY-SMS', message: 'two-way text message becomes one-way SMS codes' });
  }

  const { email, findings: emailFindings } = mapEmail(user, options.includeEmail);
  findings.push(...emailFindings, ...replacedEmailFindings(name, email, tenantUser.emails));

  // Methods the user will have once the plan is applied, and what the policy lets them use.
  const hardware = oath.tokens.length > 0 || tenantUser.hardwareOath.some((t) => t.status === undefined || t.status === 'activated');
  const software = tenantUser.softwareOathCount > 0;
  const policy: UserPolicy | undefined = tenantUser.policyGroups ? userPolicy(input.policy.after, tenantUser.id, tenantUser.policyGroups) : undefined;
  const phonesAfter = (cloud: typeof cloudOnlyPhones) => new Set<PhoneType>([...desiredTypes, ...cloud.filter((p) => p.rule !== 'PHONE-PRUNE').map((p) => p.phoneType)]);
  const availableWith = (phonesLeft: ReadonlySet<PhoneType>) => {
    const available = new Set<DefaultMethod>();
    if (tenantUser.authenticatorCount > 0) available.add('push');
    if (hardware || software) available.add('oath');
    if (phonesLeft.has('mobile')) {
      available.add('sms');
      available.add('voiceMobile');
    }
    if (phonesLeft.has('alternateMobile')) available.add('voiceAlternateMobile');
    if (phonesLeft.has('office')) available.add('voiceOffice');
    return available;
  };

  // The mobile number SMS would go to: MFA Server's, else the tenant's kept one. Typed only when asked.
  const plannedMobile = phones.phones.find((p) => p.phoneType === 'mobile')?.phoneNumber;
  const mobileNumber = plannedMobile ?? tenantUser.phones.find((p) => p.phoneType === 'mobile')?.phoneNumber;
  let lineType: string | null | undefined;
  const mobileSmsLess = () => (lineType ??= (mobileNumber !== undefined ? smsLessLineType(mobileNumber) : undefined) ?? null);
  const decide = (methods: ReadonlySet<DefaultMethod>) =>
    decideDefaultMethod({
      user,
      current: tenantUser.defaultMethod,
      available: methods,
      enabledByPolicy: policy ? enabledDefaultsFor(policy, { hardware, software }) : input.policy.enabledForAnyone,
      reportUnusableCurrent: policy !== undefined,
      ...(phones.primaryType ? { primaryType: phones.primaryType } : {}),
      ...(phones.backupType ? { backupType: phones.backupType } : {}),
      mode: options.defaultMethod,
      mobileSmsLess,
    });
  const decideFor = (available: ReadonlySet<DefaultMethod>): DefaultMethodDecision => {
    const decided = decide(available);
    // A token left out for want of its seed must not move the user's default: had it been there, would
    // the decision differ? Then the default is left as it is.
    if (!oath.findings.some((f) => f.code === 'seed-missing') || decide(new Set([...available, 'oath'])).target === decided.target) return decided;
    return {
      rule: 'DEFAULT-KEPT-TOKEN-MISSING',
      because: `the user's token ${user.oathTokenSerial} has no seed: the default method is left as it is`,
      findings: [
        {
          severity: 'warning',
          code: 'default-kept-token-missing',
          user: name,
          rule: 'DEFAULT-KEPT-TOKEN-MISSING',
          message: `default method left ${tenantUser.defaultMethod ?? 'unset'}: token ${user.oathTokenSerial} has no seed (add its seed file and plan again to migrate it)`,
        },
      ],
    };
  };
  let defaultMethod = decideFor(availableWith(phonesAfter(cloudOnlyPhones)));
  if (options.prune) {
    // Graph refuses to delete the phone behind the default: where the plan does not move the
    // default off it, the phone stays, and the default is decided again with it there.
    const kept = keepPrunedPhones(name, cloudOnlyPhones, defaultMethod.target ?? tenantUser.defaultMethod);
    if (kept.findings.length > 0) {
      cloudOnlyPhones = kept.phones;
      findings.push(...kept.findings);
      defaultMethod = decideFor(availableWith(phonesAfter(cloudOnlyPhones)));
    }
  }
  const finalPhones = phonesAfter(cloudOnlyPhones);

  if (policy) {
    const unusable = [
      ...[...finalPhones].filter((t) => !phoneUsable(policy, t)).map((t) => `${PHONE_LABEL[t]} phone`),
      ...(hardware && !policy.hardwareOath ? ['hardware OATH token'] : []),
      ...(software && !policy.softwareOath ? ['software OATH token'] : []),
      ...(tenantUser.authenticatorCount > 0 && !policy.authenticator ? ['Microsoft Authenticator'] : []),
    ];
    if (unusable.length > 0) {
      findings.push({
        severity: 'warning',
        code: 'method-not-enabled',
        user: name,
        rule: 'POL-USER-NOT-TARGETED',
        message: `the authentication methods policy, as the plan leaves it, does not let the user sign in with: ${unusable.join(', ')} (not targeted at the user or a group holding them, or excluded)`,
      });
    }
  }

  findings.push(...defaultMethod.findings);
  // SMS the plan points at a landline (its default, or its number under the tenant's SMS default) is said.
  const tenantMobile = tenantUser.phones.find((p) => p.phoneType === 'mobile')?.phoneNumber;
  const writesMobile = plannedMobile !== undefined && (tenantMobile === undefined || !sameNumber(tenantMobile, plannedMobile));
  const smsAfter = (defaultMethod.target ?? tenantUser.defaultMethod) === 'sms' && (defaultMethod.target === 'sms' || writesMobile);
  const smsLess = smsAfter ? mobileSmsLess() : null;
  if (smsLess !== null) {
    findings.push({
      severity: 'warning',
      code: 'sms-to-landline',
      user: name,
      rule: 'DEFAULT-SMS-LANDLINE',
      message: `the default method is SMS, but the mobile phone's number is ${smsLess === 'fixed line' ? 'a landline' : `a ${smsLess} number`} (libphonenumber: ${smsLess}), which may not receive text messages: check the number, or set voiceMobile as the default${defaultMethod.target === 'sms' ? ` (${defaultMethod.because})` : ''}`,
    });
  }
  if (defaultMethod.target !== undefined && defaultMethod.target !== tenantUser.defaultMethod && tenantUser.isSystemPreferredEnabled === true) {
    findings.push({
      severity: 'info',
      code: 'default-ignored-system-preferred',
      user: name,
      rule: 'DEFAULT-SYSTEM-PREFERRED',
      message: `system-preferred MFA is on for the user: the default ${defaultMethod.target} set here is used only by the NPS extension and the AD FS adapter; Entra prompts for the method it prefers`,
    });
  }

  const methodsAfter = usableMethods({ phones: [...finalPhones], hardwareOath: hardware, softwareOath: software, authenticator: tenantUser.authenticatorCount > 0, passwordless: (tenantUser.passwordlessCount ?? 0) > 0 }, policy);
  const methodsBeforeWrites = usableMethods(
    {
      phones: tenantUser.phones.map((p) => p.phoneType),
      hardwareOath: tenantUser.hardwareOath.some((t) => t.status === undefined || t.status === 'activated'),
      softwareOath: software,
      authenticator: tenantUser.authenticatorCount > 0,
      passwordless: (tenantUser.passwordlessCount ?? 0) > 0,
    },
    policy,
  );
  // Said whatever the default-method mode (a black-box test saw such users counted, and named by no finding, with most-secure-if-unset and never).
  if (!hasCloudMethod(methodsAfter) && !findings.some((f) => f.code === 'default-method-unset')) {
    findings.push({ severity: 'warning', code: 'no-usable-method', user: name, rule: 'USER-NO-METHOD', message: 'once the plan is applied the user has no cloud MFA method the policy lets them use: they cannot do Entra MFA until one is registered (a phone, a token Entra takes, Microsoft Authenticator)' });
  }
  return {
    user: name,
    tenantUser,
    ...(match ? { match } : {}),
    phones: phones.phones,
    cloudOnlyPhones,
    ...(email ? { email } : {}),
    tokens: oath.tokens,
    defaultMethod,
    methodsAfter,
    methodsBeforeWrites,
    findings,
  };
}

const who = (u: MatchedUser) => `${u.upn} (object id ${u.id}${u.onPremisesDomainName ? `, onPremisesDomainName ${u.onPremisesDomainName}` : ''})`;
const listOf = (users: readonly MatchedUser[]) => users.map(who).join(', ');

/** How a DOMAIN\sam user's domain was told: the DNS domain --netbios-domain gives, or the first label. */
function domainRule(m: UserMatch): string {
  return m.dns_domain !== undefined ? `--netbios-domain ${m.domain}=${m.dns_domain}` : `told by the first label of onPremisesDomainName`;
}

/** A user found by UPN whose UPN other tenant users have as onPremisesUserPrincipalName (USER-MATCH). */
function upnOverOnPremisesFinding(name: string, t: TenantUser): Finding {
  const others = t.sameOnPremisesUpn!;
  return {
    severity: 'warning',
    code: 'user-match-upn-other-on-premises',
    user: name,
    rule: 'USER-MATCH',
    message: `matched by UPN to ${who({ id: t.id, upn: t.userPrincipalName, onPremisesDomainName: null })}, but ${others.length} other tenant user(s) have ${name} as onPremisesUserPrincipalName: ${listOf(others)}. The UPN is matched first, so the plan writes to ${t.userPrincipalName}; if MFA Server's user is the synced account (Entra Connect gives a synced user whose UPN another user holds a UPN of its own), put that user's Entra UPN in users.csv and plan again`,
  };
}

/** An ambiguous DOMAIN\sam whose users are not all of DOMAIN by the first label: --netbios-domain would tell them apart. */
function guessedDomain(m: UserMatch): boolean {
  if (m.domain === undefined || m.dns_domain !== undefined) return false;
  // Candidates in more than one domain (two forests' corp.*, say): --netbios-domain tells which is DOMAIN's.
  const domains = new Set(m.users.map((u) => (u.onPremisesDomainName ?? '').toLowerCase()));
  return domains.size > 1 || m.users.some((u) => !u.onPremisesDomainName || firstLabel(u.onPremisesDomainName).toLowerCase() !== m.domain!.toLowerCase());
}

/** The info finding of a user found by an on-premises name (rule USER-MATCH-ONPREM-UPN or USER-MATCH-SAM). */
function matchedFinding(name: string, m: UserMatch, severity: 'info'): Finding {
  const u = m.users[0]!;
  const inDomain = m.domain !== undefined ? ` in domain ${m.domain} (${domainRule(m)})` : '';
  return {
    severity,
    code: 'user-matched-on-premises',
    user: name,
    rule: m.rule,
    message: `no tenant user has the UPN ${name}: matched by ${m.by} ${m.value}${inDomain}, the one tenant user that has it, to ${who(u)}; the plan writes to that user`,
  };
}

/** A user skipped for `skip`, with the one finding that says why. */
function skippedWith(skip: NonNullable<UserMapping['skipped']>, finding: Finding): Pick<UserMapping, 'skipped' | 'findings'> {
  return { skipped: skip, findings: [finding] };
}

/** A user with no tenant user: not found at all, or looked up by an on-premises name and refused (never guessed). */
function notMatched(name: string, m: UserMatch | undefined, options: MappingOptions): Pick<UserMapping, 'skipped' | 'findings'> {
  const inDomain = m?.domain !== undefined ? ` in domain ${m.domain}` : '';
  const ambiguous = { code: 'user-ambiguous', rule: 'USER-MATCH-AMBIGUOUS' } as const;
  if (m?.outcome === 'ambiguous') {
    return skippedWith(ambiguous, {
      severity: 'error',
      code: 'user-match-ambiguous',
      user: name,
      rule: 'USER-MATCH-AMBIGUOUS',
      message: guessedDomain(m)
        ? `no tenant user has the UPN ${name}, and ${m.users.length} tenant users have ${m.by} ${m.value} in domains that may be ${m.domain}'s (Graph gives no NetBIOS name: the first label of onPremisesDomainName only guesses it, and --netbios-domain gives none of theirs to another name): ${listOf(m.users)}: not matched (never guessed), nothing is written for the user; plan again with --netbios-domain ${m.domain}=<its DNS domain>, or make the username their UPN in users.csv`
        : `no tenant user has the UPN ${name}, and ${m.users.length} tenant users have ${m.by} ${m.value}${inDomain}: ${listOf(m.users)}: not matched (never guessed), nothing is written for the user; make the username their UPN in users.csv and plan again`,
    });
  }
  if (m?.outcome === 'shared') {
    return skippedWith(ambiguous, {
      severity: 'error',
      code: 'user-match-shared',
      user: name,
      rule: 'USER-MATCH-AMBIGUOUS',
      message: `no tenant user has the UPN ${name}; ${m.by} ${m.value}${inDomain} is ${who(m.users[0]!)}'s, the tenant user the export's user ${m.shared_with} is matched to as well: not matched, nothing is written for ${name} (MFA Server holds the person twice: keep one of the rows)`,
    });
  }
  if (m?.outcome === 'domain-differs') {
    const remedy = m.dns_domain !== undefined ? `--netbios-domain gives ${m.domain}=${m.dns_domain}` : `if ${m.domain} is the NetBIOS name of one of these domains, plan again with --netbios-domain ${m.domain}=<that domain>`;
    return skippedWith(
      { code: 'user-not-found', rule: 'USER-MATCH-SAM' },
      {
        severity: 'warning',
        code: 'user-match-domain-differs',
        user: name,
        rule: 'USER-MATCH-SAM',
        message: `no tenant user has the UPN ${name}; ${m.users.length} tenant user(s) have ${m.by} ${m.value}, but none in domain ${m.domain} (${domainRule(m)}): ${listOf(m.users)}: not matched, skipped (${remedy})`,
      },
    );
  }
  // Looked up by an on-premises name that no tenant user has: said for a name that is no UPN (a UPN's message is as it always was).
  const looked = options.matchBy?.includes('on-premises') ? onPremisesName(name) : undefined;
  const also = looked?.by === 'onPremisesSamAccountName' ? `, nor the onPremisesSamAccountName ${looked.value}${looked.domain !== undefined ? ` in domain ${looked.domain}` : ''}` : '';
  return skippedWith({ code: 'user-not-found', rule: 'USER-NOT-FOUND' }, { severity: 'warning', code: 'user-not-found', user: name, rule: 'USER-NOT-FOUND', message: `no tenant user has the UPN ${name}${also}: skipped` });
}

/** Counts what the migrating (enabled) users use: drives which policy methods must be enabled. */
export function methodUsage(users: MfaUser[], tokenUsers: ReadonlySet<string>, deviceUsers: ReadonlySet<string>): MethodUsage {
  const usage: MethodUsage = { phoneCall: 0, textMessage: 0, mobileApp: 0, oathToken: 0, officePhones: 0, phones: 0, pinPhoneCall: 0, pinMobileApp: 0, pinTextMessage: 0, twoWaySms: 0, languages: 0 };
  for (const u of users) {
    if (!u.enabled) continue;
    const key = u.username.toLowerCase();
    if (u.defaultMethod === 'phone_call') usage.phoneCall++;
    if (u.defaultMethod === 'text_message') usage.textMessage++;
    if (u.defaultMethod === 'mobile_app' || deviceUsers.has(key)) usage.mobileApp++;
    if (u.defaultMethod === 'oath_token' || tokenUsers.has(key)) usage.oathToken++;
    const phones = mapPhones(u, undefined).phones;
    if (phones.length > 0) usage.phones++;
    if (phones.some((p) => p.phoneType === 'office')) usage.officePhones++;
    if (u.phoneCallMode === 'pin') usage.pinPhoneCall++;
    if (u.mobileAppMode === 'pin') usage.pinMobileApp++;
    if (u.textMessageMode === 'otp_pin') usage.pinTextMessage++;
    if (u.textMessageDirection === 'two_way') usage.twoWaySms++;
    if (u.language) usage.languages++;
  }
  return usage;
}
