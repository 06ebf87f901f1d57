import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Applied } from '../app/apply.js';
import type { RollbackOutcome } from '../apply/run-rollback.js';
import type { ApplyProgressEvent } from '../apply/run-apply.js';
import { UserError } from '../model/user-error.js';
import type { AppliedHandoff, Job, JobMessage } from './job.js';

/** What a job reports as it runs. */
export interface JobControl {
  signal: AbortSignal;
  onProgress?: (e: ApplyProgressEvent) => void;
  onRun?: (runId: string, stateDir: string) => void;
  log: (line: string) => void;
}

/** A rollback's outcome; an apply's or resume's whole (run here) or as handed over by the worker. */
export type JobResult<J extends Job> = J['kind'] extends 'rollback' ? { outcome: RollbackOutcome; stateDir: string } : Applied | AppliedHandoff;

/**
 * Heap ceiling of the job's worker, by the users (or operations) it may handle. Not to squeeze the
 * job (a 100,000-user apply holds about 125 MB at its largest, 1.25 KB a user), but because V8 sizes
 * its collections by the ceiling: with one under 2 GB it lets the heap grow to about 1.3-1.5 times
 * what is live before collecting, against 4 times under the default ceiling of a large machine. A
 * 100,000-user apply peaked at 600-700 MB in this thread, 280-300 MB in a worker of 384-512 MB,
 * 260-280 MB once the worker stopped handing over every user's outcome (job.ts, handoffOf).
 * 3 KB a user leaves the job more than twice what it needs.
 */
export function jobHeapMb(users: number, env: NodeJS.ProcessEnv = process.env): number {
  const given = env.MFA_MIGRATE_JOB_HEAP_MB;
  if (given !== undefined && /^[1-9]\d*$/.test(given.trim())) return Number(given.trim());
  return Math.min(8192, Math.max(384, Math.ceil((users * 3 * 1024) / (1024 * 1024))));
}

/**
 * Runs apply, resume or rollback in a worker thread (see jobHeapMb) and relays its progress, notices
 * and outcome; an interrupt is passed on as an abort, so the run stops as it would here. From the
 * TypeScript sources (in-process tests) there is no compiled worker: the job runs in this thread.
 */
export async function runJob<J extends Job>(job: J, ctl: JobControl, users: number): Promise<JobResult<J>> {
  const entry = new URL('./job-worker.js', import.meta.url);
  if (!existsSync(fileURLToPath(entry))) {
    const { runJobHere } = await import('./job.js');
    return (await runJobHere(job, ctl)) as JobResult<J>;
  }
  const heapMb = jobHeapMb(users);
  const worker = new Worker(entry, { workerData: job, resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 24 } });
  let runStarted = false;
  const abort = () => worker.postMessage({ kind: 'abort' });
  if (ctl.signal.aborted) abort();
  else ctl.signal.addEventListener('abort', abort, { once: true });
  try {
    return await new Promise<JobResult<J>>((resolve, reject) => {
      let settled = false;
      worker.on('message', (m: JobMessage) => {
        if (m.kind === 'progress') ctl.onProgress?.(m.event);
        else if (m.kind === 'run') {
          runStarted = true;
          ctl.onRun?.(m.runId, m.stateDir);
        }
        else if (m.kind === 'log') ctl.log(m.line);
        else if (m.kind === 'done') {
          settled = true;
          resolve(m.result as JobResult<J>);
        } else if (m.kind === 'error') {
          settled = true;
          const err = m.user ? new UserError(m.message, m.exitCode) : Object.assign(new Error(m.message), { stack: m.stack });
          reject(err);
        }
      });
      worker.once('error', (err) => {
        settled = true;
        // Past the ceiling the worker is stopped like a crash: the journal stands. The command that
        // started it names the run to finish (its state folder included); a larger ceiling is the
        // admin's to give, since the same job would be sized the same again.
        if ((err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY') {
          const more = `set MFA_MIGRATE_JOB_HEAP_MB=${heapMb * 2}`;
          reject(
            new UserError(
              `the ${job.kind} ran out of memory (a heap ceiling of ${heapMb} MB, sized for ${users} users or operations): ${runStarted ? `${more} and finish the run` : `no run was started and nothing was written; ${more} and run it again`}`,
            ),
          );
        } else reject(err);
      });
      worker.once('exit', (code) => {
        if (!settled) reject(new Error(`the ${job.kind} worker stopped with exit code ${code}`));
      });
    });
  } finally {
    ctl.signal.removeEventListener('abort', abort);
    await worker.terminate();
  }
}
