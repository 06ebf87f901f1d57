import type { ApplyOutcome } from '../apply/run-apply.js';
import type { GroupRef } from '../graph/groups-reader.js';
import type { SavedPlan } from '../plan/plan-file.js';
import { leftOnMfaServer, leftOnServerOfRows } from './left-on-server.js';
import { resultRows, type ResultRow, type RowNotes } from './results.js';
import { leftGroupNote } from './scope-group-now.js';

/**
 * The result rows of an apply or a resume pass over `kept` (lower case; every user when undefined),
 * and its outcome with what apply and resume alike add to it: the run's users the plan leaves on MFA
 * Server, and `left.users`, those the pass left out as they left the plan's scope group (`leftGroup`).
 */
export async function passResults(
  plan: SavedPlan,
  kept: ReadonlySet<string> | undefined,
  outcome: ApplyOutcome,
  left: { group: GroupRef; users: string[] } | undefined,
): Promise<{ outcome: ApplyOutcome; results: ResultRow[]; leftGroup?: NonNullable<RowNotes['leftGroup']> }> {
  const leftGroup = left && left.users.length > 0 ? { users: new Set(left.users.map((u) => u.toLowerCase())), note: leftGroupNote(left.group) } : undefined;
  const leftOnServer = await leftOnMfaServer(plan);
  const results = resultRows(plan.users, (upn) => !kept || kept.has(upn.toLowerCase()), outcome.users, { ...(leftGroup ? { leftGroup } : {}), leftOnServer });
  const onServer = leftOnServerOfRows(results, leftOnServer);
  return {
    outcome: { ...outcome, ...(onServer.length > 0 ? { leftOnMfaServer: onServer } : {}), ...(leftGroup && left ? { leftScopeGroup: { group: left.group.displayName, users: left.users } } : {}) },
    results,
    ...(leftGroup ? { leftGroup } : {}),
  };
}
