import type { GraphClient } from '../graph/graph-client.js';
import { readRolloutPolicy } from '../graph/cutover-reader.js';
import { transitiveMemberships } from '../graph/groups-reader.js';
import { getGroup } from '../graph/calls/groups.js';
import { isSuccess } from '../graph/graph-call.js';
import { readTenant } from '../graph/tenant-reader.js';
import type { TenantUser } from '../model/tenant.js';
import { ROLLOUT_UNDOS } from './rollback-inverses.js';
import type { Operation } from './operations.js';

/**
 * What a rollback journals (and reports) for an undo it left in place because its user is still
 * switched to Entra MFA once the cutover's undo is done: taken away, the method would leave the user
 * switched with nothing to sign in with.
 */
export const STILL_SWITCHED = 'still switched to Entra MFA by';

/** A journaled error that says the undo was left in place for a user still switched to Entra MFA. */
export const isStillSwitchedError = (error: string | undefined) => error?.startsWith(`${STILL_SWITCHED} `) ?? false;

/** Undos that take a cloud MFA method away from its user. */
export const METHOD_REMOVALS: ReadonlySet<Operation['kind']> = new Set(['phone-delete', 'token-deactivate', 'token-unassign', 'token-delete']);

/**
 * Whether the methods policy's undo of a method configuration (setting `properties` back) can turn off
 * a method the user holds (policy-view.ts's rules): SMS for a mobile phone, voice for any phone (its
 * office-phone switch for an office phone), hardware OATH for a token, Authenticator (its OATH codes
 * switch for software OATH only) and software OATH for theirs.
 */
function turnsOff(resource: string, properties: readonly string[], u: TenantUser): boolean {
  const phones = new Set(u.phones.map((p) => p.phoneType));
  const besides = (p: string) => properties.some((x) => x !== p);
  switch (resource.slice(resource.lastIndexOf('/') + 1)) {
    case 'Sms':
      return phones.has('mobile');
    case 'Voice':
      return besides('isOfficePhoneAllowed') ? phones.size > 0 : phones.has('office');
    case 'HardwareOath':
      return u.hardwareOath.length > 0;
    case 'SoftwareOath':
      return u.softwareOathCount > 0;
    case 'MicrosoftAuthenticator':
      return u.softwareOathCount > 0 || (besides('isSoftwareOathEnabled') && u.authenticatorCount > 0);
    default:
      return false;
  }
}

export interface StillSwitched {
  /** Undos to leave in place, by operation id, with why (starting STILL_SWITCHED). */
  holds: Map<string, string>;
  /** The run's users still switched for whom something was left in place, with what switches them. */
  users: { user: string; by: string }[];
}

const NONE: StillSwitched = { holds: new Map(), users: [] };

/**
 * Once the cutover's undos are sent (a domain's federation put back, the rollout policy disabled or
 * deleted, the run's groups detached), which of the run's users the staged rollout still switches to
 * Entra MFA, read from the tenant: the rollout policy is enabled still (its undo left alone as changed
 * since the run, failed, or none: it was enabled before the run) and applies to the whole
 * organisation, or to a group holding the user (nested groups included) other than one this rollback
 * takes the user out of. Their method removals still to send are left in place, and so is the
 * methods policy's undo of a method configuration one of them needs for a method they hold (SMS and
 * voice for a phone, hardware OATH for a token...). Nothing is read for a run that touched no staged
 * rollout.
 *
 * `pending`: the undos still to send after the cutover's; `doneNow`: the cutover undos done in this
 * pass (a policy just deleted may still be listed for a moment: what was done is trusted).
 */
