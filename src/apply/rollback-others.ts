import type { GraphClient } from '../graph/graph-client.js';
import { listTransitiveMemberUpns } from '../graph/calls/groups.js';
import { listUsers, type DirectoryUser } from '../graph/calls/users.js';
import { GraphRequestError } from '../graph/graph-errors.js';
import { transitiveMemberships } from '../graph/groups-reader.js';
import { readPolicy } from '../graph/policy-reader.js';
import { readTenant } from '../graph/tenant-reader.js';
import { userPolicy } from '../model/policy-view.js';
import { canSignIn, configsInUse } from '../model/usable-methods.js';
import { addTo } from '../model/add-to.js';
import { METHOD_CONFIGS, policyAfter, policyTargetGroups, type MethodConfig, type PolicyEdit } from '../model/method-policy.js';
import type { TenantFederatedDomain } from '../model/tenant.js';
import { domainsOf } from '../model/federation-root.js';
import { listDomainUsers } from '../graph/domain-users-reader.js';
import type { Operation } from './operations.js';

/** Users outside the run whose methods are read at once (a step of the progress each). */
const READ_AT_ONCE = 500;
/** Users named in a held undo's reason. */
const NAMED = 5;

/**
 * What still switches users to Entra MFA: the staged rollout, for every user of the organisation or
 * the members of these groups; or these domains' federation, which rejects the federated IdP's MFA
 * (every user of the domain, of its subdomains that take its federation too).
 */
export type SwitchedBy = 'organization' | readonly string[] | { domains: readonly TenantFederatedDomain[] };

/** One source of switched users, and the users (by lower-case id) judged apart, left out of it. */
export interface SwitchedUsers {
  by: SwitchedBy;
  exclude: ReadonlySet<string>;
}

/** Whether what switches users is domains' federation (not the staged rollout). */
const isByDomains = (by: SwitchedBy): by is { domains: readonly TenantFederatedDomain[] } => typeof by === 'object' && 'domains' in by;

const FEDERATION_OF = 'the federation of ';

/** What a domain's federation that switches its users is said as. */
export const federationSwitches = (domain: string) => `${FEDERATION_OF}${domain} (it rejects the federated IdP's MFA)`;

/** Whether what a held undo says switches its users (`by`) is a domain's federation, said by federationSwitches (else the staged rollout). */
export const isFederationSwitches = (by: string) => by.startsWith(FEDERATION_OF);

export interface OthersLeft {
  /** The methods policy's undos to leave in place, by operation id, with why (after STILL_SWITCHED and what switches them). */
  holds: Map<string, { by: string[]; why: string }>;
  /** The users outside the run they are left for: the first few (by UPN), every one (sorted), how many, what switches them. */
  first: string[];
  all: string[];
  count: number;
  by: string[];
  /** Members whose methods were not read, every undo being left in place already: `count` is a floor. */
  unread: number;
}

/**
 * Which of the methods policy's undos still to send (`configs`, setting a method configuration back)
 * would leave a user the staged rollout, or a domain's federation, keeps switched to Entra MFA (`sources`),
 * other than the run's (each source's `exclude`, by lower-case id: judged apart, by what the run gave them), with no method they can use: they can
 * sign in now (a method they hold is enabled for them), and could not once every one of these undos
 * is sent. Those undos that let them use what they use now are left in place. An undo held already
 * (`heldAlready`, for the run's users) is taken as not sent when deciding the others, but the users who
 * rely on it count all the same, and it is returned with them: sent by --leave-switched-without-method,
 * it leaves them with no method too, and the consent names them. Read from the tenant:
 * the switched users (the groups' members, nested included, or the whole directory, a page at a
 * time), the methods policy and its target groups, then the users' methods, READ_AT_ONCE at a time,
 * stopping once every undo is left in place (nothing left to decide). Nothing is read when no undo
 * turns a method off.
 */
