import type { PhoneType } from './tenant.js';
import { phoneUsable, type UserPolicy } from './policy-view.js';

/*
 * What a user can sign in with in Entra once the plan is applied, by kind: in the model, so that the
 * plan's rules and apply's re-read of a federated domain's users outside the plan judge a user alike.
 */

/**
 * The MFA methods a user will have in Entra once the plan is applied. Email is not one: Entra uses
 * email one-time codes for self-service password reset, not for MFA sign-in.
 */
export interface MethodsAfter {
  readonly phones: readonly PhoneType[];
  /** A hardware (activated or planned) or software OATH token. */
  readonly oath: boolean;
  readonly authenticator: boolean;
  /** Passkeys (FIDO2), Windows Hello for Business, platform credentials. */
  readonly passwordless: boolean;
}

/** The methods a user holds, by kind (hardware OATH: activated, or planned to be). */
export interface HeldMethods {
  phones: PhoneType[];
  hardwareOath: boolean;
  softwareOath: boolean;
  authenticator: boolean;
  passwordless: boolean;
}

/** Of the methods a user holds, those the authentication methods policy lets them use (all, when the policy's view of the user is not known). */
export function usableMethods(held: HeldMethods, policy: UserPolicy | undefined): MethodsAfter {
  return sharedMethods(
    held.phones.filter((t) => !policy || phoneUsable(policy, t)),
    policy ? (held.hardwareOath && policy.hardwareOath) || (held.softwareOath && policy.softwareOath) : held.hardwareOath || held.softwareOath,
    held.authenticator && (!policy || policy.authenticator),
    held.passwordless,
  );
}

/**
 * One frozen object for each distinct set of methods (a few dozen at most: three phone types and
 * three flags), shared by every user who has it: a plan keeps two for every user, and a
 * 100,000-user plan check held 11 MB of them, nearly all alike, at its largest.
 */
const SHARED_METHODS = new Map<string, MethodsAfter>();

function sharedMethods(phones: readonly PhoneType[], oath: boolean, authenticator: boolean, passwordless: boolean): MethodsAfter {
  const key = `${phones.join(',')}|${Number(oath)}${Number(authenticator)}${Number(passwordless)}`;
  let m = SHARED_METHODS.get(key);
  if (!m) SHARED_METHODS.set(key, (m = Object.freeze({ phones: Object.freeze([...phones]), oath, authenticator, passwordless })));
  return m;
}

/** Whether the user can do MFA in Entra at all once the plan is applied. */
export function hasCloudMethod(m: MethodsAfter): boolean {
  return m.phones.length > 0 || m.oath || m.authenticator || m.passwordless;
}
