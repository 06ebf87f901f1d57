import type { MethodConfig } from './method-policy.js';
import type { PhoneType, TenantUser } from './tenant.js';
import { phoneUsable, type UserPolicy } from './policy-view.js';

/** The phone types a user may hold, in the order status lists them. */
export const PHONES: readonly PhoneType[] = ['mobile', 'alternateMobile', 'office'];

/**
 * The cloud MFA methods a user holds, each with whether the policy lets them use it (status's and
 * rollback's judgement of who can sign in): phones by type, an activated hardware token,
 * software OATH, Authenticator, and passwordless methods (which the policy's parts read here never turn off).
 */
export function heldMethods(u: TenantUser, policy: UserPolicy): [string, boolean][] {
  return [
    ...PHONES.filter((t) => u.phones.some((p) => p.phoneType === t)).map((t): [string, boolean] => [t, phoneUsable(policy, t)]),
    ...(u.hardwareOath.some((t) => t.status === undefined || t.status === 'activated') ? [['hardwareOath', policy.hardwareOath] as [string, boolean]] : []),
    ...(u.softwareOathCount > 0 ? [['softwareOath', policy.softwareOath] as [string, boolean]] : []),
    ...(u.authenticatorCount > 0 ? [['authenticator', policy.authenticator] as [string, boolean]] : []),
    ...((u.passwordlessCount ?? 0) > 0 ? [['passwordless', true] as [string, boolean]] : []),
  ];
}

/** Whether the user holds a method the policy lets them use. */
export const canSignIn = (u: TenantUser, policy: UserPolicy): boolean => heldMethods(u, policy).some(([, usable]) => usable);

/**
 * The method configurations that let the user use what they can use now: taking any of these
 * back may take a usable method away (SMS or voice for a mobile phone, voice for the others,
 * Authenticator for its OATH codes as well as its own).
 */
export function configsInUse(u: TenantUser, policy: UserPolicy): Set<MethodConfig> {
  const out = new Set<MethodConfig>();
  for (const [method, usable] of heldMethods(u, policy)) {
    if (!usable) continue;
    if (method === 'mobile') {
      if (policy.sms) out.add('Sms');
      if (policy.voice) out.add('Voice');
    } else if (method === 'alternateMobile' || method === 'office') out.add('Voice');
    else if (method === 'hardwareOath') out.add('HardwareOath');
    else if (method === 'softwareOath') {
      out.add('SoftwareOath');
      out.add('MicrosoftAuthenticator');
    } else if (method === 'authenticator') out.add('MicrosoftAuthenticator');
  }
  return out;
}
