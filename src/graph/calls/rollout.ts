import type { TenantRolloutPolicy } from '../../model/tenant.js';
import type { GraphCall } from '../graph-call.js';
import { directoryObjectRef } from './groups.js';

/**
 * Staged rollout (featureRolloutPolicy), on v1.0: its `stagedFeatureName` has multiFactorAuthentication,
 * while beta's published types lack it. Graph has no application permission for these: the caller signs
 * in as an admin (delegated Policy.ReadWrite.HybridAuthentication).
 */
const POLICIES = '/policies/featureRolloutPolicies';

/**
 * `multiFactorAuthentication` comes after `unknownFutureValue` in stagedFeatureName (an evolvable
 * enum): without this preference Graph answers `unknownFutureValue` for it, and the MFA policy is
 * never recognised. Sent with every call that reads a policy or may answer with one (list, get,
 * create, update); the group attach and detach and the delete answer none.
 */
const UNKNOWN_ENUM_MEMBERS = { Prefer: 'include-unknown-enum-members' } as const;

/** The staged rollout feature that moves users from MFA Server (or a federated IdP's MFA) to Entra MFA. */
export const MFA_FEATURE = 'multiFactorAuthentication';

/**
 * Every rollout policy of the tenant (one per feature at most), each with the groups it applies to.
 * The list, not a GET of one policy: only the list takes `$expand` and the read-only permission
 * (Policy.Read.HybridAuthentication); a GET by id needs Policy.ReadWrite.HybridAuthentication.
 */
export const listRolloutPolicies = (): GraphCall => ({ method: 'GET', version: 'v1.0', path: `${POLICIES}?$expand=appliesTo`, headers: UNKNOWN_ENUM_MEMBERS });

/** A new MFA rollout policy: enabled, for the groups added next only (never the whole organisation). */
export const createRolloutPolicy = (displayName: string, description: string): GraphCall => ({
  method: 'POST',
  version: 'v1.0',
  path: POLICIES,
  body: { displayName, description, feature: MFA_FEATURE, isEnabled: true, isAppliedToOrganization: false },
  headers: UNKNOWN_ENUM_MEMBERS,
});

export const updateRolloutPolicy = (id: string, properties: { isEnabled?: boolean; isAppliedToOrganization?: boolean }): GraphCall => ({
  method: 'PATCH',
  version: 'v1.0',
  path: `${POLICIES}/${encodeURIComponent(id)}`,
  body: properties,
  headers: UNKNOWN_ENUM_MEMBERS,
});

export const deleteRolloutPolicy = (id: string): GraphCall => ({ method: 'DELETE', version: 'v1.0', path: `${POLICIES}/${encodeURIComponent(id)}` });

/** Adds a group to the policy's appliesTo (Graph checks staged rollout's limits here). */
export const attachRolloutGroup = (policyId: string, groupId: string): GraphCall => ({
  method: 'POST',
  version: 'v1.0',
  path: `${POLICIES}/${encodeURIComponent(policyId)}/appliesTo/$ref`,
  body: directoryObjectRef(groupId),
});

export const detachRolloutGroup = (policyId: string, groupId: string): GraphCall => ({
  method: 'DELETE',
  version: 'v1.0',
  path: `${POLICIES}/${encodeURIComponent(policyId)}/appliesTo/${encodeURIComponent(groupId)}/$ref`,
});

/** A policy as Graph returns it (with appliesTo expanded, or not: then empty). */
export function parseRolloutPolicy(item: unknown): (TenantRolloutPolicy & { feature: string }) | undefined {
  const p = item as { id?: unknown; displayName?: unknown; feature?: unknown; isEnabled?: unknown; isAppliedToOrganization?: unknown; appliesTo?: { id?: unknown }[] | null } | null;
  if (!p || typeof p.id !== 'string' || typeof p.feature !== 'string') return undefined;
  return {
    id: p.id,
    displayName: typeof p.displayName === 'string' ? p.displayName : '',
    feature: p.feature,
    isEnabled: p.isEnabled === true,
    isAppliedToOrganization: p.isAppliedToOrganization === true,
    appliesTo: (p.appliesTo ?? []).map((g) => g.id).filter((id): id is string => typeof id === 'string'),
  };
}
