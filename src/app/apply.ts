import { composedUsername } from '../model/username.js';
import { unlink } from 'node:fs/promises';
import type { GraphClient } from '../graph/graph-client.js';
import { groupMembers, resolveGroup } from '../graph/groups-reader.js';
import type { SecretFileOptions } from '../io/secret-file.js';
import { printable } from '../model/printable.js';
import { UserError } from '../model/user-error.js';
import { planFileChunks, readPlanHeader, SavedPlan, writePlanFile } from '../plan/plan-file.js';
import { startApply, type ApplyOutcome, type ApplyProgressEvent } from '../apply/run-apply.js';
import { storageProblem } from '../apply/journal.js';
import { planFileOf, type MadePlan } from './plan.js';
import { copyPlanDurably, planCopyPath, removeAbandonedPlanCopies } from './plan-copy.js';
import type { ResultRow } from './results.js';
import { checkPlanAgainstSources, CHECK_SAID_FROM_USERS } from './plan-check.js';
import { checkStateDir, tenantStateDir } from './state-dirs.js';
import { namedUsers } from './user-list.js';
import { splitByMembership } from './user-scope.js';
import { joinedGroupText, leftGroupNote, leftGroupText, scopeGroupNow } from './scope-group-now.js';
import { passResults } from './pass-results.js';
import { runDeps } from './run-deps.js';

export interface ApplyRequest {
  graph: GraphClient;
  /** Default: the tenant's folder under the state base. */
  stateDir?: string;
  /** Narrowing: only these users (lower-case UPNs; each must be in the plan), a group's members, at most N. */
  users?: string[];
  group?: string;
  maxUsers?: number;
  batchSize: number;
  waves?: number;
  skipStale: boolean;
  concurrency: number;
  activationRate?: number;
  policyPropagationWait?: number;
  tokenPath?: 'auto' | 'bulk' | 'single';
  /** The SHA-256 of the approved plan file (from the signed-off report): any other file is refused. */
  planHash?: string;
  /** How the PSKC key and password files the plan records are read again: --strict-permissions, where warnings go. */
  secretFiles?: SecretFileOptions;
  signal?: AbortSignal;
  onProgress?: (p: ApplyProgressEvent) => void;
  log?: (line: string) => void;
  onRun?: (runId: string, stateDir: string) => void;
}

export interface Applied {
  outcome: ApplyOutcome;
  stateDir: string;
  results: ResultRow[];
}

/** The state folder of a run: the one given, else the tenant's own; created private, refused if not. */
export async function stateDirFor(given: string | undefined, tenantId: string): Promise<string> {
  const dir = given ?? tenantStateDir(tenantId);
  await checkStateDir(dir, true);
  return dir;
}

/**
 * The plan's users (export usernames, composed, lower case) a group holds: those the plan matched to
 * a member, by object id (splitByMembership, the rule plan --group narrows by), and those it matched
 * to nobody whose username is a member's UPN. By username alone, `CORP\jdoe` or a bare sAMAccountName
 * is no member's UPN (such users were once left out without a word), and `bob@contoso.com`, a
 * member's on-premises UPN, is the user of that UPN, who may be no member.
 */
function groupsPlanUsers(plan: SavedPlan, members: readonly { id: string; userPrincipalName: string }[]): Set<string> {
  const ids = new Set(members.map((m) => m.id.toLowerCase()));
  const upns = new Set(members.map((m) => composedUsername(m.userPrincipalName).toLowerCase()));
  const candidates = plan.users.filter((u) => u.userId !== null || upns.has(composedUsername(u.upn).toLowerCase()));
  return new Set(splitByMembership(candidates, (u) => u.userId, ids).members.map((u) => composedUsername(u.upn).toLowerCase()));
}