export async function stillSwitched(
  client: GraphClient,
  inverses: readonly Operation[],
  pending: readonly Operation[],
  runUsers: ReadonlyMap<string, string>,
  doneNow: ReadonlySet<string>,
  concurrency: number,
  onRead?: (what: string) => void,
): Promise<StillSwitched> {
  const rollout = inverses.some((o) => ROLLOUT_UNDOS.has(o.kind) || (o.kind === 'group-member-remove' && o.resource.startsWith('rolloutGroup/')));
  if (!rollout || runUsers.size === 0) return NONE;
  const policyUndo = inverses.find((o) => o.kind === 'rollout-policy-delete' || o.kind === 'rollout-policy-update');
  if (policyUndo && doneNow.has(policyUndo.id)) return NONE;
  // Seconds for a large group (its members read a page at a time): said, so the wait is not silence.
  onRead?.(`reading which of the run's ${runUsers.size} user(s) the staged rollout still switches to Entra MFA (Graph)`);
  const policy = await readRolloutPolicy(client);
  if (!policy?.isEnabled) return NONE;
  // Groups this pass detached: the policy may still list them for a moment.
  const detached = new Set(inverses.filter((o) => o.kind === 'rollout-detach' && doneNow.has(o.id)).map((o) => String((o.before as { groupId?: unknown } | null)?.groupId).toLowerCase()));
  const byUser = new Map<string, string>();
  if (policy.isAppliedToOrganization) {
    for (const id of runUsers.keys()) byUser.set(id, 'the staged rollout policy (it applies to the whole organisation)');
  } else {
    const groups = policy.appliesTo.filter((g) => !detached.has(g.toLowerCase()));
    if (groups.length === 0) return NONE;
    const memberships = await transitiveMemberships(client, groups, new Set(runUsers.keys()));
    // The rollout groups this rollback still takes each user out of (first in the user's undos).
    const leaving = new Map<string, Set<string>>();
    for (const o of pending) {
      if (o.kind !== 'group-member-remove' || !o.userId || !o.resource.startsWith('rolloutGroup/')) continue;
      const key = o.userId.toLowerCase();
      leaving.set(key, (leaving.get(key) ?? new Set()).add(o.resource.slice('rolloutGroup/'.length).toLowerCase()));
    }
    const names = new Map<string, string>();
    for (const [id, held] of memberships) {
      const stays = held.find((g) => !leaving.get(id)?.has(g.toLowerCase()));
      if (stays === undefined) continue;
      if (!names.has(stays)) names.set(stays, await groupName(client, stays));
      byUser.set(id, `the group "${names.get(stays)}" of the staged rollout policy`);
    }
  }
  if (byUser.size === 0) return NONE;
  const holds = new Map<string, string>();
  const named = new Map<string, string>();
  const hold = (o: Operation, userKey: string, reason: string) => {
    holds.set(o.id, reason);
    named.set(userKey, byUser.get(userKey)!);
  };
  for (const o of pending) {
    const key = o.userId?.toLowerCase();
    if (key && METHOD_REMOVALS.has(o.kind) && byUser.has(key)) hold(o, key, `${STILL_SWITCHED} ${byUser.get(key)}`);
  }
  // A token the run created leaves the inventory once its user's unassign is done: not while that is left.
  for (const o of pending) {
    if (o.userId || o.kind !== 'token-delete') continue;
    const unassign = o.dependsOn.find((d) => holds.has(d));
    const owner = unassign ? pending.find((p) => p.id === unassign)?.userId?.toLowerCase() : undefined;
    if (unassign && owner) hold(o, owner, `${holds.get(unassign)!} (its user ${runUsers.get(owner)} keeps it)`);
  }
  // The methods policy's undos that would turn off what those users still hold.
  const configs = pending.filter((o) => o.kind === 'policy-config');
  if (configs.length > 0) {
    // Read by their UPN in the tenant (a user the plan matched by an on-premises name is not named by it in runUsers).
    const tenantUpns = new Map(inverses.filter((o) => o.userId && o.tenantUpn).map((o) => [o.userId!.toLowerCase(), o.tenantUpn!]));
    const known = [...byUser.keys()].map((id) => ({ upn: tenantUpns.get(id) ?? runUsers.get(id)!, userId: id, needsPreferences: false }));
    const tenant = await readTenant(client, { known, serials: [], policy: false, organization: false, concurrency });
    const switchedUsers = [...tenant.users.values()].filter((u) => byUser.has(u.id.toLowerCase()));
    for (const o of configs) {
      const properties = Object.keys(o.after ?? {});
      const users = switchedUsers.filter((u) => turnsOff(o.resource, properties, u)).map((u) => u.id.toLowerCase());
      if (users.length === 0) continue;
      const upns = users.map((id) => runUsers.get(id)!);
      const by = [...new Set(users.map((id) => byUser.get(id)!))];
      holds.set(o.id, `${STILL_SWITCHED} ${by.join(' and ')}: ${upns.length} user(s) hold a method it enables (${upns.slice(0, 5).join(', ')}${upns.length > 5 ? ', ...' : ''})`);
      for (const id of users) named.set(id, byUser.get(id)!);
    }
  }
  return { holds, users: [...named].map(([id, by]) => ({ user: runUsers.get(id)!, by })).sort((a, b) => a.user.localeCompare(b.user)) };
}

/** A group's display name (its id, if it cannot be read). */
async function groupName(client: GraphClient, id: string): Promise<string> {
  const res = await client.request<{ displayName?: string }>(getGroup(id));
  return isSuccess(res) && typeof res.body?.displayName === 'string' ? res.body.displayName : id;
}
