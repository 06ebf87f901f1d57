import type { ApplyOutcome } from '../apply/run-apply.js';
import type { GroupRef } from '../graph/groups-reader.js';
import type { SavedPlan } from '../plan/plan-file.js';
import { leftOnMfaServer, leftOnServerOfRows, movedByFederation, movedOfRows, outsidersMovedByFederation, subdomainsOf } from './left-on-server.js';
import { resultRows, type ResultRow, type RowNotes } from './results.js';
import { leftGroupNote } from './scope-group-now.js';

/**
 * The result rows of an apply or a resume pass over `kept` (lower case; every user when undefined),
 * and its outcome with what apply and resume alike add to it: the run's users the plan leaves on MFA
 * Server, those of them the run's federation moved to Entra MFA with no method instead, the tenant
 * users outside the plan it moved with none (forced), the subdomains its federation changes reached, and `left.users`, those the pass left out as they left the plan's scope group (`leftGroup`).
 */
export async function passResults(
  plan: SavedPlan,
  kept: ReadonlySet<string> | undefined,
  outcome: ApplyOutcome,
  left: { group: GroupRef; users: string[] } | undefined,
): Promise<{ outcome: ApplyOutcome; results: ResultRow[]; leftGroup?: NonNullable<RowNotes['leftGroup']> }> {
  const leftGroup = left && left.users.length > 0 ? { users: new Set(left.users.map((u) => u.toLowerCase())), note: leftGroupNote(left.group) } : undefined;
  const notSwitched = await leftOnMfaServer(plan);
  // Those of a domain whose federation the run set (forced) are on Entra MFA now, with no method: not left on MFA Server.
  const moved = movedByFederation(plan.users, notSwitched, outcome.federationDone, plan.header.cutover_seen?.federatedDomains ?? []);
  const leftOnServer = moved.size === 0 ? notSwitched : new Set([...notSwitched].filter((u) => !moved.has(u)));
  const results = resultRows(plan.users, (upn) => !kept || kept.has(upn.toLowerCase()), outcome.users, { ...(leftGroup ? { leftGroup } : {}), leftOnServer, movedByFederation: moved });
  const onServer = leftOnServerOfRows(results, leftOnServer);
  const movedUsers = movedOfRows(results, moved, outcome.federationDone);
  // Outside the plan, forced over (--force-federation): no row of the results names them.
  const outsiders = outsidersMovedByFederation(plan, outcome.federationDone);
  const subdomains = subdomainsOf(plan, outcome.federationDone);
  return {
    outcome: {
      ...outcome,
      ...(onServer.length > 0 ? { leftOnMfaServer: onServer } : {}),
      ...(movedUsers.length > 0 ? { movedByForcedFederation: movedUsers } : {}),
      ...(outsiders.length > 0 ? { outsidersMovedByFederation: outsiders } : {}),
      ...(Object.keys(subdomains).length > 0 ? { federationSubdomains: subdomains } : {}),
      ...(leftGroup && left ? { leftScopeGroup: { group: left.group.displayName, users: left.users } } : {}),
    },
    results,
    ...(leftGroup ? { leftGroup } : {}),
  };
}
