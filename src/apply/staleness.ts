import type { TenantSnapshot } from '../model/tenant.js';
import { stateFingerprint } from '../plan/fingerprint.js';
import type { PlanUser, SavedPolicyChange } from '../plan/plan-file.js';
import { policyPropertyState, userResourceState } from '../plan/resource-state.js';

export interface StaleObject {
  user?: string;
  target: string;
  planned: string;
  now: string;
  reason: string;
}

/**
 * Compares the tenant objects a plan will write with the state the plan saw: an object whose
 * fingerprint differs has changed since (or its user is gone) and is stale. Pure.
 */
export function findStale(users: readonly PlanUser[], policyChanges: readonly SavedPolicyChange[], tenant: TenantSnapshot): StaleObject[] {
  const out: StaleObject[] = [];
  for (const c of policyChanges) {
    const now = stateFingerprint(policyPropertyState(tenant.policy, c.target, c.property));
    if (now !== c.state_fingerprint) out.push({ target: `${c.target}.${c.property}`, planned: c.state_fingerprint, now, reason: 'the policy changed since the plan' });
  }
  for (const u of users) {
    const user = tenant.users.get(u.upn.toLowerCase());
    // A plan user's changes are its writes (the no-ops are `kept`, for its methods); a user with
    // none has nothing resting on them.
    if (u.changes.length === 0) continue;
    // The methods the plan keeps as they are count too: a switch or a default rests on them.
    for (const c of [...u.changes, ...(u.kept ?? [])]) {
      if (!user || user.id !== u.userId) {
        out.push({ user: u.upn, target: c.resource, planned: c.state_fingerprint, now: 'absent', reason: 'the user is no longer in the tenant' });
        continue;
      }
      const now = stateFingerprint(userResourceState(c.resource, user, tenant.hardwareTokens));
      if (now === c.state_fingerprint) continue;
      const reason = c.action === 'no-op' ? "changed in the tenant since the plan, which kept it as it was: the user's changes (a switch to Entra MFA, a default) rest on it" : 'changed in the tenant since the plan';
      out.push({ user: u.upn, target: c.resource, planned: c.state_fingerprint, now, reason });
    }
  }
  return out;
}
