import type { TenantCutover, TenantGroup } from './tenant.js';

/** The saved plan's target of the multiFactorAuthentication staged rollout policy (its groups: `.../appliesTo/<id>`). */
export const ROLLOUT_POLICY_TARGET = 'featureRolloutPolicies/multiFactorAuthentication';

/**
 * Staged rollout's documented limits (entra-docs "Migrate to cloud authentication using Staged Rollout"
 * and the MFA Server Migration Utility doc): shared by the plan, which checks them, and apply, which
 * checks them again against the tenant before it writes.
 */
export interface StagedRolloutLimits {
  groupsPerFeature: number;
  membersPerGroup: number;
  membersAtFirstAdd: number;
}

export const STAGED_ROLLOUT_LIMITS: StagedRolloutLimits = { groupsPerFeature: 10, membersPerGroup: 50_000, membersAtFirstAdd: 200 };

/** Why staged rollout cannot use a group at all, or undefined. */
export function unusableGroup(g: TenantGroup, limits: StagedRolloutLimits = STAGED_ROLLOUT_LIMITS): string | undefined {
  if (g.dynamic) return 'a dynamic group: staged rollout does not take dynamic groups (use an assigned group)';
  if (g.groups > 0) return `it holds ${g.groups} group(s): staged rollout does not take nested groups`;
  if (g.contacts > 0) return `it holds ${g.contacts} contact(s): staged rollout takes groups of users only`;
  if (g.users > limits.membersPerGroup) return `it has ${g.users} members: staged rollout takes at most ${limits.membersPerGroup} per group`;
  return undefined;
}

/** The rollout policy's state as a plan records it as `before` (and apply compares it). */
export function rolloutPolicyState(p: { id: string; isEnabled: boolean; isAppliedToOrganization: boolean } | null): Record<string, unknown> | null {
  return p ? { id: p.id, isEnabled: p.isEnabled, isAppliedToOrganization: p.isAppliedToOrganization } : null;
}

/** A domain's federation state as a plan records it. */
/** A domain's federatedIdpMfaBehavior that rejects the federated IdP's MFA: Entra does the MFA of every user of it. */
export const REJECT_IDP_MFA = 'rejectMfaByFederatedIdp';

export function federationState(d: { federationId: string | null; federatedIdpMfaBehavior: string | null } | undefined): Record<string, unknown> | null {
  return d?.federationId ? { id: d.federationId, federatedIdpMfaBehavior: d.federatedIdpMfaBehavior } : null;
}

/**
 * The managed domains read (cloud authentication, lower case): Entra authenticates their users and
 * does their MFA already, so a staged rollout group changes nothing for them (staged rollout moves
 * users of federated domains). None when they were not read (a plan older than 2.17).
 */
export function managedDomainSet(c: Pick<TenantCutover, 'managedDomains'> | undefined): Set<string> {
  return new Set((c?.managedDomains ?? []).map((d) => d.toLowerCase()));
}
