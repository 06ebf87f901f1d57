import { upnDomain } from '../apply/federation-step.js';
import { planMethodJudge } from '../apply/methods-now.js';
import { federationRootOf } from '../model/federation-root.js';
import type { SavedPlan, UserEntry } from '../plan/plan-file.js';

/**
 * The plan's users it leaves on MFA Server, lower case: its `not-switched` findings (a user with no
 * cloud MFA method the policy lets them use once it is applied, whom no rollout group add switches).
 * Findings are read from the file only when the plan's cutover counts such users: most plans have none.
 */
export async function leftOnMfaServer(plan: SavedPlan): Promise<Set<string>> {
  if ((plan.header.cutover?.switched?.not_switched ?? 0) === 0) return new Set();
  return new Set((await plan.findings()).filter((f) => f.code === 'not-switched' && f.user !== undefined).map((f) => f.user!.toLowerCase()));
}

/**
 * Of the plan's not-switched users (`notSwitched`, lower case), those of a domain whose federation
 * the run set (`federationDone`): it moved them to Entra MFA with no cloud method, so they are not
 * left on MFA Server (a plan sets it over such users only with --force-federation). By username
 * (lower case), the domain; the domain is the one whose federation governs the tenant UPN's, as the
 federation step counts it: a non-root subdomain's root (`seen`, the plan's federated domains read).
 */
export function movedByFederation(
  roster: readonly Readonly<UserEntry>[],
  notSwitched: ReadonlySet<string>,
  federationDone: readonly string[],
  seen: Parameters<typeof federationRootOf>[0],
): Map<string, string> {
  const moved = new Map<string, string>();
  if (notSwitched.size === 0 || federationDone.length === 0) return moved;
  const done = new Map(federationDone.map((d) => [d.toLowerCase(), d]));
  const governing = federationRootOf(seen);
  for (const u of roster) {
    const key = u.upn.toLowerCase();
    if (!notSwitched.has(key)) continue;
    const domain = done.get(governing(upnDomain(u.tenantUpn ?? u.upn)));
    if (domain !== undefined) moved.set(key, domain);
  }
  return moved;
}

/** The run's users the plan leaves on MFA Server, by the rows' names: those with a row that is not `not-selected`. */
export function leftOnServerOfRows(rows: readonly { user: string; outcome: string }[], left: ReadonlySet<string>): string[] {
  return left.size === 0 ? [] : rows.filter((r) => r.outcome !== 'not-selected' && left.has(r.user.toLowerCase())).map((r) => r.user);
}

/** The rows' users the run's federation moved to Entra MFA with no cloud method, by domain in the order `federationDone` has them: every row, selected or not (the federation moved them all the same). */
export function movedOfRows(rows: readonly { user: string }[], moved: ReadonlyMap<string, string>, federationDone: readonly string[]): { domain: string; users: string[] }[] {
  if (moved.size === 0) return [];
  return federationDone.map((domain) => ({ domain, users: rows.filter((r) => moved.get(r.user.toLowerCase()) === domain).map((r) => r.user) })).filter((x) => x.users.length > 0);
}

/**
 * The tenant users outside the plan of each domain whose federation the run set (`federationDone`)
 * whom the plan recorded with no cloud MFA method the policy as it leaves it lets them use (2.16,
 * `cutover_seen.domainUsers`): only --force-federation plans the step over them (its
 * `federation-forced` finding names them), and apply reads them again only to refuse newcomers, so
 * the federation moved them to Entra MFA with nothing to sign in with. By domain in the order
 * `federationDone` has them, sorted; a domain with none left out.
 */
export function outsidersMovedByFederation(plan: Pick<SavedPlan, 'header' | 'users' | 'policyChanges'>, federationDone: readonly string[]): { domain: string; users: string[] }[] {
  const entries = plan.header.cutover_seen?.domainUsers ?? [];
  if (federationDone.length === 0 || entries.length === 0) return [];
  const planned = new Set(plan.users.flatMap((u) => (u.userId ? [u.userId.toLowerCase()] : [])));
  const usable = planMethodJudge(plan);
  return federationDone
    .map((domain) => {
      const entry = entries.find((e) => e.domain.toLowerCase() === domain.toLowerCase());
      const users = (entry?.users ?? []).filter((m) => !planned.has(m.id.toLowerCase()) && !usable(m, m.policyGroups)).map((m) => m.userPrincipalName);
      return { domain, users: users.sort() };
    })
    .filter((x) => x.users.length > 0);
}

/** The non-root subdomains that take each domain's federation, as the plan read them (2.18), by the domain's name (lower case): those with none left out. */
export function subdomainsOf(plan: Pick<SavedPlan, 'header'>, domains: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const d of plan.header.cutover_seen?.federatedDomains ?? []) {
    if (domains.some((x) => x.toLowerCase() === d.id.toLowerCase()) && (d.subdomains ?? []).length > 0) out[d.id.toLowerCase()] = [...d.subdomains!];
  }
  return out;
}
