import type { TenantRolloutMember, TenantUser } from './tenant.js';

/** A tenant user, as a member of a group the plan switches: their methods by kind. */
export function rolloutMember(t: TenantUser): TenantRolloutMember {
  return {
    id: t.id,
    userPrincipalName: t.userPrincipalName,
    memberOf: [...(t.memberOf ?? [])],
    policyGroups: [...(t.policyGroups ?? [])],
    phones: t.phones.map((p) => p.phoneType),
    hardwareOath: t.hardwareOath.some((h) => h.status === undefined || h.status === 'activated'),
    softwareOath: t.softwareOathCount > 0,
    authenticator: t.authenticatorCount > 0,
    passwordless: (t.passwordlessCount ?? 0) > 0,
  };
}
