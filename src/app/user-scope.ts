import type { GraphClient } from '../graph/graph-client.js';
import { groupMembers, resolveGroup, type GroupRef } from '../graph/groups-reader.js';
import { decideMatch, onPremisesName } from '../model/user-match.js';
import { checkListedUsers, readUserList } from './user-list.js';

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

/**
 * The names in scope, lower case, in the order listed (undefined: no narrowing, the whole export):
 * --users (by username), --group (members: by UPN, and with `netbiosDomains` given, the export users
 * whose on-premises name is a member's by the rules of docs/mapping.md, domain included: whether that
 * name is the member's alone is the tenant read's to decide, which refuses it otherwise, so a user of
 * the scope is matched to a member or to nobody). One implementation, so that plan, apply --source and
 * status take the same users.
 */
export async function resolveScope(client: GraphClient, req: ScopeRequest): Promise<{ scope: Set<string> | undefined; group?: GroupRef }> {
  let scope: Set<string> | undefined;
  let group: GroupRef | undefined;
  const listed = req.users ? await readUserList(req.users) : undefined;
  if (listed) scope = new Set(listed);
  if (req.group) {
    group = await resolveGroup(client, req.group, '--group');
    const read = await groupMembers(client, group.id, req.netbiosDomains !== undefined);
    const members = new Set(read.map((m) => m.userPrincipalName.toLowerCase()));
    if (req.netbiosDomains) {
      for (const username of req.exportUsers ?? []) {
        const name = members.has(username.toLowerCase()) ? undefined : onPremisesName(username);
        // Matched, or more than one member fits (the plan then says so): either way a member is theirs, and no one else.
        const outcome = name ? decideMatch(name, read, req.netbiosDomains)?.outcome : undefined;
        if (outcome === 'matched' || outcome === 'ambiguous') members.add(username.toLowerCase());
      }
    }
    scope = scope ? new Set([...scope].filter((u) => members.has(u))) : members;
  }
  if (req.users && listed && req.exportUsers) checkListedUsers(listed, req.exportUsers, req.users, req.log);
  return { scope, ...(group ? { group } : {}) };
}
