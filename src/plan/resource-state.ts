import type { AuthenticationMethodsPolicy } from '@microsoft/microsoft-graph-types-beta';
import { sameNumber } from '../mapping/phone-rules.js';
import { findConfig } from '../mapping/policy-rules.js';
import { canonicalJson } from './fingerprint.js';
import { serialKey } from '../model/serial.js';
import type { TenantHardwareToken, TenantUser } from '../model/tenant.js';

/**
 * The tenant state of one plan resource, in the shape the plan records as `before`. The plan
 * builds `before` with these functions and apply re-reads the tenant and calls them again: equal
 * fingerprints mean the object has not changed since the plan.
 */
export function userResourceState(resource: string, user: TenantUser, inventory: ReadonlyMap<string, TenantHardwareToken[]>): Record<string, unknown> | null {
  const [kind, key] = splitResource(resource);
  switch (kind) {
    case 'phoneMethods': {
      const p = user.phones.find((x) => x.phoneType === key);
      return p ? { phoneNumber: p.phoneNumber, phoneType: p.phoneType } : null;
    }
    case 'emailMethods': {
      const e = user.emails[0];
      return e ? { emailAddress: e.emailAddress } : null;
    }
    case 'hardwareOathMethods': {
      const t = tokenFor(key!, user.id, inventory) ?? heldOnly(key!, user);
      return t ? { id: t.id, serialNumber: t.serialNumber, status: t.status, assignedTo: t.assignedToId ?? null } : null;
    }
    case 'signInPreferences':
      return { userPreferredMethodForSecondaryAuthentication: user.defaultMethod };
    case 'rolloutGroup':
    case 'campaignGroup':
      // Membership as read with the cutover groups; apply's re-reads of users do not read it (its
      // cutover pre-flight compares the groups themselves), and then it counts as absent.
      return user.memberOf?.includes(key!) ? { groupId: key } : null;
    default:
      throw new Error(`unknown plan resource ${resource}`);
  }
}

/** A token the user holds that the inventory list does not show (an older admin-center upload). */
function heldOnly(serial: string, user: TenantUser): TenantHardwareToken | undefined {
  const t = user.hardwareOath.find((x) => x.notInInventory && x.serialNumber !== undefined && serialKey(x.serialNumber) === serialKey(serial));
  return t ? { id: t.id, serialNumber: t.serialNumber!, status: t.status ?? 'assigned', assignedToId: user.id } : undefined;
}

/** The inventory token a plan resource `hardwareOathMethods/<serial>` stands for: the user's own, else an unassigned one. */
export function tokenFor(serial: string, userId: string, inventory: ReadonlyMap<string, TenantHardwareToken[]>): TenantHardwareToken | undefined {
  const candidates = inventory.get(serialKey(serial)) ?? [];
  return candidates.find((t) => t.assignedToId === userId) ?? candidates.find((t) => t.assignedToId === undefined);
}

export function splitResource(resource: string): [string, string | undefined] {
  const i = resource.indexOf('/');
  return i < 0 ? [resource, undefined] : [resource.slice(0, i), resource.slice(i + 1)];
}

/** A method configuration of the policy, by id (case-insensitive). */
export function methodConfiguration(policy: AuthenticationMethodsPolicy, id: string): Record<string, unknown> | undefined {
  return findConfig(policy, id) as Record<string, unknown> | undefined;
}

/** Whether two states of one plan resource are the same: phone numbers whatever their spacing, email addresses whatever their case. */
export function sameResourceState(resource: string, a: Record<string, unknown> | null, b: Record<string, unknown> | null): boolean {
  if (!a || !b) return a === b;
  const [kind] = splitResource(resource);
  if (kind === 'phoneMethods') return sameNumber(String(a.phoneNumber), String(b.phoneNumber));
  if (kind === 'emailMethods') return String(a.emailAddress).toLowerCase() === String(b.emailAddress).toLowerCase();
  return canonicalJson(a) === canonicalJson(b);
}

/** The current value of one policy property a plan change names. */
export function policyPropertyState(policy: AuthenticationMethodsPolicy, target: string, property: string): unknown {
  if (target.startsWith('authenticationMethodConfigurations/')) {
    const config = findConfig(policy, target.slice('authenticationMethodConfigurations/'.length)) as Record<string, unknown> | undefined;
    return config?.[property] ?? null;
  }
  if (target === 'registrationEnforcement/authenticationMethodsRegistrationCampaign') {
    return (policy.registrationEnforcement?.authenticationMethodsRegistrationCampaign as Record<string, unknown> | undefined)?.[property] ?? null;
  }
  if (target === 'reportSuspiciousActivitySettings') {
    return (policy.reportSuspiciousActivitySettings as Record<string, unknown> | undefined)?.[property] ?? null;
  }
  throw new Error(`unknown policy target ${target}`);
}
