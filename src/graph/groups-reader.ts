import { addTo } from '../model/add-to.js';
import { UserError } from '../model/user-error.js';
import type { GraphClient } from './graph-client.js';
import { checkMemberGroups, findGroupsByName, getGroup, listDirectMemberOf, listTransitiveMemberIds, listTransitiveMembers, type GroupRef } from './calls/groups.js';
import type { OnPremisesCandidate } from '../model/user-match.js';
import { GraphRequestError } from './graph-errors.js';
import { isSuccess } from './graph-call.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type { GroupRef };

/**
 * A group by object id or by display name; an ambiguous or unknown name is the admin's to settle, never
 * a guess. `ifNoneNamed`: what to do when no group has the name, for a group the admin is to create
 * (the cutover's; a scope group names users who exist already, so nothing is said for it).
 */
export async function resolveGroup(client: GraphClient, nameOrId: string, option: string, ifNoneNamed?: string): Promise<GroupRef> {
  const fail = (why: string) => new UserError(`${option} ${JSON.stringify(nameOrId)}: ${why}`);
  if (GUID.test(nameOrId)) {
    const res = await client.request<GroupRef>(getGroup(nameOrId));
    if (res.status === 404) throw fail(`no group has the object id ${nameOrId}`);
    if (!isSuccess(res)) throw new GraphRequestError(`reading the group ${nameOrId}`, res);
    return { id: res.body.id, displayName: res.body.displayName };
  }
  const found: GroupRef[] = [];
  for await (const g of client.pages<GroupRef>(findGroupsByName(nameOrId), `finding the group ${nameOrId}`)) found.push({ id: g.id, displayName: g.displayName });
  if (found.length === 0) throw fail(`no group is named "${nameOrId}"${ifNoneNamed ? `: ${ifNoneNamed}` : ''}`);
  if (found.length > 1) throw fail(`${found.length} groups are named "${nameOrId}"; give the object id instead (${found.map((g) => g.id).join(', ')})`);
  return found[0]!;
}

/** The users of a group (nested groups' included), with their synced on-premises names when asked for. */
export async function groupMembers(client: GraphClient, groupId: string, onPremises: boolean): Promise<(OnPremisesCandidate & { userPrincipalName: string })[]> {
  const out: (OnPremisesCandidate & { userPrincipalName: string })[] = [];
  for await (const m of client.pages<Partial<OnPremisesCandidate>>(listTransitiveMembers(groupId, onPremises), `listing the members of group ${groupId}`)) {
    if (m.userPrincipalName) out.push({ ...m, id: String(m.id ?? ''), userPrincipalName: m.userPrincipalName });
  }
  return out;
}

/**
 * By member id (lower case): which of the groups hold them, nested groups included; only the
 * members `only` names, when given. A group deleted since the
 * policy named it holds nobody (Entra targets nobody through it either).
 */
export async function transitiveMemberships(client: GraphClient, groupIds: readonly string[], only?: ReadonlySet<string>): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  await Promise.all(
    groupIds.map(async (groupId) => {
      try {
        for await (const m of client.pages<{ id?: string }>(listTransitiveMemberIds(groupId), `listing the members of group ${groupId}`)) {
          // Only the users asked about are kept (a wave of 50 against a group of 300,000 holds 50), by id case aside.
          const id = typeof m.id === 'string' ? m.id.toLowerCase() : undefined;
          if (id !== undefined && (!only || only.has(id))) addTo(out, id, groupId);
        }
      } catch (err) {
        if (err instanceof GraphRequestError && err.response.status === 404) return;
        // Graph hides the members of a group with hidden membership from apps without Member.Read.Hidden.
        if (err instanceof GraphRequestError && err.response.status === 403) {
          throw new GraphRequestError(`listing the members of group ${groupId} (if its membership is hidden, this also needs Member.Read.Hidden)`, err.response);
        }
        throw err;
      }
    }),
  );
  for (const groups of out.values()) groups.sort();
  return out;
}

/**
 * By user id (lower case): the groups each user is a direct member of (lower case), asked of each user:
 * for a few users, a few requests, where listing the groups they may be in could be thousands of pages.
 * Each user's first page is a batched read (a GET: a read-only sign-in may ask it, and many users go
 * 20 to a request, `concurrency` requests at a time), any next page followed directly. A user gone
 * since is a member of none.
 */
export async function directGroupsOf(client: GraphClient, userIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  await Promise.all(
    userIds.map(async (userId) => {
      const groups: string[] = [];
      const call = listDirectMemberOf(userId);
      const first = await client.read<{ value?: { id?: string }[]; '@odata.nextLink'?: string }>(call);
      if (first.status !== 404) {
        for await (const g of client.pagesFrom<{ id?: string }>(call, first, `reading the groups user ${userId} is a direct member of`)) if (typeof g.id === 'string') groups.push(g.id.toLowerCase());
      }
      out.set(userId.toLowerCase(), groups);
    }),
  );
  return out;
}

/** Graph's limit on the groups one checkMemberGroups call asks about. */
const CHECK_MEMBER_GROUPS_MAX = 20;

/**
 * By user id (lower case): which of the groups hold each user, nested groups included, asked of
 * each user (batched): for a wave of users, cheaper than listing groups of any size. A user gone
 * since holds none.
 */
export async function membershipsOf(client: GraphClient, userIds: readonly string[], groupIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (groupIds.length === 0) return out;
  await Promise.all(
    userIds.map(async (userId) => {
      const held: string[] = [];
      for (let i = 0; i < groupIds.length; i += CHECK_MEMBER_GROUPS_MAX) {
        const res = await client.read<{ value?: string[] }>(checkMemberGroups(userId, groupIds.slice(i, i + CHECK_MEMBER_GROUPS_MAX)));
        if (res.status === 404) break;
        if (!isSuccess(res)) throw new GraphRequestError(`reading the group memberships of user ${userId}`, res);
        held.push(...(res.body?.value ?? []).map((g) => g.toLowerCase()));
      }
      out.set(userId.toLowerCase(), held.sort());
    }),
  );
  return out;
}
