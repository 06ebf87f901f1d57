import { applyPlanFile, type Applied, type ApplyRequest } from '../app/apply.js';
import type { ApplyOutcome } from '../apply/run-apply.js';
import { resumeRun } from '../app/resume.js';
import { rollbackRun } from '../app/rollback.js';
import type { ApplyProgressEvent } from '../apply/run-apply.js';
import type { RollbackOutcome } from '../apply/run-rollback.js';
import { connectFromOptions, type GraphCliOptions } from './graph-options.js';
import { secretFilesFrom } from './strict-permissions.js';
import type { JobControl } from './run-job.js';
import { renderResultsCsv, resultsRun } from './views/results-csv.js';

/**
 * A long-running command's work as data (it may cross to a worker thread): apply of a saved plan,
 * resume, rollback. Only plain values: the Graph client is built where the job runs.
 */
export type Job =
  | { kind: 'apply'; planFile: string; graph: GraphCliOptions; request: ApplyJobRequest; results: boolean }
  | { kind: 'resume'; graph: GraphCliOptions; request: { runId?: string; stateDir?: string; waves?: number }; results: boolean }
  | { kind: 'rollback'; graph: GraphCliOptions; request: { runId: string; stateDir?: string; force: boolean; outOfOrder?: boolean; leaveSwitchedWithoutMethod?: boolean; concurrency: number } };

/** An apply's request as data: the use case's, less what is made where the job runs (the client, callbacks). */
export type ApplyJobRequest = Omit<ApplyRequest, 'graph' | 'secretFiles' | 'signal' | 'onProgress' | 'log' | 'onRun'>;

/** What a job's worker posts to the thread that started it. */
export type JobMessage =
  | { kind: 'progress'; event: ApplyProgressEvent }
  | { kind: 'run'; runId: string; stateDir: string }
  | { kind: 'log'; line: string }
  | { kind: 'done'; result: AppliedHandoff | { outcome: RollbackOutcome; stateDir: string } }
  | { kind: 'error'; user: boolean; message: string; exitCode: number; stack?: string };

/** Runs a job in this thread. */
export async function runJobHere(job: Job, ctl: JobControl): Promise<Applied | { outcome: RollbackOutcome; stateDir: string }> {
  // Said once each, through the job's notices (apply --source reads the PSKC files twice).
  const secretFiles = secretFilesFrom(job.graph, ctl.log);
  const events = {
    signal: ctl.signal,
    log: ctl.log,
    ...(ctl.onProgress ? { onProgress: ctl.onProgress } : {}),
    ...(ctl.onRun ? { onRun: ctl.onRun } : {}),
  };
  switch (job.kind) {
    case 'apply': {
      const { readPlanHeader } = await import('../plan/plan-file.js');
      const header = await readPlanHeader(job.planFile);
      return applyPlanFile(job.planFile, { ...job.request, graph: connectFromOptions(job.graph, false, header.graph, ctl.log), secretFiles, ...events });
    }
    case 'resume':
      return resumeRun({ ...job.request, connect: (root) => connectFromOptions(job.graph, false, root, ctl.log), secretFiles, ...events });
    case 'rollback':
      return rollbackRun({ ...job.request, connect: (root) => connectFromOptions(job.graph, false, root, ctl.log), ...events });
  }
}

/**
 * An apply's or resume's result as the worker hands it over: what the thread that prints needs, not
 * one object per user (100,000 users' outcomes and result rows, copied across, were the run's peak
 * of memory): the counts, the users that failed or are partial (the summary names 20), and the
 * results file's text when it was asked for.
 */
export interface AppliedHandoff {
  /** Its `users` are only the failed or partial ones, the first 20 (`failedOrPartial` counts them all, userCounts everyone). */
  outcome: ApplyOutcome;
  stateDir: string;
  resultsCsv?: string;
}

export function handoffOf(applied: Applied, results: boolean): AppliedHandoff {
  const failedOrPartial = applied.outcome.users.filter((u) => u.outcome === 'failed' || u.outcome === 'partial');
  return {
    // Their total goes with the first 20: the summary says how many more and where (a 30,000-user run read 20 of 120, no more said).
    outcome: { ...applied.outcome, users: failedOrPartial.slice(0, 20), failedOrPartial: failedOrPartial.length },
    stateDir: applied.stateDir,
    ...(results ? { resultsCsv: renderResultsCsv(applied.results, resultsRun(applied.outcome)) } : {}),
  };
}
