import type { TenantHardwareToken, TenantSnapshot } from '../model/tenant.js';
import { savedAsRead } from '../graph/policy-reader.js';
import { stateFingerprint } from '../plan/fingerprint.js';
import type { PlanUser, SavedPolicyChange } from '../plan/plan-file.js';
import { policyPropertyState, splitResource, userResourceState } from '../plan/resource-state.js';
import { serialKey } from '../model/serial.js';

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
    // A plan of an earlier version saw the value as Graph shows it, with properties now left out of reads.
    if (now !== c.state_fingerprint && now !== stateFingerprint(savedAsRead(c.target, c.property, c.before))) out.push({ target: `${c.target}.${c.property}`, planned: c.state_fingerprint, now, reason: 'the policy changed since the plan' });
  }
  for (const u of users) {
    // By the user's UPN in the tenant (the username's, unless the plan matched them by an on-premises name).
    const user = tenant.users.get((u.tenantUpn ?? u.upn).toLowerCase());
    // A plan user's changes are its writes (the no-ops are `kept`, for its methods); a user with
    // none has nothing resting on them.
    if (u.changes.length === 0) continue;
    // The methods the plan keeps as they are count too: a switch or a default rests on them.
    for (const c of [...u.changes, ...(u.kept ?? [])]) {
      if (!user || user.id !== u.userId) {
        const reason = u.tenantUpn !== undefined ? `the user ${u.tenantUpn} is no longer in the tenant, or no longer the one tenant user the on-premises name ${u.upn} matches` : 'the user is no longer in the tenant';
        out.push({ user: u.upn, target: c.resource, planned: c.state_fingerprint, now: 'absent', reason });
        continue;
      }
      // Checked before the fingerprint: the state it compares leaves other users' tokens out, so a
      // token of the serial uploaded to someone else since reads as no change, and its write fails.
      const other = c.action !== 'no-op' ? heldByAnother(c.resource, c.before, user.id, tenant.hardwareTokens) : undefined;
      if (other) {
        out.push({ user: u.upn, target: c.resource, planned: c.state_fingerprint, now: `assigned to ${other.assignedToId}`, reason: heldByAnotherReason(splitResource(c.resource)[1]!, other.assignedToId!) });
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

/**
 * The token of a plan resource `hardwareOathMethods/<serial>` that the inventory holds assigned to
 * another user, when the plan did not see it so: the plan meant to create the serial (it saw none of
 * it, or it would have left the user's token alone) or to assign the very token now held. A token
 * can be one user's only: the write would be refused. None when the user holds one of it.
 */
export function heldByAnother(resource: string, before: unknown, userId: string, inventory: ReadonlyMap<string, TenantHardwareToken[]>): TenantHardwareToken | undefined {
  const [kind, serial] = splitResource(resource);
  if (kind !== 'hardwareOathMethods' || serial === undefined) return undefined;
  const tokens = inventory.get(serialKey(serial)) ?? [];
  if (tokens.some((t) => t.assignedToId === userId)) return undefined;
  const seen = (before as { id?: unknown } | null)?.id;
  return tokens.find((t) => t.assignedToId !== undefined && t.assignedToId !== userId && (seen === undefined || t.id === seen));
}

/** What a user left out for a token held by another user is told: the serial (never the seed), the holder, and the way on. */
export function heldByAnotherReason(serial: string, holder: string): string {
  return `the token with serial ${serial} is assigned to another user (${holder}) in the tenant's inventory since the plan, and a token can be one user's only: plan again (once the token is unassigned there, if it is this user's)`;
}

/**
 * Users whose token the run's bulk create left out, since the inventory held its serial then (the
 * run did not create it), and whose assign-and-activate is not done: the run can never write it when
 * that token is gone now (the bulk create is done; an assign by serial finds nothing) or assigned to
 * another user. `leftOut`: the plan resources, by user. Pure.
 */
export function leftOutStale(leftOut: readonly { user: PlanUser; resources: readonly string[] }[], tenant: TenantSnapshot): StaleObject[] {
  const out: StaleObject[] = [];
  for (const { user: u, resources } of leftOut) {
    for (const resource of resources) {
      const c = u.changes.find((x) => x.resource === resource);
      if (!c) continue;
      const serial = splitResource(resource)[1]!;
      const tokens = tenant.hardwareTokens.get(serialKey(serial)) ?? [];
      const other = heldByAnother(resource, null, u.userId, tenant.hardwareTokens);
      if (other) out.push({ user: u.upn, target: resource, planned: c.state_fingerprint, now: `assigned to ${other.assignedToId}`, reason: heldByAnotherReason(serial, other.assignedToId!) });
      else if (tokens.length === 0) {
        out.push({
          user: u.upn,
          target: resource,
          planned: c.state_fingerprint,
          now: 'absent',
          reason: `the token with serial ${serial}, which the inventory held when the run's bulk create ran (so the run left it out and did not create it), is no longer in the inventory: this run cannot create it now; plan again`,
        });
      }
    }
  }
  return out;
}

/** The kinds of method a switch to Entra MFA rests on that a plan writes or keeps (an email address is no MFA method). */
const SWITCH_METHODS = new Set(['phoneMethods', 'hardwareOathMethods']);

/** Whether a method's state, as userResourceState gives it, is one the user can sign in with (a token: theirs, activated). */
function usable(resource: string, state: Record<string, unknown> | null, userId: string): boolean {
  if (!state) return false;
  if (!resource.startsWith('hardwareOathMethods/')) return true;
  return state.assignedTo === userId && state.status === 'activated';
}

/**
 * Why a user's switch to Entra MFA (their rollout group add) must be held back: the methods the plan
 * judged them by (2.3's "a cloud method they can use") that are no longer there. Asked when the switch
 * is sent in a later pass than the user's method writes (a resume): those writes are the run's own, so
 * the re-read of what the plan saw (findStale) leaves them out, and an admin may have deleted them
 * since. `written`: the method resources the run wrote for the user in an earlier pass (all of their
 * writes done); the methods the plan kept as they were count too. Empty: nothing missing. Pure.
 */
export function switchGaps(u: PlanUser, written: readonly string[], tenant: TenantSnapshot): string[] {
  const user = tenant.users.get((u.tenantUpn ?? u.upn).toLowerCase());
  if (!user || user.id !== u.userId) return ['the user is no longer in the tenant'];
  const out: string[] = [];
  const gone = (resource: string, by: string) => {
    const now = userResourceState(resource, user, tenant.hardwareTokens);
    const what = resource.startsWith('hardwareOathMethods/') && now ? 'is no longer activated for the user' : 'is no longer in the tenant';
    out.push(`${resource}, which ${by}, ${what}`);
  };
  const wrote = new Set(written);
  for (const c of u.changes) {
    if (!wrote.has(c.resource) || c.action === 'delete' || !SWITCH_METHODS.has(splitResource(c.resource)[0])) continue;
    if (!usable(c.resource, userResourceState(c.resource, user, tenant.hardwareTokens), user.id)) gone(c.resource, 'the run wrote in an earlier pass');
  }
  for (const c of u.kept ?? []) {
    if (!SWITCH_METHODS.has(splitResource(c.resource)[0])) continue;
    // Kept as it was: counted only when it was usable then (the plan judged the user by it).
    if (usable(c.resource, c.before, user.id) && !usable(c.resource, userResourceState(c.resource, user, tenant.hardwareTokens), user.id)) gone(c.resource, 'the plan kept as it was');
  }
  return out;
}
