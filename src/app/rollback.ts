import { join } from 'node:path';
import { readRun } from '../apply/journal.js';
import { requireRunGraph } from '../apply/tenant-binding.js';
import { resumeRollback, startRollback, type RollbackOutcome } from '../apply/run-rollback.js';
import type { ApplyProgressEvent } from '../apply/run-apply.js';
import type { GraphClient } from '../graph/graph-client.js';
import { removeAbandonedPlanCopies } from './plan-copy.js';
import { findRun } from './runs.js';

export interface RollbackRequest {
  runId: string;
  stateDir?: string;
  force: boolean;
  /** Roll back although later apply runs on the tenant are still in effect. */
  outOfOrder?: boolean;
  concurrency: number;
  connect: (runGraphRoot: string | undefined) => GraphClient;
  signal?: AbortSignal;
  log?: (line: string) => void;
  onRun?: (runId: string, stateDir: string) => void;
  onProgress?: (p: ApplyProgressEvent) => void;
}

/** Undoes an apply run, or finishes an interrupted rollback run, where the run ran. */
export async function rollbackRun(req: RollbackRequest): Promise<{ outcome: RollbackOutcome; stateDir: string }> {
  const { stateDir, run } = await findRun(req.runId, req.stateDir, () => false, 'run');
  await removeAbandonedPlanCopies(stateDir);
  const view = await readRun(join(stateDir, 'runs', run.id));
  const client = req.connect(view.header.graph);
  requireRunGraph(view.header.graph, client, run.id, 'rollback');
  const deps = {
    client,
    stateDir,
    concurrency: req.concurrency,
    force: req.force,
    outOfOrder: req.outOfOrder ?? false,
    ...(req.log ? { log: req.log } : {}),
    ...(req.signal ? { signal: req.signal } : {}),
    ...(req.onProgress ? { onProgress: req.onProgress } : {}),
    onRun: (id: string) => req.onRun?.(id, stateDir),
  };
  const outcome = run.kind === 'rollback' ? await resumeRollback(run.id, deps) : await startRollback(run.id, deps);
  return { outcome, stateDir };
}
