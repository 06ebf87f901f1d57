import { phoneUsable, type UserPolicy } from '../model/policy-view.js';
import type { PhoneType, TenantUser } from '../model/tenant.js';
import type { MethodKind, UserChange } from './plan-model.js';

const ORDER: readonly MethodKind[] = ['microsoftAuthenticator', 'hardwareOath', 'softwareOath', 'mobilePhone', 'alternateMobilePhone', 'officePhone'];
const PHONE_KIND: Record<string, MethodKind> = { mobile: 'mobilePhone', alternateMobile: 'alternateMobilePhone', office: 'officePhone' };

/**
 * The sign-in methods a user holds once the plan is applied: what the tenant has, with the plan's
 * phones created or deleted and tokens activated. Email is not counted (Entra does not take it as a
 * second factor for sign-in), nor is a method the authentication methods policy does not enable for
 * the user (`policy`, when known). An empty list is a user left with no usable method.
 */
export function methodsAfter(t: TenantUser, changes: readonly UserChange[], policy?: UserPolicy): MethodKind[] {
  const kinds = new Set<MethodKind>();
  if (t.authenticatorCount > 0 && (!policy || policy.authenticator)) kinds.add('microsoftAuthenticator');
  if (t.softwareOathCount > 0 && (!policy || policy.softwareOath)) kinds.add('softwareOath');
  const hardwareOn = !policy || policy.hardwareOath;
  if (hardwareOn && t.hardwareOath.some((h) => h.status === undefined || h.status === 'activated')) kinds.add('hardwareOath');
  const phones = new Set(t.phones.map((p) => p.phoneType as string));
  for (const c of changes) {
    const [kind, key] = c.resource.split('/', 2);
    if (kind === 'phoneMethods' && key) {
      if (c.action === 'delete') phones.delete(key);
      else phones.add(key);
    } else if (hardwareOn && kind === 'hardwareOathMethods' && c.action !== 'delete' && (c.after?.status ?? c.before?.status) === 'activated') {
      kinds.add('hardwareOath');
    }
  }
  for (const p of phones) if (PHONE_KIND[p] && (!policy || phoneUsable(policy, p as PhoneType))) kinds.add(PHONE_KIND[p]);
  return ORDER.filter((k) => kinds.has(k));
}
