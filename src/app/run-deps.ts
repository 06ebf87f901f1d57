import type { ApplyDeps, ApplyProgressEvent } from '../apply/run-apply.js';

/** The callbacks an apply or a resume request passes on to its run. */
export interface RunCallbacks {
  signal?: AbortSignal;
  onProgress?: (p: ApplyProgressEvent) => void;
  log?: (line: string) => void;
  onRun?: (runId: string, stateDir: string) => void;
}

/** What a run of an apply or a resume works with: its request's callbacks, onRun told the state dir too. */
export function runDeps(req: RunCallbacks, client: ApplyDeps['client'], stateDir: string, seeds: ApplyDeps['seeds']): ApplyDeps {
  return {
    client,
    stateDir,
    seeds,
    ...(req.onProgress ? { onProgress: req.onProgress } : {}),
    ...(req.log ? { log: req.log } : {}),
    ...(req.signal ? { signal: req.signal } : {}),
    onRun: (id) => req.onRun?.(id, stateDir),
  };
}
