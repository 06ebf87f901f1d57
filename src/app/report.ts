import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { countStates, readRun, readRunHeader, verifyJournal, type JournalCheck, type RunSummary, type RunView } from '../apply/journal.js';
import { cutoverOperations, policyOperations, waveOperations, type Operation } from '../apply/operations.js';
import { runChunks, runTokenPath, type ApplySelection } from '../apply/run-apply.js';
import { rollbackInverses } from '../apply/run-rollback.js';
import { UserError } from '../model/user-error.js';
import { NewerPlanError, SavedPlan } from '../plan/plan-file.js';
import { laterBuildsRun, laterBuildUnverified, newerRunRefusal } from '../apply/newer-run.js';
import { buildRunReport, type RunReport, type RunReportInput } from '../report/run-report.js';
import { runsBelowHint, runsIn, stateDirsToSearch } from './runs.js';
import { findingsByUser, planReasons } from './plan-reasons.js';
import { outsidersMovedByFederation } from './left-on-server.js';
import { checkRunDir } from './state-dirs.js';

/** A run's folder, by id, in the state folder given or in any tenant folder (it must be private, as for every run command). */
export async function locateRun(runId: string, given: string | undefined): Promise<{ stateDir: string; runDir: string }> {
  if (!/^[A-Za-z0-9._-]+$/.test(runId) || runId === '.' || runId === '..') throw new UserError(`${JSON.stringify(runId)} is not a run id`);
  const { dirs } = await stateDirsToSearch(given);
  for (const stateDir of dirs) {
    const runDir = join(stateDir, 'runs', runId);
    if (!existsSync(join(runDir, 'journal.jsonl'))) continue;
    await checkRunDir(runDir);
    return { stateDir, runDir };
  }
  throw new UserError(`no run ${runId} in ${given ?? 'any tenant folder of the state base (give --state-dir to look elsewhere)'}${given ? await runsBelowHint(given, runId) : ''}`);
}

/**
 * `runs verify RUN_ID`: the journal's hash chain and plan hash, checked. A later build's run (newer-run.ts)
 * is unverifiable here: its journal may hold what this build does not know, and this build's verdict on
 * it, whole or edited, would not be the one its own build gives.
 */
export async function verifyRun(runId: string, stateDir: string | undefined): Promise<JournalCheck & { runDir: string }> {
  const located = await locateRun(runId, stateDir);
  const { runDir } = located;
  const header = await readRunHeader(runDir);
  // A journal moved from another run's folder is that check's to say (line 1), whoever wrote it.
  const newer = header && header.id === runId ? await laterBuildsRun(located.stateDir, header) : undefined;
  // Said started by this build, yet of a later format: changed after the run (exit 1), not a later build's to verify.
  if (newer?.contradiction) {
    const check = await verifyJournal(runDir);
    return { ...(check.state === 'broken' ? check : { state: 'broken' as const, line: 1, reason: newer.contradiction }), runDir };
  }
  if (newer) return { state: 'unverifiable', reason: laterBuildUnverified(newer, runId), runDir };
  return { ...(await verifyJournal(runDir)), runDir };
}

/** What a run set out to do, as the report lists it: the plan's users, and the operations not yet journaled. */
interface Planned {
  roster: RunReportInput['roster'];
  planned: RunReportInput['planned'];
  selected?: ReadonlySet<string>;
  notSelectedOps: ReadonlySet<string>;
}

/** The owners of operations that are no user's (`policy/...`, `cutover/...`, a bulk create's `tokens/...`). */
const SHARED_OWNERS = new Set(['policy', 'cutover', 'tokens']);

/**
 * `report RUN_ID`: what a run did, per user, from its journal (checked) and its plan. Reads only.
 * A plan copy that cannot be read (a rollback's: the undone run's) does not stop it: the report is
 * then made from the journal alone, and says so (an auditor found no report at all). A run of a
 * later plan format than this build reads is refused: a later build's, it is that build's to report.
 */
export async function runReport(runId: string, given: string | undefined): Promise<RunReport> {
  const { stateDir, runDir } = await locateRun(runId, given);
  const view = await readRun(runDir);
  const { runs } = await runsIn(stateDir);
  const listed = runs.find((r) => r.id === runId)!;
  // A folder holding another run's journal is listed unreadable; its report is made from that journal,
  // as for any edited one (its check says whose), with the state and counts that journal records.
  const summary: RunSummary = listed.state === 'unreadable' ? { ...listed, state: view.end?.state ?? 'interrupted', counts: countStates(view.ops.values(), view.header.totalOps) } : listed;
  const h = view.header;
  const undoneDir = h.kind === 'rollback' && h.rollbackOf ? join(stateDir, 'runs', h.rollbackOf) : undefined;
  // A rollback's report reads the run it undoes (what it set out to undo, whose changes): that run's
  // journal is checked as `runs verify` checks it (an auditor found an edited one reported "verified").
  const check = withUndoneRun(await verifyJournal(runDir), h.rollbackOf, undoneDir ? await verifyJournal(undoneDir).catch(() => undefined) : undefined);
  let planned: Planned;
  let planProblem: string | undefined;
  try {
    planned = await plannedFromPlan(view, runDir, undoneDir);
  } catch (err) {
    // A later build's run is refused, nothing written: its journal too may hold what this build
    // would misreport (only that build, or a later one, reports it). One merely unreadable is not.
    // The undone run's header alone: its journal, read whole by plannedFromPlan, is tens of MB for a large run.
    const planHeader = undoneDir ? await readRunHeader(undoneDir).catch(() => undefined) : h;
    const planDir = undoneDir ?? runDir;
    const newer = planHeader ? await newerRunRefusal(err, join(planDir, planHeader.planFile ?? 'plan.json'), planHeader, undoneDir ? runId : undefined) : undefined;
    if (newer) throw newer;
    const why = err instanceof NewerPlanError ? err.brief : (err as Error).message;
    planProblem = `${h.kind === 'rollback' ? `the plan copy of the run it undoes (${h.rollbackOf ?? 'none named'})` : 'the plan copy it applied'} cannot be read (${why})`;
    planned = fromJournal(view);
  }
  return buildRunReport({
    view,
    summary,
    check,
    rolledBackBy: runs.filter((r) => r.rollback_of === runId).sort((a, b) => a.started.localeCompare(b.started)),
    ...planned,
    ...(planProblem ? { planProblem } : {}),
  });
}

