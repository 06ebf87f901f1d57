import type * as Graph from '@microsoft/microsoft-graph-types-beta';
import type { DefaultMethod, PhoneType } from '../model/tenant.js';
import { findConfig, type PolicyChange } from './policy-rules.js';

/** The method configurations that decide whether a migrated method can be used to sign in. */
const METHOD_CONFIGS = ['Voice', 'Sms', 'MicrosoftAuthenticator', 'HardwareOath', 'SoftwareOath'] as const;
type MethodConfig = (typeof METHOD_CONFIGS)[number];

interface Target {
  id: string;
  targetType?: string;
}

/** One method configuration as it will be once the plan's changes are applied. */
interface ConfigAfter {
  enabled: boolean;
  include: Target[];
  exclude: Target[];
}

/**
 * The authentication methods policy as it will be once the plan is applied, reduced to what decides
 * who can sign in with what: each method's state, include and exclude targets, and the two switches
 * that widen a method (office phones for voice, Authenticator's OATH codes).
 */
export interface PolicyAfter {
  configs: Record<MethodConfig, ConfigAfter>;
  officePhoneAllowed: boolean;
  authenticatorOtp: boolean;
}

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

export function policyAfter(policy: Graph.AuthenticationMethodsPolicy, changes: readonly PolicyChange[]): PolicyAfter {
  const after = (id: string, property: string, current: unknown): unknown => {
    const c = changes.find((x) => x.target.toLowerCase() === `authenticationmethodconfigurations/${id.toLowerCase()}` && x.property === property);
    return c ? c.after : current;
  };
  const targets = (value: unknown): Target[] => (Array.isArray(value) ? value.filter((t): t is Target => typeof (t as Target | null)?.id === 'string') : []);
  const configs = {} as Record<MethodConfig, ConfigAfter>;
  for (const id of METHOD_CONFIGS) {
    const c = findConfig(policy, id) as (Record<string, unknown> & { state?: string | null }) | undefined;
    configs[id] = {
      enabled: after(id, 'state', c?.state) === 'enabled',
      include: targets(after(id, 'includeTargets', c?.includeTargets)),
      exclude: targets(after(id, 'excludeTargets', c?.excludeTargets)),
    };
  }
  return {
    configs,
    officePhoneAllowed: after('Voice', 'isOfficePhoneAllowed', findConfig(policy, 'Voice')?.isOfficePhoneAllowed) === true,
    authenticatorOtp: after('MicrosoftAuthenticator', 'isSoftwareOathEnabled', findConfig(policy, 'MicrosoftAuthenticator')?.isSoftwareOathEnabled) === true,
  };
}

/**
 * The groups whose members the policy's targets name, once the plan is applied (all_users left
 * out): planning reads their members (nested groups included) to tell, user by user, what is enabled.
 */
export function policyTargetGroups(view: PolicyAfter): string[] {
  const ids = new Set<string>();
  for (const c of Object.values(view.configs)) {
    for (const t of [...c.include, ...c.exclude]) if (t.id.toLowerCase() !== 'all_users' && t.targetType !== 'user') ids.add(t.id.toLowerCase());
  }
  return [...ids].sort();
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
  const holds = (t: Target) => {
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
