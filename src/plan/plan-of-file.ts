import { UserError } from '../model/user-error.js';
import { formatMinor, type PlanUserLine, type SavedPlan } from './plan-file.js';
import { notApplicable } from './not-applicable.js';
import { PLAN_FORMAT_VERSION, type Plan, type PlanUserStatus, type UserChange } from './plan-model.js';

/**
 * The JSON format (`plan --format json`) whose content each saved plan minor version holds; a minor
 * not listed (the one this build writes) is the current format.
 */
const JSON_VERSION_OF_FILE_MINOR: Record<number, string> = {
  0: '1.1', 1: '1.2', 2: '1.3', 3: '1.3', 4: '1.3', 5: '1.3', 6: '1.3', 7: '1.3', 8: '1.3', 9: '1.3',
  10: '1.4', 11: '1.4', 12: '1.4', 13: '1.4', 14: '1.5', 15: '1.6', 16: '1.7', 17: '1.7', 18: '1.8', 19: '1.9', 20: '1.10',
};
/** The first saved plan minor version whose JSON (1.6) has `not_applicable`. */
const NOT_APPLICABLE_FROM_MINOR = 15;

/**
 * A saved plan as the `Plan` that `plan --format json` printed when it was made (offline: the file
 * alone), with `plan_hash` the SHA-256 of the file. `show` renders it; `show --format json` prints
 * the same object as plan did.
 */
export async function planOfFile(saved: SavedPlan): Promise<Plan> {
  if (saved.format === '1') throw new UserError(`${saved.path}: a plan of format ${saved.header.format_version} cannot be shown (show reads 2.x plans): plan again with --out`);
  const lines: PlanUserLine[] = [];
  for await (const chunk of saved.lines()) lines.push(...chunk);
  const h = saved.header;
  const userChanges: UserChange[] = lines.flatMap((l) =>
    l.changes.map((c) => ({ user: l.upn, user_id: l.userId!, resource: c.resource, action: c.action, before: c.before, after: c.after, rule: c.rule, because: c.because })),
  );
  const users: PlanUserStatus[] = lines.map((l) => ({
    user: l.upn,
    user_id: l.userId,
    status: l.status,
    ...(l.match !== undefined ? { match: l.match } : {}),
    ...(l.server !== undefined ? { server: l.server } : {}),
    ...(l.methods_after !== undefined ? { methods_after: l.methods_after } : {}),
  }));
  const jsonVersion = JSON_VERSION_OF_FILE_MINOR[formatMinor(h)] ?? PLAN_FORMAT_VERSION;
  return orderedPlan({
    format_version: jsonVersion,
    created: h.created,
    source_fingerprint: h.source_fingerprint,
    tenant: h.tenant,
    ...(h.graph !== undefined ? { graph: h.graph } : {}),
    ...(h.identity !== undefined ? { identity: h.identity } : {}),
    ...(h.tool_version !== undefined ? { tool_version: h.tool_version } : {}),
    ...(h.inputs !== undefined ? { inputs: h.inputs } : {}),
    plan_hash: saved.hash,
    options: h.options,
    summary: h.summary,
    policy_changes: saved.policyChanges.map(({ state_fingerprint: _f, ...c }) => c),
    cutover_changes: saved.cutoverChanges.map(({ state_fingerprint: _f, ...c }) => c),
    user_changes: userChanges,
    // As plan printed it: worked out from the identity the file records (JSON 1.6 on, saved plan 2.15 on).
    ...(formatMinor(h) >= NOT_APPLICABLE_FROM_MINOR ? { not_applicable: notApplicable({ identity: h.identity, users, user_changes: userChanges }) } : {}),
    users,
    findings: await saved.findings(),
    registration_campaign: h.registration_campaign,
    ...(h.cutover !== undefined ? { cutover: h.cutover } : {}),
  });
}

/**
 * The plan's fields in one fixed order (the order `plan --format json` prints them), whoever built
 * the object: a plan made now, or one read from a file.
 */
export function orderedPlan(p: Plan): Plan {
  const optional = <K extends keyof Plan>(k: K) => (p[k] !== undefined ? { [k]: p[k] } : {});
  return {
    format_version: p.format_version,
    created: p.created,
    source_fingerprint: p.source_fingerprint,
    tenant: p.tenant,
    ...optional('graph'),
    ...optional('identity'),
    ...optional('tool_version'),
    ...optional('inputs'),
    ...optional('plan_hash'),
    options: p.options,
    summary: p.summary,
    policy_changes: p.policy_changes,
    // 1.3 (plans saved before it have no cutover: an empty list, and no summary of it).
    cutover_changes: p.cutover_changes ?? [],
    user_changes: p.user_changes,
    ...optional('not_applicable'),
    users: p.users,
    findings: p.findings,
    registration_campaign: p.registration_campaign,
    ...optional('cutover'),
  } as Plan;
}