/**
 * A rollback's check with the undone run's: when this run's own journal passes but the run it undoes
 * does not (its journal edited, its plan copy changed or unreadable), the rollback's evidence is in
 * question as an edited plan copy puts an apply's: `broken`, about `undone-run`, its own lines whole.
 */
function withUndoneRun(own: JournalCheck, undoneId: string | undefined, undone: JournalCheck | undefined): JournalCheck {
  if (own.state === 'broken' || undone?.state !== 'broken') return own;
  const reason = undone.about
    ? `the run it undoes (${undoneId}) does not pass runs verify: ${undone.reason}`
    : `the journal of the run it undoes (${undoneId}) was changed after it was written: line ${undone.line}: ${undone.reason}`;
  return { state: 'broken', line: 1, reason, about: 'undone-run', ...(own.state === 'verified' ? { lines: own.lines, head: own.head } : {}) };
}

/** What the run set out to do, from its plan copy (a rollback's: the undone run's, and its journal); throws when it cannot be read. */
async function plannedFromPlan(view: RunView, runDir: string, undoneDir: string | undefined): Promise<Planned> {
  const h = view.header;
  const planDir = undoneDir ?? runDir;
  const planView = undoneDir ? await readRun(undoneDir) : view;
  const plan = await SavedPlan.open(join(planDir, planView.header.planFile ?? 'plan.json'));
  const sel = planView.header.options as unknown as Partial<ApplySelection>;
  const planned: Operation[] = [];
  // Who the run selected (--users, --group, --max-users): the others with changes are `not-selected`, as the summary and --results say.
  let selected: Set<string> | undefined;
  const notSelectedOps = new Set<string>();
  const moved = new Map<string, string[]>();
  if (h.kind === 'rollback') {
    // What the rollback set out to undo, as it computed it when it started (and computes it again to
    // finish): the inverses of what the apply run's journal records done. Journaled ones are added.
    planned.push(...(await rollbackInverses(plan, planView)).inverses);
  } else if (h.kind === 'apply') {
    const cutover = cutoverOperations(plan.cutoverChanges);
    planned.push(...policyOperations(plan.policyChanges), ...cutover.beforeWaves, ...cutover.afterWaves);
    // A domain's federation the run's selection left out (it waits for switches of users not selected).
    const fedLeftOut = (planView.header.options as { federationNotSelected?: string[] }).federationNotSelected ?? [];
    for (const o of cutover.afterWaves) if (fedLeftOut.includes(o.requires?.domain ?? '')) notSelectedOps.add(o.id);
    // The users outside the plan a forced federation moves with no method: no user row holds them.
    for (const o of cutover.afterWaves) {
      const users = outsidersMovedByFederation(plan, [o.requires?.domain ?? ''])[0]?.users;
      if (users) moved.set(o.id, users);
    }
    // The run's operations as it built them (runChunks): the users written before the staged rollout's step, then wave by wave, on the token path it recorded.
    const chunks = runChunks(plan, { ...(sel.users ? { users: sel.users } : {}), ...(sel.maxUsers !== undefined ? { maxUsers: sel.maxUsers } : {}), batchSize: sel.batchSize ?? 500, ...(sel.methodsFirst !== undefined ? { methodsFirst: sel.methodsFirst } : {}) });
    selected = new Set(chunks.flat().map((i) => plan.users[i]!.upn.toLowerCase()));
    for (const chunk of chunks) planned.push(...waveOperations(await plan.read(chunk), runTokenPath(sel)));
  }
  // By which rule, and what the plan found of each user (a token it could not migrate leaves them `unchanged`): the run's evidence says it too.
  const reason = await planReasons(plan);
  const findings = await findingsByUser(plan);
  return {
    roster: plan.users.map((u) => ({ ...u, findings: findings.get(u.upn.toLowerCase()) ?? [] })),
    planned: planned.map((o) => ({ id: o.id, ...(o.userId !== undefined ? { userId: o.userId } : {}), kind: o.kind, after: o.after, ...reason(o), ...(moved.has(o.id) ? { movedWithoutMethod: moved.get(o.id)! } : {}) })),
    ...(selected ? { selected } : {}),
    notSelectedOps,
  };
}

/**
 * With no plan to read: the users are those the journal's operations name, by their object id (the
 * journal holds no UPN), and nothing is listed that the journal does not record.
 */
function fromJournal(view: RunView): Planned {
  const ids = new Set<string>();
  for (const id of view.ops.keys()) {
    const key = id.startsWith('rollback/') ? id.slice('rollback/'.length) : id;
    const owner = key.slice(0, key.indexOf('/'));
    if (owner && !SHARED_OWNERS.has(owner)) ids.add(owner);
  }
  return { roster: [...ids].map((id) => ({ upn: id, userId: id, status: 'changes' as const })), planned: [], notSelectedOps: new Set() };
}
