import type { TenantRolloutPolicy } from '../model/tenant.js';

/**
 * The rollout groups whose members a plan with `--rollout-group` switches to Entra MFA: those it
 * attaches to the policy, and, when it creates or enables the policy, every group the policy applies
 * to as well (their members are switched when it is enabled, whoever they are).
 */
export function groupsThePlanSwitches(policy: TenantRolloutPolicy | null, named: readonly string[]): string[] {
  if (named.length === 0) return [];
  if (!policy || !policy.isEnabled) return [...new Set([...(policy?.appliesTo ?? []), ...named])];
  const attached = new Set(policy.appliesTo);
  return [...new Set(named.filter((id) => !attached.has(id)))];
}
