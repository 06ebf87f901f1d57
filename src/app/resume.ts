import { join } from 'node:path';
import { readRun, verifyJournal, type RunSummary } from '../apply/journal.js';
import { requireRunGraph } from '../apply/tenant-binding.js';
import { resumeApply, openRunPlan, type ApplyOutcome, type ApplyProgressEvent, type ApplySelection } from '../apply/run-apply.js';
import type { GraphClient } from '../graph/graph-client.js';
import type { SecretFileOptions } from '../io/secret-file.js';
import { resultRows, type ResultRow } from './results.js';
import { findRun } from './runs.js';
import { removeAbandonedPlanCopies } from './plan-copy.js';
import { checkPlanAgainstSources, CHECK_SAID_FROM_USERS } from './plan-check.js';
import { isOlderFormat } from '../plan/plan-file.js';

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

/** Finishes an apply run (the latest unfinished one a resume can finish, when none is named), where it ran. */
export async function resumeRun(req: ResumeRequest): Promise<{ outcome: ApplyOutcome; stateDir: string; results: ResultRow[] }> {
  const { stateDir, run } = await findRun(
    req.runId,
    req.stateDir,
    (r) => r.kind === 'apply' && ['interrupted', 'partial', 'stopped', 'running'].includes(r.state) && r.rolled_back_by.length === 0 && !onlyStaleLeft(r),
    'unfinished apply run a resume can finish (not rolled back; a run left with only users skipped as stale needs a new plan of them)',
  );
  await removeAbandonedPlanCopies(stateDir);
  const runDir = join(stateDir, 'runs', run.id);
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
  const seeds = await checkPlanAgainstSources(plan, req.log, req.secretFiles, { runCopy: check === 'verified', ...(check === 'unverifiable' ? { runId: run.id } : {}) });
  const recorded = view.header.graph ?? plan.header.graph;
  const client = req.connect(recorded);
  requireRunGraph(recorded, client, run.id, 'resume');
  const outcome = await resumeApply(run.id, { ...(req.waves !== undefined ? { waves: req.waves } : {}), ...(req.policyPropagationWait !== undefined ? { policyPropagationWait: req.policyPropagationWait } : {}) }, {
    client,
    stateDir,
    seeds,
    ...(req.onProgress ? { onProgress: req.onProgress } : {}),
    ...(req.log ? { log: req.log } : {}),
    ...(req.signal ? { signal: req.signal } : {}),
    onRun: (id) => req.onRun?.(id, stateDir),
  });
  const users = (view.header.options as unknown as ApplySelection).users;
  const kept = users ? new Set(users.map((u) => u.toLowerCase())) : undefined;
  return { outcome, stateDir, results: resultRows(plan.users, (upn) => !kept || kept.has(upn.toLowerCase()), outcome.users) };
}
