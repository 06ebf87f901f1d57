import type { AuthenticationMethodsPolicyJson, MethodConfiguration } from './default-policy.js';
import { isPlainObject } from './policy-rules.js';
import type { EmulatorState } from './state.js';

/**
 * What the policy's targets must point at: a group target names `all_users` or a group of the tenant, a user
 * target a user of the tenant, and a passkey target profiles the FIDO2 configuration defines. Checked after a
 * PATCH is merged, so the answer judges the policy as it would be.
 */

type Target = { id?: unknown; targetType?: unknown };

function targetProblem(state: EmulatorState, target: Target, where: string): string | undefined {
  const id = typeof target.id === 'string' ? target.id : '';
  if (target.targetType === 'group' && id !== 'all_users' && !state.findGroup(id)) return `${where}: no group '${id}' in the tenant`;
  if (target.targetType === 'user' && state.directoryObject(id)?.kind !== 'user') return `${where}: no user '${id}' in the tenant`;
  return undefined;
}

function listProblems(state: EmulatorState, list: unknown, where: string): string[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((t, i) => (isPlainObject(t) ? [targetProblem(state, t, `${where}[${i}]`)] : [])).filter((p): p is string => p !== undefined);
}

/** Problems with one method configuration's targets (and, for FIDO2, its passkey profiles). */
export function configurationProblems(state: EmulatorState, config: MethodConfiguration): string[] {
  const problems = [...listProblems(state, config['includeTargets'], 'includeTargets'), ...listProblems(state, config['excludeTargets'], 'excludeTargets')];
  if (Array.isArray(config['passkeyProfiles'])) {
    const profiles = new Set((config['passkeyProfiles'] as { id?: string }[]).map((p) => p.id));
    const fallback = config['defaultPasskeyProfile'];
    if (typeof fallback === 'string' && !profiles.has(fallback)) problems.push(`defaultPasskeyProfile: no passkey profile '${fallback}'`);
    ((config['includeTargets'] as Record<string, unknown>[] | undefined) ?? []).forEach((t, i) => {
      for (const id of (t['allowedPasskeyProfiles'] as string[] | null | undefined) ?? []) {
        if (!profiles.has(id)) problems.push(`includeTargets[${i}].allowedPasskeyProfiles: no passkey profile '${id}'`);
      }
    });
  }
  return problems;
}

/** Problems with the registration campaign's targets. */
export function campaignProblems(state: EmulatorState, policy: AuthenticationMethodsPolicyJson): string[] {
  const campaign = policy.registrationEnforcement?.authenticationMethodsRegistrationCampaign;
  if (!campaign) return [];
  const where = 'registrationEnforcement.authenticationMethodsRegistrationCampaign';
  return [...listProblems(state, campaign.includeTargets, `${where}.includeTargets`), ...listProblems(state, campaign.excludeTargets, `${where}.excludeTargets`)];
}
