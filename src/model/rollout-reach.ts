import type { TenantRolloutPolicy } from './tenant.js';

/**
 * Whom staged rollout switches to Entra MFA once the plan's groups (`named`) are attached: every user
 * ('organisation'), the direct members of these groups (lower case), or no one ([]). The policy must
 * be enabled, or be enabled by the plan (it enables it when it attaches a group). Pass no groups for
 * the policy as it is: what a re-check right before a change that rests on it judges by.
 */
export function rolloutScope(policy: TenantRolloutPolicy | null, named: readonly string[]): 'organisation' | string[] {
  if (!(policy?.isEnabled === true || named.length > 0)) return [];
  if (policy?.isAppliedToOrganization === true) return 'organisation';
  // Graph's ids are GUIDs: one group whatever the case a call answers it in.
  return [...new Set([...(policy?.appliesTo ?? []), ...named].map((g) => g.toLowerCase()))];
}

/**
 * Whether staged rollout switches a user, by the groups that hold them directly (staged rollout takes
 * no nested groups), once the plan's groups are attached: plan and apply judge by this alike.
 */
export function rolloutReach(policy: TenantRolloutPolicy | null, named: readonly string[]): (memberOf: readonly string[]) => boolean {
  const scope = rolloutScope(policy, named);
  if (scope === 'organisation') return () => true;
  const attached = new Set(scope);
  return (memberOf) => memberOf.some((g) => attached.has(g.toLowerCase()));
}
