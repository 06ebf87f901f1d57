import type { GraphClient } from '../graph/graph-client.js';
import { addTo } from '../model/add-to.js';
import { rolloutReach } from '../model/rollout-reach.js';
import { managedDomainSet, REJECT_IDP_MFA } from '../model/staged-rollout.js';
import { federationOf } from '../model/federation-root.js';
import type { SavedPlan } from '../plan/plan-file.js';
import { someOf, upnDomain } from './federation-step.js';
import { planMethodJudge, withoutMethodNow } from './methods-now.js';

/*
 * The members outside the plan's users whom its staged rollout step switches (attaching a group,
 * enabling the policy), as the plan recorded them (2.6 `cutover_seen.rolloutMembers`): the plan is
 * refused while one of them has no cloud MFA method (--force-federation does not reach it), so it
 * judged every one of them with a method then. One who has none since would be switched by the step
 * with nothing to sign in with (a helper saw one, and the domain's federation set after), so apply
 * reads their methods again before anything is written, and right before the step is sent when that
 * is long after (a resume, a long step 1b), as it reads who joined.
 */

/** A recorded member the step switches whose methods are read again. */
export interface MemberToRecheck {
  id: string;
  /** Their UPN as the plan read it. */
  upn: string;
  /** The groups of the step that held them when the plan read them. */
  groups: string[];
}

/**
 * The members the plan recorded in `switching` (the groups whose members the step switches) who are
 * outside its users and whom the step itself switches, with a method then: not those staged rollout,
 * a domain's federation rejecting the IdP's MFA, or a managed domain switched before the plan (the
 * step changes nothing for them; one taken out of another attached group since is the pre-flight's
 * unswitchedSince). Pure.
 */
export function membersToRecheck(plan: Pick<SavedPlan, 'header' | 'users' | 'policyChanges'>, switching: readonly string[]): MemberToRecheck[] {
  const seen = plan.header.cutover_seen;
  if (!seen?.rolloutMembers || switching.length === 0) return [];
  const groups = new Set(switching.map((g) => g.toLowerCase()));
  const planUsers = new Set(plan.users.flatMap((u) => (u.userId ? [u.userId.toLowerCase()] : [])));
  const managed = managedDomainSet(seen);
  // A subdomain that is not a root takes its root's federation (model/federation-root.ts).
  const governing = federationOf(seen.federatedDomains);
  const rejecting = (domain: string) => governing(domain)?.federatedIdpMfaBehavior === REJECT_IDP_MFA;
  // By the policy as the plan read it, with none of its own groups: who was switched already.
  const before = rolloutReach(seen.rolloutPolicy ?? null, []);
  const usable = planMethodJudge(plan);
  return seen.rolloutMembers.flatMap((m) => {
    const mine = m.memberOf.filter((g) => groups.has(g.toLowerCase()));
    const domain = upnDomain(m.userPrincipalName);
    if (mine.length === 0 || planUsers.has(m.id.toLowerCase()) || managed.has(domain) || rejecting(domain) || before(m.memberOf)) return [];
    return usable(m, m.policyGroups) ? [{ id: m.id, upn: m.userPrincipalName, groups: mine }] : [];
  });
}

/**
 * By group: those of `members` it holds directly now (`memberOf`, by user id, as read now; one taken
 * out since is no one the step switches) who have no cloud MFA method they can use now, named by
 * their UPN now (`upnOf`), sorted. Their methods are read batched (withoutMethodNow): one read each.
 */
export async function methodlessSince(
  client: GraphClient,
  plan: Pick<SavedPlan, 'header' | 'policyChanges'>,
  members: readonly MemberToRecheck[],
  now: { memberOf: ReadonlyMap<string, readonly string[]>; memberUpns: ReadonlyMap<string, string> },
  concurrency: number,
  onProgress?: (done: number, total: number) => void,
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (members.length === 0) return out;
  const held = new Map<string, Set<string>>();
  const upns = new Map<string, string>();
  for (const [id, groups] of now.memberOf) held.set(id.toLowerCase(), new Set(groups.map((g) => g.toLowerCase())));
  for (const [id, upn] of now.memberUpns) upns.set(id.toLowerCase(), upn);
  const still = members.flatMap((m) => {
    const groups = m.groups.filter((g) => held.get(m.id.toLowerCase())?.has(g.toLowerCase()));
    return groups.length > 0 ? [{ ...m, upn: upns.get(m.id.toLowerCase()) ?? m.upn, groups }] : [];
  });
  if (still.length === 0) return out;
  onProgress?.(0, still.length);
  const without = new Set((await withoutMethodNow(client, plan, still, concurrency, onProgress)).map((u) => u.id.toLowerCase()));
  for (const m of still) if (without.has(m.id.toLowerCase())) for (const g of m.groups) addTo(out, g, m.upn);
  for (const list of out.values()) list.sort();
  return out;
}

/** Members named in a message (the rest are counted). */
const NAMED = 5;

/** What a stale object or a held step says of a group's members with no method since (`doing`: `attaching the group`). */
export function methodlessSaid(upns: readonly string[], group: string, doing: string): string {
  return `${upns.length} member(s) of "${group}" outside the plan have no cloud MFA method since the plan (${someOf(upns, NAMED)}): ${doing} would switch them with nothing to sign in with: give them a method or take them out of the group`;
}
