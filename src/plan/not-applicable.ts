import { matchedUser } from '../model/user-match.js';
import { isOwnMethodResource, isSignedInUser, OWN_METHODS_BECAUSE, waitsForMethods, WAITS_FOR_OWN_METHODS, type SignedInUser } from '../model/own-methods.js';
import type { NotApplicableChange, Plan } from './plan-model.js';

/** The user a plan's recorded identity signed in as: a delegated sign-in names one (an application's token records neither). */
export function signedInUserOfPlan(identity: Plan['identity']): SignedInUser | undefined {
  if (!identity) return undefined;
  const objectId = identity.objectId ?? null;
  return identity.upn !== null || objectId !== null ? { objectId, upn: identity.upn } : undefined;
}

/**
 * The plan's user changes a run signed in as the plan's own identity does not send (format 1.6):
 * the signed-in admin's own phone and email changes (Graph refuses them), and their default method
 * and switch, which apply sends only once every method change of the user is written. Worked out
 * from the plan alone (its identity, users and changes), so `show` gives what `plan` printed. The
 * saved plan is the same whoever signs in: apply and resume decide by their own token.
 */
export function notApplicable(plan: Pick<Plan, 'identity' | 'users' | 'user_changes'>): NotApplicableChange[] {
  const me = signedInUserOfPlan(plan.identity);
  if (!me) return [];
  const mine = new Set(plan.users.filter((u) => u.user_id !== null && isSignedInUser(me, u.user_id, matchedUser(u.match)?.upn ?? u.user)).map((u) => u.user_id!.toLowerCase()));
  if (mine.size === 0) return [];
  const changes = plan.user_changes.filter((c) => c.action !== 'no-op' && mine.has(c.user_id.toLowerCase()));
  const own = changes.filter((c) => isOwnMethodResource(c.resource));
  if (own.length === 0) return [];
  const waiting = changes.filter((c) => waitsForMethods(c.resource));
  return [...own, ...waiting].map((c) => ({
    user: c.user,
    user_id: c.user_id,
    resource: c.resource,
    action: c.action,
    rule: 'USER-SIGNED-IN-SELF',
    because: isOwnMethodResource(c.resource) ? OWN_METHODS_BECAUSE : WAITS_FOR_OWN_METHODS,
  }));
}
