import type { GraphClient } from '../graph/graph-client.js';
import { GraphRequestError } from '../graph/graph-errors.js';
import { groupMembers, type GroupRef } from '../graph/groups-reader.js';
import { netbiosMapOf } from '../model/user-match.js';
import { printable } from '../model/printable.js';
import { UserError } from '../model/user-error.js';
import { composedUsername } from '../model/username.js';
import type { SavedPlan } from '../plan/plan-file.js';
import { firstTenOf } from './user-list.js';
import { namesHeld, splitByMembership } from './user-scope.js';

/** Where a plan's scope group (`plan --group`) stands now against the plan's users. */
export interface ScopeGroupNow {
  /** The group as the plan recorded it. */
  group: GroupRef;
  /** The plan's users (export usernames, as the plan has them) matched to a tenant user who is no longer a member, in plan order. */
  left: string[];
  /** The export's users the group holds now whom the plan does not have: joined since (apply never adds a user). */
  joined: string[];
}

/**
 * A plan made with --group took the group's members when it was made; the admin's word on a wave is
 * the group, so apply and resume read it again before anything is sent. A plan user matched to a
 * tenant user no longer a member has left the wave (splitByMembership, by object id, the rule of
 * plan --group and apply --group); a user not in the tenant (nothing to write) stays. Export users
 * the group holds now, by UPN or on-premises name as the plan matched (namesHeld), whom the plan
 * does not have, joined since. Undefined for a plan made without --group.
 */
export async function scopeGroupNow(client: GraphClient, plan: SavedPlan, exportUsers: readonly string[]): Promise<ScopeGroupNow | undefined> {
  const group = plan.header.options.scope_group;
  if (!group) return undefined;
  const onPremises = plan.header.options.match_by?.includes('on-premises') ?? false;
  let read: Awaited<ReturnType<typeof groupMembers>>;
  try {
    read = await groupMembers(client, group.id, onPremises);
  } catch (err) {
    if (err instanceof GraphRequestError && err.response.status === 404) {
      throw new UserError(`the plan's scope group "${printable(group.displayName)}" (${group.id}, plan --group) is no longer in the tenant, so who is in this wave cannot be read: nothing was sent; make a new plan`, 1, { cause: err });
    }
    throw err;
  }
  const ids = new Set(read.map((m) => m.id.toLowerCase()));
  const left = splitByMembership(plan.users, (u) => u.userId, ids).outside.map((u) => u.upn);
  const held = namesHeld(read, exportUsers, onPremises ? netbiosMapOf(plan.header.options.netbios_domains) : undefined).members;
  const planned = new Set(plan.users.map((u) => composedUsername(u.upn).toLowerCase()));
  const joined = exportUsers.filter((u) => held.has(u.toLowerCase()) && !planned.has(composedUsername(u).toLowerCase()));
  return { group, left, joined };
}

/** The note on a plan user who left the scope group since the plan: the --results row's, and the start of what apply and resume say. */
export function leftGroupNote(group: GroupRef): string {
  return `left the group "${printable(group.displayName)}" since the plan`;
}

/** What apply and resume say, before anything is sent, of the run's users who left the group (`left`) and what is done with them (`leftOut`). */
export function leftGroupText(group: GroupRef, left: readonly string[], leftOut: string): string {
  return `Note: ${left.length} user(s) ${leftGroupNote(group)}, the plan's scope (plan --group): ${leftOut}: ${firstTenOf(left, (u) => printable(u))}`;
}

/** What apply and resume say of the export's users who joined the group since the plan; undefined when none did. */
export function joinedGroupText(now: ScopeGroupNow): string | undefined {
  if (now.joined.length === 0) return undefined;
  return `Note: ${now.joined.length} user(s) of the export are members of "${printable(now.group.displayName)}" now but not users of this plan (they joined the group since it was made, or a --users list of the plan left them out): this run does not migrate or switch them, as apply never adds a user to a plan; plan again to take them in: ${firstTenOf(now.joined, (u) => printable(u))}`;
}
