import { join } from 'node:path';
import { readRun, readRunHeader, type RunHeader, type RunSummary } from '../apply/journal.js';
import { requireRunGraph } from '../apply/tenant-binding.js';
import { refuseRolledBack, refuseWhileLaterRunsInEffect, resumeRollback, startRollback, type RollbackOutcome } from '../apply/run-rollback.js';
import type { ApplyProgressEvent } from '../apply/run-apply.js';
import type { GraphClient } from '../graph/graph-client.js';
import { UserError } from '../model/user-error.js';
import { prepareRunTakeover } from './run-takeover.js';
import { findRun } from './runs.js';

export interface RollbackRequest {
  runId: string;
  stateDir?: string;
  force: boolean;
  /** Roll back although later apply runs on the tenant are still in effect (that rule alone). */
  outOfOrder?: boolean;
  /** Take methods all the same from users it leaves switched to Entra MFA with none they can use (RollbackDeps). */
  leaveSwitchedWithoutMethod?: boolean;
  concurrency: number;
  connect: (runGraphRoot: string | undefined) => GraphClient;
  signal?: AbortSignal;
  log?: (line: string) => void;
  onRun?: (runId: string, stateDir: string) => void;
  onProgress?: (p: ApplyProgressEvent) => void;
}

/** Undoes an apply run, or finishes an interrupted rollback run, where the run ran. */
export async function rollbackRun(req: RollbackRequest): Promise<{ outcome: RollbackOutcome; stateDir: string }> {
  const { stateDir, run, runs } = await findRun(req.runId, req.stateDir, () => false, 'run');
  // The header alone: the journal of a large run is tens of MB, read by the rollback itself.
  const header = (await readRunHeader(join(stateDir, 'runs', run.id))) ?? (await readRun(join(stateDir, 'runs', run.id))).header;
  // What the run list already refuses is refused now, before the reads of the journals, the plan copy
  // and the tenant (a black-box test waited 10 s to be told the run was being rolled back already);
  // the rollback checks again under the state folder's lock. While a run is going, the lock's holder
  // is named first (prepareRunTakeover): the run is not judged by a journal it is writing.
  if (!runs.some((r) => r.state === 'running')) refuseAtOnce(run, header, runs, stateDir, req.outOfOrder === true);
  await prepareRunTakeover(stateDir, header);
  const client = req.connect(header.graph);
  requireRunGraph(header.graph, client, run.id, 'rollback');
  const deps = {
    client,
    stateDir,
    concurrency: req.concurrency,
    force: req.force,
    outOfOrder: req.outOfOrder ?? false,
    leaveSwitchedWithoutMethod: req.leaveSwitchedWithoutMethod ?? false,
    ...(req.log ? { log: req.log } : {}),
    ...(req.signal ? { signal: req.signal } : {}),
    ...(req.onProgress ? { onProgress: req.onProgress } : {}),
    onRun: (id: string) => req.onRun?.(id, stateDir),
  };
  const outcome = run.kind === 'rollback' ? await resumeRollback(run.id, deps) : await startRollback(run.id, deps);
  return { outcome, stateDir };
}

/** A rollback the run list refuses: of an apply run rolled back (or being rolled back), of a rollback that completed, under later runs in effect. */
function refuseAtOnce(run: RunSummary, header: RunHeader, runs: readonly RunSummary[], stateDir: string, outOfOrder: boolean): void {
  if (run.kind === 'apply') {
    refuseRolledBack(runs, run.id, stateDir);
    if (!outOfOrder) refuseWhileLaterRunsInEffect(runs, run.id, stateDir);
  } else if (run.kind === 'rollback') {
    if (run.state === 'completed') throw new UserError(`run ${run.id} is a rollback that completed: nothing is left to undo`);
    // One started with --out-of-order goes on as it was started.
    if (!outOfOrder && (header.options as { outOfOrder?: boolean } | undefined)?.outOfOrder !== true && header.rollbackOf) refuseWhileLaterRunsInEffect(runs, header.rollbackOf, stateDir);
  }
}