export async function othersLeftWithout(
  client: GraphClient,
  configs: readonly Operation[],
  sources: readonly SwitchedUsers[],
  groupName: (id: string) => Promise<string>,
  opts: { concurrency: number; onRead?: (what: string, done?: number, total?: number) => void; heldAlready?: ReadonlySet<string> },
): Promise<OthersLeft | undefined> {
  const live = await readPolicy(client);
  const now = policyAfter(live, []);
  const edits = (o: Operation): PolicyEdit[] => Object.entries(o.after ?? {}).map(([property, after]) => ({ target: o.resource, property, after }));
  const shown = JSON.stringify(now);
  // Only undos that change who may use a method (Temporary Access Pass, say, signs nobody in to MFA).
  const turning = configs.filter((o) => configOf(o) !== undefined && JSON.stringify(policyAfter(live, edits(o))) !== shown);
  if (turning.length === 0) return undefined;
  // Every undo sent (what --leave-switched-without-method does), and those not held already (what is decided here).
  const after = policyAfter(live, turning.flatMap(edits));
  const held = opts.heldAlready ?? new Set<string>();
  const afterLeft = policyAfter(live, turning.filter((o) => !held.has(o.id)).flatMap(edits));

  const switching = `the staged rollout${sources.some((x) => isByDomains(x.by)) ? ' or a federation' : ''}`;
  opts.onRead?.(`listing the users ${switching} still switches to Entra MFA, outside the run (Graph)`);
  const members = new Map<string, { id: string; upn: string; by: string }>();
  // The first source that holds a user says what switches them.
  for (const source of sources) for (const [key, m] of await switchedUsers(client, source.by, source.exclude, groupName)) if (!members.has(key)) members.set(key, m);
  if (members.size === 0) return undefined;
  const targets = [...new Set([...policyTargetGroups(now), ...policyTargetGroups(after)])];
  const ids = new Set(members.keys());
  const inTargets = targets.length > 0 ? await transitiveMemberships(client, targets, ids) : new Map<string, string[]>();

  const lockedBy = new Map<string, string[]>();
  const locked: { upn: string; by: string }[] = [];
  const list = [...members.values()];
  const what = `reading the methods of the ${list.length} user(s) outside the run ${switching} still switches to Entra MFA, whom the methods policy's undo may leave with none they can use (Graph)`;
  let read = 0;
  opts.onRead?.(what, 0, list.length);
  for (; read < list.length && lockedBy.size < turning.length; ) {
    const chunk = list.slice(read, read + READ_AT_ONCE);
    const tenant = await readTenant(client, { known: chunk.map((m) => ({ upn: m.upn, userId: m.id, needsPreferences: false })), serials: [], policy: false, organization: false, concurrency: opts.concurrency });
    for (const u of tenant.users.values()) {
      // Sign-in turned off in Entra: no MFA is asked of them (status blocks nothing for them either).
      if (u.accountEnabled === false) continue;
      const groups = inTargets.get(u.id.toLowerCase()) ?? [];
      const before = userPolicy(now, u.id, groups);
      if (!canSignIn(u, before) || canSignIn(u, userPolicy(after, u.id, groups))) continue;
      const by = members.get(u.id.toLowerCase())!.by;
      locked.push({ upn: u.userPrincipalName, by });
      const uses = configsInUse(u, before);
      // One whom the undos held already leave a method holds no other back (they keep what they use), but is one those protect.
      const lockedLeft = !canSignIn(u, userPolicy(afterLeft, u.id, groups));
      for (const o of turning) if (uses.has(configOf(o)!) && (held.has(o.id) || lockedLeft)) addTo(lockedBy, o.id, `${u.userPrincipalName}\u0000${by}`);
    }
    read += chunk.length;
    opts.onRead?.(what, read, list.length);
  }
  if (locked.length === 0) return undefined;
  const unread = list.length - read;
  const floor = unread > 0 ? 'at least ' : '';
  const holds = new Map<string, { by: string[]; why: string }>();
  for (const [op, entries] of lockedBy) {
    const upns = entries.map((e) => e.split('\u0000')[0]!).sort();
    const by = [...new Set(entries.map((e) => e.split('\u0000')[1]!))];
    holds.set(op, { by, why: `${floor}${upns.length} user(s) outside the run would have no method they can use once the rollback's policy undos are sent, this one among them (${upns.slice(0, NAMED).join(', ')}${upns.length > NAMED ? `, and ${upns.length - NAMED} more` : ''})` });
  }
  const upns = locked.map((l) => l.upn).sort();
  return { holds, first: upns.slice(0, NAMED), all: upns, count: upns.length, by: [...new Set(locked.map((l) => l.by))], unread };
}

/** The method configuration an undo sets back, if it is one that decides who may use a method. */
function configOf(o: Operation): MethodConfig | undefined {
  const id = o.resource.slice(o.resource.lastIndexOf('/') + 1).toLowerCase();
  return METHOD_CONFIGS.find((c) => c.toLowerCase() === id);
}

/**
 * The users the staged rollout or a rejecting domain's federation switches, by lower-case id, with their UPN and what switches them
 * (the first of the groups holding them): the groups' members, nested included (a group deleted
 * since holds nobody), or every user of the directory; or the users of the domains (a paged listing
 * by UPN suffix each); `exclude` left out.
 */
async function switchedUsers(client: GraphClient, switchedBy: SwitchedBy, exclude: ReadonlySet<string>, groupName: (id: string) => Promise<string>): Promise<Map<string, { id: string; upn: string; by: string }>> {
  const out = new Map<string, { id: string; upn: string; by: string }>();
  const take = (u: Partial<DirectoryUser>, by: string) => {
    const key = typeof u.id === 'string' ? u.id.toLowerCase() : undefined;
    if (key && u.userPrincipalName && u.accountEnabled !== false && !exclude.has(key) && !out.has(key)) out.set(key, { id: u.id!, upn: u.userPrincipalName, by });
  };
  if (isByDomains(switchedBy)) {
    for (const d of switchedBy.domains) for (const name of domainsOf(d)) for (const u of await listDomainUsers(client, name)) take(u, federationSwitches(d.id));
    return out;
  }
  if (switchedBy === 'organization') {
    for await (const u of client.pages<Partial<DirectoryUser>>(listUsers(), "listing the directory's users")) take(u, 'the staged rollout policy (it applies to the whole organisation)');
    return out;
  }
  for (const groupId of switchedBy) {
    const by = `the group "${await groupName(groupId)}" of the staged rollout policy`;
    try {
      for await (const m of client.pages<Partial<DirectoryUser>>(listTransitiveMemberUpns(groupId), `listing the members of group ${groupId}`)) take(m, by);
    } catch (err) {
      if (err instanceof GraphRequestError && err.response.status === 404) continue;
      if (err instanceof GraphRequestError && err.response.status === 403) throw new GraphRequestError(`listing the members of group ${groupId} (if its membership is hidden, this also needs Member.Read.Hidden)`, err.response);
      throw err;
    }
  }
  return out;
}
