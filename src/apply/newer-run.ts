import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toolVersion } from '../io/tool-version.js';
import { UserError } from '../model/user-error.js';
import { NewerPlanError, PLAN_FILE_VERSION, readPlanHeader } from '../plan/plan-file.js';
import { readRunHeader, type RunHeader } from './journal.js';

/**
 * A run whose plan copy is of a later format than this build reads: a later mfa-migrate started it,
 * and its plan and journal may hold what this one does not know (operations it would not rebuild,
 * records it would misread). Only the build that started it, or a later one, may resume it, roll it
 * back or report it: a new plan, the advice for a plan file, cannot take over a run that exists.
 * `undoneBy`: the rollback run asked for, when the run is the apply it undoes.
 */
export class NewerRunError extends UserError {
  constructor(err: NewerPlanError, run: Pick<RunHeader, 'id' | 'operator'>, undoneBy?: string) {
    // The build the journal names started the run; a journal before those records leaves the plan's.
    const started = run.operator?.toolVersion ?? err.madeBy;
    const build = started ? ` (mfa-migrate ${started})` : '';
    const subject = undoneBy ? `run ${undoneBy} undoes run ${run.id}, whose plan copy` : `run ${run.id}: its plan copy`;
    super(
      `${subject} (${err.path}) is of plan format ${err.version}, and this mfa-migrate (${toolVersion()}) reads plan formats up to ${PLAN_FILE_VERSION}: ` +
        `run ${run.id} was started by a later one${build}, whose plan and journal may hold what this one does not know, so this one does not resume, roll back or report it. ` +
        `Use the mfa-migrate that started run ${run.id}${build}, or a later one (a new plan does not take over a run)`,
    );
  }
}

/**
 * The refusal of a run whose plan copy `err` refused as a later format's, when that copy is the run's
 * own (its SHA-256 the one the journal records); undefined for any other error, and for a copy
 * changed after the run (put back, not upgraded to: its caller says so).
 */
export async function newerRunRefusal(err: unknown, path: string, run: Pick<RunHeader, 'id' | 'operator' | 'planHash'>, undoneBy?: string): Promise<NewerRunError | undefined> {
  if (!(err instanceof NewerPlanError)) return undefined;
  const sha = await readFile(path).then(
    (b) => createHash('sha256').update(b).digest('hex'),
    () => undefined,
  );
  return sha === run.planHash ? new NewerRunError(err, run, undoneBy) : undefined;
}

/**
 * Refuses a later build's run (`header`: the run asked for; a rollback's copy is its undone run's)
 * before a resume or rollback tidies anything in the state folder: a dead process's plan copies
 * removed, its lock taken over. The copy's header line alone is read; the copy is the run's, never
 * written again, so nothing can change it between here and the full read under the lock, which
 * words every other problem (this leaves them to it).
 */
export async function refuseLaterBuildsRun(stateDir: string, header: RunHeader): Promise<void> {
  const runId = header.kind === 'rollback' ? header.rollbackOf : header.id;
  if (!runId) return;
  const runDir = join(stateDir, 'runs', runId);
  const run = header.kind === 'rollback' ? await readRunHeader(runDir).catch(() => undefined) : header;
  if (!run) return;
  const path = join(runDir, run.planFile ?? 'plan.json');
  const err = await readPlanHeader(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  const newer = await newerRunRefusal(err, path, run, header.kind === 'rollback' ? header.id : undefined);
  if (newer) throw newer;
}
