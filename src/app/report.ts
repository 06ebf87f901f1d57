import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { verifyJournal, type JournalCheck } from '../apply/journal.js';
import { UserError } from '../model/user-error.js';
import { stateDirsToSearch } from './runs.js';
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
  throw new UserError(`no run ${runId} in ${given ?? 'any tenant folder of the state base (give --state-dir to look elsewhere)'}`);
}

/** `runs verify RUN_ID`: the journal's hash chain and plan hash, checked. */
export async function verifyRun(runId: string, stateDir: string | undefined): Promise<JournalCheck & { runDir: string }> {
  const { runDir } = await locateRun(runId, stateDir);
  return { ...(await verifyJournal(runDir)), runDir };
}
