import type { PolicyTarget } from '../mapping/policy-rules.js';
import type { PlanOptions } from './plan-model.js';

/**
 * The options that shaped a plan, as the mapping report's header and the terminal's first lines say
 * them: every option that changes what is written, the cutover's included (an auditor reads a plan
 * made with --force-federation from its header).
 */
export function planOptionsText(o: PlanOptions, withIds: boolean): string[] {
  const group = (g: PolicyTarget) => (withIds ? `${g.displayName} (${g.id})` : g.displayName);
  return [
    `default method ${o.default_method}`,
    `prune ${o.prune ? 'yes' : 'no'}`,
    `include email ${o.include_email ? 'yes' : 'no'}`,
    `target ${group(o.target_group)}`,
    ...(o.scope_group ? [`scope group ${group(o.scope_group)}`] : []),
    ...(o.rollout_groups?.length ? [`rollout groups ${o.rollout_groups.map(group).join(', ')}`] : []),
    ...(o.federated_mfa ? [`federated MFA ${o.federated_mfa}${o.force_federation ? ' (forced: --force-federation)' : ''}`] : []),
    ...(o.campaign_group ? [`campaign group ${group(o.campaign_group)}`] : []),
    // Plans made before --match-by matched by UPN only, and say nothing of it.
    ...(o.match_by ? [`match by ${o.match_by.join(',')}${o.netbios_domains ? ` (NetBIOS domains ${Object.entries(o.netbios_domains).map(([k, v]) => `${k}=${v}`).join(', ')})` : ''}`] : []),
  ];
}
