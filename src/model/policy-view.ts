import type { DefaultMethod, PhoneType } from './tenant.js';
import type { MethodConfig, MethodTarget, PolicyAfter } from './method-policy.js';

/** What the methods a user has are good for under the policy once the plan is applied. */
export interface UserPolicy {
  voice: boolean;
  sms: boolean;
  officePhones: boolean;
  authenticator: boolean;
  hardwareOath: boolean;
  /** Third-party software OATH tokens (the SoftwareOath method, or Authenticator's OATH codes). */
  softwareOath: boolean;
}

/**
 * What the policy lets one user use: a method is theirs when it is enabled, one of its include
 * targets is all users, the user or a group holding the user, and no exclude target holds them
 * (Entra: exclusion wins). `groups` are the target groups holding the user.
 */
export function userPolicy(view: PolicyAfter, userId: string, groups: readonly string[]): UserPolicy {
  // Object ids compare case aside, as Graph compares them (a target may be written in capitals).
  const mine = new Set(groups.map((g) => g.toLowerCase()));
  const me = userId.toLowerCase();
  const holds = (t: MethodTarget) => {
    const id = t.id.toLowerCase();
    return id === 'all_users' || id === me || mine.has(id);
  };
  const on = (id: MethodConfig) => {
    const c = view.configs[id];
    return c.enabled && c.include.some(holds) && !c.exclude.some(holds);
  };
  const voice = on('Voice');
  const authenticator = on('MicrosoftAuthenticator');
  return {
    voice,
    sms: on('Sms'),
    officePhones: voice && view.officePhoneAllowed,
    authenticator,
    hardwareOath: on('HardwareOath'),
    softwareOath: on('SoftwareOath') || (authenticator && view.authenticatorOtp),
  };
}

/** Whether a phone of this type can be used at all (voice, or SMS to a mobile). */
export function phoneUsable(p: UserPolicy, type: PhoneType): boolean {
  return type === 'mobile' ? p.voice || p.sms : type === 'office' ? p.officePhones : p.voice;
}

/** The default methods the policy lets the user have; `oath` by the kinds of token the user will hold. */
export function enabledDefaultsFor(p: UserPolicy, oath: { hardware: boolean; software: boolean }): Set<DefaultMethod> {
  const out = new Set<DefaultMethod>();
  if (p.authenticator) out.add('push');
  const oathOn = oath.hardware || oath.software ? (oath.hardware && p.hardwareOath) || (oath.software && p.softwareOath) : p.hardwareOath || p.softwareOath;
  if (oathOn) out.add('oath');
  if (p.sms) out.add('sms');
  if (p.voice) {
    out.add('voiceMobile');
    out.add('voiceAlternateMobile');
  }
  if (p.officePhones) out.add('voiceOffice');
  return out;
}

