/**
 * The worker thread a long-running command's job runs in (src/cli/run-job.ts): runs it, posting
 * progress, notices and the outcome; an `abort` message stops the run as an interrupt does.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../model/user-error.js';
import { handoffOf, runJobHere, type Job, type JobMessage } from './job.js';

const port = parentPort!;
const post = (m: JobMessage) => port.postMessage(m);
const controller = new AbortController();
port.on('message', (m: { kind: string }) => {
  if (m.kind === 'abort') controller.abort();
});

try {
  const job = workerData as Job;
  const result = await runJobHere(job, {
    signal: controller.signal,
    log: (line) => post({ kind: 'log', line }),
    onProgress: (event) => post({ kind: 'progress', event }),
    onRun: (runId, stateDir) => post({ kind: 'run', runId, stateDir }),
  });
  post({ kind: 'done', result: 'results' in result && job.kind !== 'rollback' ? handoffOf(result, job.results) : result });
} catch (err) {
  const e = err instanceof Error ? err : new Error(String(err));
  post({ kind: 'error', user: err instanceof UserError, message: e.message, exitCode: err instanceof UserError ? err.exitCode : 1, ...(e.stack ? { stack: e.stack } : {}) });
}
port.close();
