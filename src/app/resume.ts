import { join } from 'node:path';
import { readRun, readRunHeader, verifyJournal, type RunSummary } from '../apply/journal.js';
import { requireRunGraph } from '../apply/tenant-binding.js';
import { resumeApply, openRunPlan, selectUsers, type ApplyOutcome, type ApplyProgressEvent, type ApplySelection } from '../apply/run-apply.js';
import type { GraphClient } from '../graph/graph-client.js';
import type { SecretFileOptions } from '../io/secret-file.js';
import type { ResultRow } from './results.js';
import { findRun } from './runs.js';
import { prepareRunTakeover } from './run-takeover.js';
import { checkPlanAgainstSources, CHECK_SAID_FROM_USERS } from './plan-check.js';
import { isOlderFormat } from '../plan/plan-file.js';
import { printable } from '../model/printable.js';
import { joinedGroupText, leftGroupNote, leftGroupText, scopeGroupNow } from './scope-group-now.js';
import { passResults } from './pass-results.js';
import { runDeps } from './run-deps.js';

export interface ResumeRequest {
  runId?: string;
  stateDir?: string;
  waves?: number;
  /** Minutes activations refused while the hardware OATH policy propagates are tried again (the run's own when unset). */
  policyPropagationWait?: number;
  /** The Graph of the run (its journal names the root) unless the admin named one. */
  connect: (runGraphRoot: string | undefined) => GraphClient;
  /** How the PSKC key and password files the plan records are read again: --strict-permissions, where warnings go. */
  secretFiles?: SecretFileOptions;
  signal?: AbortSignal;
  onProgress?: (p: ApplyProgressEvent) => void;
  log?: (line: string) => void;
  onRun?: (runId: string, stateDir: string) => void;
}

/**
 * A partial run with nothing failed, unsent or of unknown outcome, and every skip a stale one (not a
 * switch held back for methods gone since, which a resume sends once they are back): only users left
 * out as stale are left, which no resume sends. The latest such run is not the one a plain `resume`
 * takes up: an older run a resume can finish would hide behind it.
 */
function onlyStaleLeft(r: RunSummary): boolean {
  return r.state === 'partial' && r.counts.failed + r.counts.pending + r.counts.started === 0 && r.counts.skipped <= (r.skipped_stale ?? r.counts.skipped);
}

/** What a resume does with the run's users who left the plan's scope group since the plan. */
const LEFT_OUT_BY_RESUME = 'left out of the rest of this run, journaled as stale (what no resume sends): nothing more is sent to them, their switch included';

/** Finishes an apply run (the latest unfinished one a resume can finish, when none is named), where it ran. */
export async function resumeRun(req: ResumeRequest): Promise<{ outcome: ApplyOutcome; stateDir: string; results: ResultRow[] }> {
  const { stateDir, run } = await findRun(
    req.runId,
    req.stateDir,
    (r) => r.kind === 'apply' && ['interrupted', 'partial', 'stopped', 'running'].includes(r.state) && r.rolled_back_by.length === 0 && !onlyStaleLeft(r),
    'unfinished apply run a resume can finish (not rolled back; a run left with only users skipped as stale needs a new plan of them)',
  );
  const runDir = join(stateDir, 'runs', run.id);
  await prepareRunTakeover(stateDir, await readRunHeader(runDir));
  const view = await readRun(runDir);
  const plan = await openRunPlan(runDir, view);
  // The run's copy of the plan is checked as apply checked it: exactly what its sources give. One of
  // an older format, checked by the version that started the run, by its hash and sources only, and
  // only when the journal's hash chain holds that hash (a journal from before the chain proves nothing).
  // (Read only for such a copy: the journal of a large run is tens of MB.)
  const check = isOlderFormat(plan.header) ? (await verifyJournal(runDir)).state : undefined;
  // A journal from before the chain gets the advice for one; a broken one is refused below (requireIntactJournal) in its own words.
  // Seconds at this size (the sources read again, planned again), said as apply says it: not silence.
  if (plan.users.length >= CHECK_SAID_FROM_USERS) req.log?.(`Checking run ${run.id}'s plan (${plan.path}) against its export and seed files (${plan.users.length} users): an edited plan is never applied`);
  const { seeds, exportUsers } = await checkPlanAgainstSources(plan, req.log, req.secretFiles, { runCopy: check === 'verified', ...(check === 'unverifiable' ? { runId: run.id } : {}) });
  const recorded = view.header.graph ?? plan.header.graph;
  const client = req.connect(recorded);
  requireRunGraph(recorded, client, run.id, 'resume');
  const users = (view.header.options as unknown as ApplySelection).users;
  // A plan made with --group: the wave is the group's members, read again; the run's users who left
  // it since the plan are left out of the rest of the run (journaled as stale, before anything is sent).
  const scope = await scopeGroupNow(client, plan, exportUsers);
  const selected = scope && scope.left.length > 0 ? new Set(selectUsers(plan, view.header.options as unknown as ApplySelection).map((i) => plan.users[i]!.upn.toLowerCase())) : undefined;
  const left = scope ? scope.left.filter((u) => selected?.has(u.toLowerCase())) : [];
  const target = scope ? `scope group "${printable(scope.group.displayName)}"` : '';
  // Who joined is said now; who left, by the resume once it knows whom it leaves out (under the run's lock).
  const joined = scope ? joinedGroupText(scope) : undefined;
  if (joined) req.log?.(joined);
  const outcome = await resumeApply(
    run.id,
    {
      ...(req.waves !== undefined ? { waves: req.waves } : {}),
      ...(req.policyPropagationWait !== undefined ? { policyPropagationWait: req.policyPropagationWait } : {}),
      ...(scope && left.length > 0
        ? {
            leftScopeGroup: {
              users: new Set(left.map((u) => u.toLowerCase())),
              stale: (upn: string) => ({ user: upn, target, planned: 'a member', now: 'not a member', reason: `${leftGroupNote(scope.group)}, the plan's scope (plan --group): what is left of theirs is not sent` }),
              said: (upns: readonly string[]) => req.log?.(leftGroupText(scope.group, upns, LEFT_OUT_BY_RESUME)),
            },
          }
        : {}),
    },
    runDeps(req, client, stateDir, seeds),
  );
  const kept = users ? new Set(users.map((u) => u.toLowerCase())) : undefined;
  // Those this pass left out (a user whose writes were all done before has nothing left to leave out).
  const leftOut = outcome.stale.filter((x) => x.target === target && x.user !== undefined).map((x) => x.user!);
  // And those the apply left out as they had left the group by then (its options record them): listed
  // as apply listed them (not-selected, why), not dropped as users the run never had.
  const leftAtStart = new Set((view.header.options as unknown as ApplySelection).scopeGroupLeft ?? []);
  const leftEver = new Set([...leftAtStart, ...leftOut.map((u) => u.toLowerCase())]);
  const leftUsers = plan.users.filter((u) => leftEver.has(u.upn.toLowerCase())).map((u) => u.upn);
  const passed = await passResults(plan, kept, outcome, scope ? { group: scope.group, users: leftUsers } : undefined);
  // Said on the summary's own line, as apply says them, not among the users to take with a new plan.
  const leftWithChanges = plan.users.filter((u) => u.pending > 0 && leftAtStart.has(u.upn.toLowerCase())).length;
  return { outcome: { ...passed.outcome, notSelected: { ...passed.outcome.notSelected, users: passed.outcome.notSelected.users - leftWithChanges } }, stateDir, results: passed.results };
}