/** Applies a saved plan (passing it is the approval), narrowed to some of its users if asked. */
export async function applySavedPlan(plan: SavedPlan, req: ApplyRequest): Promise<Applied> {
  const stateDir = await stateDirFor(req.stateDir, plan.header.tenant.id);
  // Composed, as --users files are read: a plan made before usernames were may hold one decomposed.
  const planned = new Set(plan.users.map((u) => composedUsername(u.upn).toLowerCase()));
  if (req.users) {
    const unknown = req.users.filter((u) => !planned.has(composedUsername(u).toLowerCase()));
    if (unknown.length > 0) throw new UserError(`not in the plan: ${namedUsers(unknown)} (--users selects among the plan's users)`);
  }
  // A plan that records no tenant state (1.x and the first 2.0 files, or one with it removed) cannot
  // be derived again, so an edit to it could not be told: apply takes only plans it can check.
  if (!plan.recordsTenant) throw new UserError(`${plan.path}: this plan (format ${plan.header.format_version}) records no tenant state, so an edit to it could not be detected: make a new plan (mfa-migrate plan ... --out FILE) and apply that`);
  // Before anything is sent (the group's members are read below): the file is exactly what its
  // sources give (an edited plan is refused), and its key files pass --strict-permissions.
  // Seconds at this size (read the sources again, plan them again): said, so the wait is not silence.
  if (plan.users.length >= CHECK_SAID_FROM_USERS) req.log?.(`Checking ${plan.path} against its export and seed files (${plan.users.length} users): an edited plan is never applied`);
  const { seeds, exportUsers } = await checkPlanAgainstSources(plan, req.log, req.secretFiles);
  let users = req.users?.map((u) => u.toLowerCase());
  // A plan made with --group: the wave is the group's members, read again. A user who left it since
  // the plan is left out of the run (as --users leaves users out), one who joined is said (a new plan takes them).
  const scope = await scopeGroupNow(req.graph, plan, exportUsers);
  if (req.group) {
    const g = await resolveGroup(req.graph, req.group, '--group');
    const inGroup = groupsPlanUsers(plan, await groupMembers(req.graph, g.id, false));
    users = (users ?? [...planned]).filter((u) => inGroup.has(composedUsername(u).toLowerCase()));
    // A selection of nobody would still send the plan's tenant-wide changes and use the plan up, as an
    // empty --users list would (refused where it is read): a review saw the policy written so.
    if (users.length === 0) {
      throw new UserError(`--group "${printable(g.displayName)}" holds none of the plan's users${req.users ? ' named by --users' : ''}: nothing was sent (a run of nobody would still make the plan's tenant-wide changes and use the plan up); check the group, or apply without --group`);
    }
  }
  const joined = scope ? joinedGroupText(scope) : undefined;
  if (joined) req.log?.(joined);
  // Those of the run's selection who left: the others (--users, apply --group) the run never had.
  const selected = users ? new Set(users.map((u) => composedUsername(u).toLowerCase())) : planned;
  const left = (scope?.left ?? []).filter((u) => selected.has(composedUsername(u).toLowerCase()));
  if (scope && left.length > 0) {
    const leaving = new Set(left.map((u) => composedUsername(u).toLowerCase()));
    users = (users ?? [...planned]).filter((u) => !leaving.has(composedUsername(u).toLowerCase()));
    req.log?.(leftGroupText(scope.group, left, 'left out of this run (not selected): nothing is sent to them'));
    // As an empty --group selection: a run of nobody would still make the plan's tenant-wide changes.
    if (users.length === 0) {
      throw new UserError(`every user of the plan${req.users || req.group ? ' this apply selects' : ''} ${leftGroupNote(scope.group)}, the plan's scope (plan --group): nothing was sent (a run of nobody would still make the plan's tenant-wide changes and use the plan up); make a new plan of the group's members`);
    }
  }
  const outcome = await startApply(
    plan,
    { batchSize: req.batchSize, ...(req.waves !== undefined ? { waves: req.waves } : {}), ...(users ? { users } : {}), ...(req.maxUsers !== undefined ? { maxUsers: req.maxUsers } : {}), skipStale: req.skipStale, concurrency: req.concurrency, ...(req.activationRate !== undefined ? { activationRate: req.activationRate } : {}), ...(req.policyPropagationWait !== undefined ? { policyPropagationWait: req.policyPropagationWait } : {}), ...(req.tokenPath ? { tokenPath: req.tokenPath } : {}), ...(left.length > 0 ? { scopeGroupLeft: left.map((u) => u.toLowerCase()) } : {}) },
    runDeps(req, req.graph, stateDir, seeds),
  );
  const kept = users ? new Set(users) : undefined;
  const passed = await passResults(plan, kept, outcome, scope ? { group: scope.group, users: left } : undefined);
  const { leftGroup } = passed;
  // Those who left the group are said on a line of their own, not among the users to take with a new plan.
  const leftWithChanges = leftGroup ? plan.users.filter((u) => u.pending > 0 && leftGroup.users.has(u.upn.toLowerCase())).length : 0;
  return {
    // notSelected keeps its place among the outcome's keys.
    outcome: { ...passed.outcome, notSelected: { ...outcome.notSelected, users: outcome.notSelected.users - leftWithChanges } },
    stateDir,
    results: passed.results,
  };
}

/**
 * `apply PLANFILE`: the plan is copied into the state folder first (0600, in a folder only this user
 * can write) and everything (the check against its sources, the pre-flight, every wave) reads that
 * copy, which must be byte for byte the file named: an edit to the file during the run cannot reach
 * the tenant.
 */
export async function applyPlanFile(path: string, req: ApplyRequest): Promise<Applied> {
  const header = await readPlanHeader(path);
  const stateDir = await stateDirFor(req.stateDir, header.tenant.id);
  await removeAbandonedPlanCopies(stateDir);
  const copy = planCopyPath(stateDir);
  try {
    await copyPlanDurably(path, copy);
  } catch (err) {
    await unlink(copy).catch(() => undefined);
    const why = storageProblem(err);
    if (why) throw new UserError(`cannot copy the plan into the state folder ${stateDir} (${why}): nothing was sent`, 1, { cause: err });
    throw new UserError(`cannot read the plan file ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 1, { cause: err });
  }
  try {
    const plan = await SavedPlan.open(path, copy);
    if (plan.header.tenant.id !== header.tenant.id) throw new UserError(`${path} changed while it was being read: apply it again`);
    if (req.planHash !== undefined && plan.hash !== req.planHash.toLowerCase()) {
      throw new UserError(`${path} is not the approved plan: its SHA-256 is ${plan.hash}, --plan-hash gives ${req.planHash}; nothing was sent`);
    }
    return await applySavedPlan(plan, { ...req, stateDir });
  } finally {
    await unlink(copy).catch(() => undefined);
  }
}

/** `apply --source`: a plan made in this process, saved beside the runs (0600) so the run keeps its copy, then applied. */
export async function applyMadePlan(made: MadePlan, req: ApplyRequest): Promise<Applied> {
  const stateDir = await stateDirFor(req.stateDir, made.built.plan.tenant.id);
  await removeAbandonedPlanCopies(stateDir);
  const path = planCopyPath(stateDir);
  await writePlanFile(path, planFileChunks(planFileOf(made)));
  try {
    return await applySavedPlan(await SavedPlan.open(path), { ...req, stateDir });
  } finally {
    await unlink(path).catch(() => undefined);
  }
}
