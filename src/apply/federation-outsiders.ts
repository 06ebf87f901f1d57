import type { GraphClient } from '../graph/graph-client.js';
import { readFederatedDomains, readRolloutPolicy } from '../graph/cutover-reader.js';
import type { DirectoryUser } from '../graph/calls/users.js';
import type { TenantFederatedDomain } from '../model/tenant.js';
import { listDomainUsers } from '../graph/domain-users-reader.js';
import { directGroupsOf } from '../graph/groups-reader.js';
import { rolloutReach, rolloutScope } from '../model/rollout-reach.js';
import type { SavedPlan } from '../plan/plan-file.js';
import { someOf } from './federation-step.js';
import { planMethodJudge, withoutMethodNow } from './methods-now.js';

/**
 * A domain's federation change rests on its tenant users outside the plan (2.16,
 * `cutover_seen.domainUsers`): none of them, enabled and not switched by staged rollout, was left with
 * no cloud MFA method, unless `--force-federation` accepted it for those the plan named. Apply reads
 * them again before anything is written and right before the change is sent: a user of the domain
 * outside the plan who appeared since (created, enabled, taken out of a rollout group) with no method,
 * or one the plan judged with a method who has none now, would meet Entra MFA with nothing to sign in
 * with. One paged listing a domain name (its subdomains' that take its federation too); the rollout groups asked of those users alone (checkMemberGroups),
 * and the methods of those the plan did not judge with nothing (its forced ones) read, batched.
 * Who staged rollout switches is judged as the plan judged it (model/rollout-reach.ts): before the run,
 * with the plan's rollout groups attached, as its staged rollout step attaches them; right before the
 * change, by the policy as it is then, since that step is done by then or not at all (held, failed,
 * left out of a narrowed run), and a user it did not switch meets Entra MFA by the federation.
 */
export interface OutsidersNow {
  /** Not among the users the plan recorded (or switched by staged rollout then), with no method now. */
  appeared: string[];
  /** Recorded with a method the policy lets them use, with none now. */
  lost: string[];
}

/** When apply reads them: before anything is written ('planned': the plan's staged rollout step to come), or right before the change ('now'). */
export type OutsidersRead = 'planned' | 'now';

/**
 * By domain (those of `domains` the plan recorded users of, whatever the case, named as given): who would be switched with nothing; none, absent.
 * A domain's users are those of its subdomains that take its federation too (not roots: model/federation-root.ts), as the plan
 * recorded them and as `live` has them (the domains read now; read here when not given): one added since is listed as well.
 */
export async function outsidersWithoutMethod(
  client: GraphClient,
  plan: Pick<SavedPlan, 'header' | 'users' | 'policyChanges'>,
  domains: readonly string[],
  concurrency: number,
  at: OutsidersRead,
  live?: readonly TenantFederatedDomain[],
): Promise<Map<string, OutsidersNow>> {
  const out = new Map<string, OutsidersNow>();
  const seen = plan.header.cutover_seen?.domainUsers;
  const policySeen = plan.header.policy_seen;
  // The plan records a domain lower case, the caller names it as it read it: a name of no entry would check no one (and pass).
  const asNamed = new Map(domains.map((d) => [d.toLowerCase(), d]));
  const entries = (seen ?? []).filter((e) => asNamed.has(e.domain.toLowerCase()));
  // A plan of an earlier format read none of them (its runs go on as that version judged them).
  if (entries.length === 0 || !policySeen) return out;
  const named = at === 'planned' ? (plan.header.options.rollout_groups ?? []).map((g) => g.id) : [];
  const policy = await readRolloutPolicy(client);
  const scope = rolloutScope(policy, named);
  // Staged rollout for the whole organisation: every user of the domain is on Entra MFA (or will be, by the plan's step).
  if (scope === 'organisation') return out;
  const reach = rolloutReach(policy, named);
  const domainsNow = live ?? (await readFederatedDomains(client, entries.map((e) => e.domain)));
  const subdomainsOf = (list: readonly TenantFederatedDomain[], domain: string) => list.find((d) => d.id.toLowerCase() === domain.toLowerCase())?.subdomains ?? [];
  const seenDomains = plan.header.cutover_seen?.federatedDomains ?? [];
  const planned = new Set(plan.users.flatMap((u) => (u.userId ? [u.userId.toLowerCase()] : [])));
  const usable = planMethodJudge(plan);
  for (const entry of entries) {
    const names = new Set([entry.domain, ...subdomainsOf(seenDomains, entry.domain), ...subdomainsOf(domainsNow, entry.domain)].map((d) => d.toLowerCase()));
    const all: DirectoryUser[] = [];
    for (const name of names) all.push(...(await listDomainUsers(client, name)));
    const listed = all.filter((u) => !planned.has(u.id.toLowerCase()) && u.accountEnabled !== false);
    // Staged rollout takes direct members only: each user's direct groups, asked of them (a few users, where the groups may hold 50,000 each).
    const rollout = scope.length > 0 ? await directGroupsOf(client, listed.map((u) => u.id)) : new Map<string, string[]>();
    const outside = listed.filter((u) => !reach(rollout.get(u.id.toLowerCase()) ?? []));
    const recorded = new Map(entry.users.map((m) => [m.id.toLowerCase(), m]));
    // Those the plan took as having nothing were named and accepted (--force-federation): not read again.
    const toRead = outside.filter((u) => {
      const m = recorded.get(u.id.toLowerCase());
      return !m || usable(m, m.policyGroups);
    });
    const now: OutsidersNow = { appeared: [], lost: [] };
    for (const u of await withoutMethodNow(client, plan, toRead.map((u) => ({ id: u.id, upn: u.userPrincipalName })), concurrency)) {
      (recorded.has(u.id.toLowerCase()) ? now.lost : now.appeared).push(u.upn);
    }
    if (now.appeared.length + now.lost.length > 0) out.set(asNamed.get(entry.domain.toLowerCase())!, { appeared: now.appeared.sort(), lost: now.lost.sort() });
  }
  return out;
}

/** What a stale object or a skipped federation change says of them. */
export function outsidersSaid(domain: string, o: OutsidersNow): string {
  const parts = [
    ...(o.appeared.length > 0 ? [`${o.appeared.length} not among those the plan read, with no cloud MFA method (${someOf(o.appeared, 5)})`] : []),
    ...(o.lost.length > 0 ? [`${o.lost.length} the plan read with a method, with none they can use now (${someOf(o.lost, 5)})`] : []),
  ];
  return `${o.appeared.length + o.lost.length} tenant user(s) of ${domain} outside the plan, enabled and not switched by staged rollout, would meet Entra MFA with nothing to sign in with once its federation rejects the IdP's MFA: ${parts.join('; ')}`;
}
