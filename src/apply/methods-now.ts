import type { GraphClient } from '../graph/graph-client.js';
import { membershipsOf } from '../graph/groups-reader.js';
import { policyAsRead } from '../graph/policy-reader.js';
import { readTenant } from '../graph/tenant-reader.js';
import { hasCloudMethod, usableMethods } from '../model/cloud-methods.js';
import { judgedGroups, policyAfter } from '../model/method-policy.js';
import { userPolicy } from '../model/policy-view.js';
import { rolloutMember } from '../model/rollout-member.js';
import type { TenantRolloutMember } from '../model/tenant.js';
import type { SavedPlan } from '../plan/plan-file.js';

/*
 * What a tenant user outside the plan's users can sign in with, judged as the plan judged them (the
 * authentication methods policy as the plan leaves it, by the policy's target groups that hold them),
 * and read again by apply: a member of a group its staged rollout step switches, a user of a domain
 * whose federation it changes.
 */

/** Whether a user has a cloud MFA method the policy as the plan leaves it lets them use (`groups`: the policy's target groups that hold them). */
export type MethodJudge = (m: TenantRolloutMember, groups: readonly string[]) => boolean;

/** The plan's judge (a plan that recorded no policy: every method held counts, as usableMethods takes it). */
export function planMethodJudge(plan: Pick<SavedPlan, 'header' | 'policyChanges'>): MethodJudge {
  const seen = plan.header.policy_seen;
  const view = seen ? policyAfter(policyAsRead(structuredClone(seen)), plan.policyChanges) : undefined;
  return (m, groups) => hasCloudMethod(usableMethods(m, view ? userPolicy(view, m.id, groups) : undefined));
}

/**
 * Of `users` (by id, with their UPN as the tenant has it now), those with no cloud MFA method they can
 * use now, read again: batched as the plan reads its users (15 looked up by id a request, each one's
 * methods 20 to a `$batch`), the policy's target groups asked of them (checkMemberGroups) when it has
 * some. One deleted or renamed since is not read (absent: no one to switch).
 */
export async function withoutMethodNow(
  client: GraphClient,
  plan: Pick<SavedPlan, 'header' | 'policyChanges'>,
  users: readonly { id: string; upn: string }[],
  concurrency: number,
  onProgress?: (done: number, total: number) => void,
): Promise<{ id: string; upn: string }[]> {
  if (users.length === 0) return [];
  const read = await readTenant(client, {
    known: users.map((u) => ({ upn: u.upn, userId: u.id, needsPreferences: false })),
    serials: [],
    policy: false,
    organization: false,
    concurrency,
    ...(onProgress ? { onProgress } : {}),
  });
  const now = [...read.users.values()];
  const policy = plan.header.policy_seen;
  const targetGroups = policy ? judgedGroups(policy, plan.header.options.target_group?.id) : [];
  const groups = targetGroups.length > 0 ? await membershipsOf(client, now.map((u) => u.id), targetGroups) : new Map<string, string[]>();
  const usable = planMethodJudge(plan);
  return now.filter((u) => !usable(rolloutMember(u), groups.get(u.id.toLowerCase()) ?? [])).map((u) => ({ id: u.id, upn: u.userPrincipalName }));
}
