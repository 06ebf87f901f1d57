import type { MfaUser } from '../model/export-data.js';
import type { DefaultMethod, PhoneType } from '../model/tenant.js';
import type { Finding } from './finding.js';
import type { RuleId } from './rules.js';

export type DefaultMethodMode = 'always' | 'if-unset' | 'most-secure-if-unset' | 'never';

/** Most secure first, as Entra's system-preferred MFA orders them (Authenticator, TOTP, telephony). */
export const MOST_SECURE_FIRST: readonly DefaultMethod[] = ['push', 'oath', 'sms', 'voiceMobile', 'voiceAlternateMobile', 'voiceOffice'];
/** The same when the mobile number is a landline: a call reaches it, a text message may not. */
const MOST_SECURE_FIRST_LANDLINE: readonly DefaultMethod[] = ['push', 'oath', 'voiceMobile', 'sms', 'voiceAlternateMobile', 'voiceOffice'];

const VOICE_FOR: Record<PhoneType, DefaultMethod> = { mobile: 'voiceMobile', alternateMobile: 'voiceAlternateMobile', office: 'voiceOffice' };

export interface DefaultMethodInput {
  user: MfaUser;
  /** The tenant's current default (null when unset). */
  current: DefaultMethod | null;
  /** Methods the user will have once the plan is applied (tenant's plus planned). */
  available: ReadonlySet<DefaultMethod>;
  /** Methods the authentication methods policy will enable once the plan is applied. */
  enabledByPolicy: ReadonlySet<DefaultMethod>;
  primaryType?: PhoneType;
  backupType?: PhoneType;
  mode: DefaultMethodMode;
  /** Say when a default the tenant has already, and that is kept, is not one the user can use (the policy judged user by user). */
  reportUnusableCurrent?: boolean;
  /**
   * The type, in words, of the user's mobile number once the plan is applied when it takes no text
   * messages (a landline, a toll-free number...), else null; asked only when SMS could be chosen.
   */
  mobileSmsLess?: () => string | null;
}

export interface DefaultMethodDecision {
  /** The default to set; undefined when nothing is to change. */
  target?: DefaultMethod;
  rule: RuleId;
  because: string;
  findings: Finding[];
}

/** What MFA Server's default method means in Entra, before checking the user and the policy. */
export function serverDefaultInEntra(user: MfaUser, primaryType?: PhoneType, backupType?: PhoneType): DefaultMethod | undefined {
  switch (user.defaultMethod) {
    case 'phone_call': {
      const where = primaryType ?? backupType;
      return where ? VOICE_FOR[where] : 'voiceMobile';
    }
    case 'text_message':
      return 'sms';
    case 'oath_token':
      return 'oath';
    case 'mobile_app':
      return 'push';
    default:
      return undefined;
  }
}

/** The migration utility's three default-method options, checked against the user and the policy. */
export function decideDefaultMethod(input: DefaultMethodInput): DefaultMethodDecision {
  const { user, current, available, enabledByPolicy, mode } = input;
  const name = user.username;
  const usable = (m: DefaultMethod) => available.has(m) && enabledByPolicy.has(m);
  // The most secure method the user will have, worked out only where a decision uses it (typing the
  // number costs a metadata lookup). SMS to a landline may never arrive: voice comes first on one.
  const pickMostSecure = () => {
    const first = MOST_SECURE_FIRST.find(usable);
    const type = first === 'sms' && usable('voiceMobile') ? (input.mobileSmsLess?.() ?? null) : null;
    const landline = type !== null;
    return { mostSecure: landline ? MOST_SECURE_FIRST_LANDLINE.find(usable) : first, landline, landlineNote: landline ? ` (voice before SMS: the mobile number is ${type === 'fixed line' ? 'a landline' : `a ${type} number`})` : '' };
  };

  if (mode === 'never') return { rule: 'DEFAULT-NEVER', because: 'default methods are left as they are (--default-method never)', findings: [] };
  if (mode !== 'always' && current !== null) {
    const findings: Finding[] =
      input.reportUnusableCurrent && !usable(current)
        ? [
            {
              severity: 'warning',
              code: 'default-method-unusable',
              user: name,
              rule: 'DEFAULT-IF-UNSET',
              message: `the tenant's default ${current} is kept, but ${!available.has(current) ? 'the user will not have that method' : 'the authentication methods policy does not let the user use it'}: Entra asks for another method at sign-in (--default-method always sets one the user can use)`,
            },
          ]
        : [];
    return { rule: 'DEFAULT-IF-UNSET', because: `the tenant already has ${current} as the default`, findings };
  }
  if (mode === 'most-secure-if-unset') {
    const { mostSecure, landline, landlineNote } = pickMostSecure();
    return mostSecure
      ? { target: mostSecure, rule: landline ? 'DEFAULT-SMS-LANDLINE' : 'DEFAULT-MOST-SECURE', because: `${mostSecure} is the most secure method the user will have${landlineNote}`, findings: [] }
      : { rule: 'DEFAULT-MOST-SECURE', because: 'the user will have no method the policy enables', findings: [] };
  }

  const wanted = serverDefaultInEntra(user, input.primaryType, input.backupType);
  if (wanted === undefined) {
    return { rule: 'DEFAULT-FROM-SERVER', because: 'MFA Server has no default method for the user', findings: [] };
  }
  if (usable(wanted)) {
    return { target: wanted, rule: 'DEFAULT-FROM-SERVER', because: `MFA Server default ${user.defaultMethod} -> ${wanted}`, findings: [] };
  }
  const why =
    wanted === 'push' && !available.has('push')
      ? 'the user has no Microsoft Authenticator registration in the tenant yet'
      : !available.has(wanted)
        ? `the user will not have a method for ${wanted}`
        : `the authentication methods policy does not enable ${wanted}`;
  const rule: RuleId = wanted === 'push' && !available.has('push') ? 'DEFAULT-PUSH-NEEDS-APP' : 'DEFAULT-POLICY-FALLBACK';
  const { mostSecure, landlineNote } = pickMostSecure();
  if (!mostSecure) {
    return {
      rule,
      because: `${why}, and no other method is available`,
      findings: [{ severity: 'warning', code: 'default-method-unset', user: name, rule, message: `default method ${wanted} not set: ${why}, and the user will have no other usable method` }],
    };
  }
  return {
    target: mostSecure,
    rule,
    because: `${why}; ${mostSecure} is the most secure method available${landlineNote}`,
    findings: [{ severity: 'info', code: 'default-method-fallback', user: name, rule, message: `default method ${wanted} replaced by ${mostSecure}: ${why}` }],
  };
}
