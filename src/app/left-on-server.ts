import type { SavedPlan } from '../plan/plan-file.js';

/**
 * The plan's users it leaves on MFA Server, lower case: its `not-switched` findings (a user with no
 * cloud MFA method the policy lets them use once it is applied, whom no rollout group add switches).
 * Findings are read from the file only when the plan's cutover counts such users: most plans have none.
 */
export async function leftOnMfaServer(plan: SavedPlan): Promise<Set<string>> {
  if ((plan.header.cutover?.switched?.not_switched ?? 0) === 0) return new Set();
  return new Set((await plan.findings()).filter((f) => f.code === 'not-switched' && f.user !== undefined).map((f) => f.user!.toLowerCase()));
}

/** The run's users the plan leaves on MFA Server, by the rows' names: those with a row that is not `not-selected`. */
export function leftOnServerOfRows(rows: readonly { user: string; outcome: string }[], left: ReadonlySet<string>): string[] {
  return left.size === 0 ? [] : rows.filter((r) => r.outcome !== 'not-selected' && left.has(r.user.toLowerCase())).map((r) => r.user);
}
