import type { RunHeader } from '../apply/journal.js';
import { refuseLaterBuildsRun } from '../apply/newer-run.js';
import { refuseLiveHolder } from '../apply/state-lock.js';
import { removeAbandonedPlanCopies } from './plan-copy.js';

/**
 * What resume and rollback do before they take a run over, in this order: a live holder of the state
 * folder's lock is named (nothing taken), then a later build's run is refused (an operator told to
 * switch builds first only then learned the folder was in use), and only then are a dead process's
 * plan copies removed (its lock is taken over under the command's own lock). `header`: the run asked
 * for (a rollback's: its own, whose undone run's copy is read); none, for a run without one.
 */
export async function prepareRunTakeover(stateDir: string, header: RunHeader | undefined): Promise<void> {
  refuseLiveHolder(stateDir);
  if (header) await refuseLaterBuildsRun(stateDir, header);
  await removeAbandonedPlanCopies(stateDir);
}
