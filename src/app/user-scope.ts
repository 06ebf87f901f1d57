import type { GraphClient } from '../graph/graph-client.js';
import { groupMembers, resolveGroup, type GroupRef } from '../graph/groups-reader.js';
import { decideMatch, onPremisesName } from '../model/user-match.js';
import { printable } from '../model/printable.js';
import { checkListedUsers, firstTenOf, readUserNames } from './user-list.js';

/** What narrows the users in scope: plan's and status's options alike. */
export interface ScopeRequest {
  /** The export's usernames; undefined when no export is read (status without --source): the names given are the scope. */
  exportUsers?: readonly string[];
  /** A --users file. */
  users?: string;
  /** --group: a group's name or object id. */
  group?: string;
  /** Matching by on-premises name on (--match-by): --netbios-domain's map; undefined for --match-by upn. */
  netbiosDomains?: ReadonlyMap<string, string>;
  /** A note for the admin (--users names no export row has). */
  log?: (line: string) => void;
}

/** What --group holds, for the narrowing once the tenant users are matched (narrowToMembers). */
export interface GroupScope {
  group: GroupRef;
  /** The members' object ids, lower case. */
  memberIds: ReadonlySet<string>;
  /** By export username (lower case): the members whose on-premises name took the user into the scope. */
  takenFor: ReadonlyMap<string, readonly string[]>;
}

/**
 * The names in scope, lower case, in the order listed (undefined: no narrowing, the whole export):
 * --users (by username), --group (members: by UPN, and with `netbiosDomains` given, the export users
 * whose on-premises name is a member's by the rules of docs/mapping.md, domain included). This is a
 * first cut, before the tenant read: the read matches a username by UPN first, so the export user
 * `bob@contoso.com`, taken for a member whose on-premises UPN it is, is the tenant user of that UPN,
 * who may be no member. Once the users are matched, narrowToMembers keeps those matched to a member
 * (or to nobody). One implementation, so that plan, apply --source and status take the same users.
 */
export async function resolveScope(client: GraphClient, req: ScopeRequest): Promise<{ scope: Set<string> | undefined; group?: GroupRef; groupScope?: GroupScope; given?: ReadonlyMap<string, string> }> {
  let scope: Set<string> | undefined;
  let groupScope: GroupScope | undefined;
  const names = req.users ? await readUserNames(req.users) : undefined;
  const listed = names?.map((n) => n.name);
  // The --users file's spellings, by lower-case name (the first of a name listed twice).
  const given = names ? new Map([...names].reverse().map((n) => [n.name, n.given])) : undefined;
  if (listed) scope = new Set(listed);
  if (req.group) {
    const group = await resolveGroup(client, req.group, '--group');
    const read = await groupMembers(client, group.id, req.netbiosDomains !== undefined);
    const { members, takenFor } = namesHeld(read, req.exportUsers ?? [], req.netbiosDomains);
    scope = scope ? new Set([...scope].filter((u) => members.has(u))) : members;
    groupScope = { group, memberIds: new Set(read.map((m) => m.id.toLowerCase())), takenFor };
  }
  if (req.users && listed && req.exportUsers) checkListedUsers(listed, req.exportUsers, req.users, req.log);
  return { scope, ...(groupScope ? { group: groupScope.group, groupScope } : {}), ...(given ? { given } : {}) };
}

/**
 * The names a group's members (`read`) hold, lower case: their UPNs, and with `netbiosDomains` given
 * (matching by on-premises name on), the export users whose on-premises name is a member's by the
 * rules of docs/mapping.md, domain included (`takenFor`: by such a username, the members it fits).
 * The first cut of resolveScope; apply and resume read a plan's scope group again by it too.
 */
export function namesHeld(read: readonly GroupMember[], exportUsers: readonly string[], netbiosDomains: ReadonlyMap<string, string> | undefined): { members: Set<string>; takenFor: Map<string, string[]> } {
  const members = new Set(read.map((m) => m.userPrincipalName.toLowerCase()));
  const takenFor = new Map<string, string[]>();
  if (!netbiosDomains) return { members, takenFor };
  for (const username of exportUsers) {
    const name = members.has(username.toLowerCase()) ? undefined : onPremisesName(username);
    // Matched, or more than one member fits (the plan then says so): the tenant read decides whom it is.
    const match = name ? decideMatch(name, read, netbiosDomains) : undefined;
    if (match?.outcome === 'matched' || match?.outcome === 'ambiguous') {
      members.add(username.toLowerCase());
      takenFor.set(username.toLowerCase(), match.users.map((u) => u.upn));
    }
  }
  return { members, takenFor };
}

/** A group's member as groupMembers reads it. */
export type GroupMember = Awaited<ReturnType<typeof groupMembers>>[number];

/**
 * Of `users`, those --group holds once each is matched (`matchedId`: the object id of the tenant user
 * found for them, by UPN or by on-premises name): matched to a member, by object id, or to nobody
 * (nothing is written for them, and the plan says why); and those matched to a tenant user outside
 * the group, whom --group must never write to. The rule of plan, apply --source and status; apply
 * PLANFILE --group applies it to a plan's matches, and of the users matched to nobody keeps only
 * those a member has as UPN (docs/mapping.md).
 */
export function splitByMembership<T>(users: Iterable<T>, matchedId: (u: T) => string | null | undefined, memberIds: ReadonlySet<string>): { members: T[]; outside: T[] } {
  const members: T[] = [];
  const outside: T[] = [];
  for (const u of users) {
    const id = matchedId(u);
    (id && !memberIds.has(id.toLowerCase()) ? outside : members).push(u);
  }
  return { members, outside };
}

/** The tenant user an export user was matched to, as narrowToMembers reads it. */
export interface MatchedTo {
  id: string;
  userPrincipalName: string;
}

/**
 * The scope resolveScope gave, once the tenant read has matched its users (`matchedTo`, by export
 * username lower case): the users matched to a tenant user outside the group are left out, and said
 * through `log` (a member's on-premises name took them in, but their username is another user's UPN,
 * which is matched first). For plan (and so apply --source) and status alike.
 */
export function narrowToMembers(scope: ReadonlySet<string>, groupScope: GroupScope, matchedTo: (username: string) => MatchedTo | undefined, log?: (line: string) => void): { scope: Set<string>; outside: string[] } {
  const { members, outside } = splitByMembership(scope, (u) => matchedTo(u)?.id, groupScope.memberIds);
  if (outside.length > 0) log?.(`Note: ${outsideGroupText(groupScope, outside, matchedTo)}`);
  return { scope: new Set(members), outside };
}

/** What to say of export users left out because they matched a tenant user outside the group: the first ten, and how many more. */
function outsideGroupText(groupScope: GroupScope, outside: readonly string[], matchedTo: (username: string) => MatchedTo | undefined): string {
  const one = (u: string) => {
    const taken = groupScope.takenFor.get(u);
    const by = taken ? `, not to the member ${taken.map((m) => printable(m)).join(' or ')} whose on-premises name it is` : '';
    return `${printable(u)} (matched to ${printable(matchedTo(u)?.userPrincipalName ?? '?')}${by})`;
  };
  const named = firstTenOf(outside, one);
  return (
    `--group "${printable(groupScope.group.displayName)}": ${outside.length} export user(s) left out of the scope, matched to a tenant user who is not a member: ${named}. ` +
    `A username is matched by UPN first (docs/mapping.md), and --group writes to members only; if MFA Server's user is the member, put the member's Entra UPN in users.csv and plan again`
  );
}
