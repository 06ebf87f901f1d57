import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toolVersion } from '../io/tool-version.js';
import { UserError } from '../model/user-error.js';
import { NewerPlanError, PLAN_FILE_VERSION, readPlanHeader } from '../plan/plan-file.js';
import { readRunHeader, type HeaderLines, type RunHeader } from './journal.js';

/**
 * A run whose plan copy is of a later format than this build reads: a later mfa-migrate started it,
 * and its plan and journal may hold what this one does not know (operations it would not rebuild,
 * records it would misread). Only the build that started it, or a later one, may resume it, roll it
 * back or report it: a new plan, the advice for a plan file, cannot take over a run that exists.
 * `undoneBy`: the rollback run asked for, when the run is the apply it undoes.
 */
export class NewerRunError extends UserError {
  /** The run a later build started (a rollback's: the run it undoes). */
  readonly runId: string;
  /** Its plan copy's format. */
  readonly planFormat: string;
  /** The build that started it, as its journal (else its plan) names it; undefined when neither does. */
  readonly startedBy: string | undefined;
  /**
   * Set when the run's journal says this very build started it: no build writes a plan format later
   * than its own, so the copy (relabelled, its hash put in the journal) or the journal was changed
   * after the run. Why, in words: the run is not a later build's, and is said changed, not left to one.
   */
  readonly contradiction: string | undefined;
  constructor(err: NewerPlanError, run: Pick<RunHeader, 'id' | 'operator'>, undoneBy?: string) {
    // The build the journal names started the run; a journal before those records leaves the plan's.
    const started = run.operator?.toolVersion ?? err.madeBy;
    const build = started ? ` (mfa-migrate ${started})` : '';
    const subject = undoneBy ? `run ${undoneBy} undoes run ${run.id}, whose plan copy` : `run ${run.id}: its plan copy`;
    const contradiction =
      run.operator?.toolVersion === toolVersion()
        ? `run ${run.id}'s journal says this mfa-migrate (${toolVersion()}) started it, but its plan copy (${err.path}) is of plan format ${err.version}, later than the ${PLAN_FILE_VERSION} this one writes: ` +
          `the copy or the journal was changed after the run`
        : undefined;
    super(
      contradiction
        ? `${undoneBy ? `run ${undoneBy} undoes run ${run.id}: ` : ''}${contradiction}: put back the run's plan copy and journal as the run left them`
        : `${subject} (${err.path}) is of plan format ${err.version}, and this mfa-migrate (${toolVersion()}) reads plan formats up to ${PLAN_FILE_VERSION}: ` +
            `run ${run.id} was started by a later one${build}, whose plan and journal may hold what this one does not know, so this one does not resume, roll back or report it. ` +
            `Use the mfa-migrate that started run ${run.id}${build}, or a later one (a new plan does not take over a run)`,
    );
    this.runId = run.id;
    this.planFormat = err.version;
    this.startedBy = started;
    this.contradiction = contradiction;
  }
}

/** Why `runs verify` of run `runId` leaves it to the build that started it (`newer`: that run's, or the run it undoes). */
export function laterBuildUnverified(newer: NewerRunError, runId: string): string {
  const by = `a later mfa-migrate${newer.startedBy ? ` (${newer.startedBy})` : ''}`;
  const [run, copy] = newer.runId === runId ? [`started by ${by}`, 'its plan copy'] : [`it undoes run ${newer.runId}, started by ${by}`, `run ${newer.runId}'s plan copy`];
  return (
    `${run}: ${copy} is of plan format ${newer.planFormat}, and this one (${toolVersion()}) reads plan formats up to ${PLAN_FILE_VERSION}, ` +
    `so its journal may hold what this one does not know: this one does not verify it (it calls it neither whole nor edited). ` +
    `Verify it with the mfa-migrate that started run ${newer.runId}, or a later one`
  );
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
 * The refusal of `header`'s run when a later build started it (a rollback's: when its undone run is
 * such a run), else undefined. The copy's header line alone is read, and the whole copy hashed only
 * when that line is of a later format. A copy named plan.json is a 1.x plan, which no later build
 * writes: not read (a 1.x copy's header is the whole file), so that `runs` costs no more for it.
 */
export async function laterBuildsRun(stateDir: string, header: RunHeader, headerLines?: HeaderLines): Promise<NewerRunError | undefined> {
  const runId = header.kind === 'rollback' ? header.rollbackOf : header.id;
  if (!runId) return undefined;
  const runDir = join(stateDir, 'runs', runId);
  const run = header.kind === 'rollback' ? await readRunHeader(runDir, headerLines).catch(() => undefined) : header;
  if (!run) return undefined;
  const file = run.planFile ?? 'plan.json';
  if (file === 'plan.json') return undefined;
  const path = join(runDir, file);
  const err = await readPlanHeader(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  return newerRunRefusal(err, path, run, header.kind === 'rollback' ? header.id : undefined);
}

/**
 * Refuses a later build's run (`header`: the run asked for; a rollback's copy is its undone run's)
 * before a resume or rollback tidies anything in the state folder: a dead process's plan copies
 * removed, its lock taken over. The copy is the run's, never written again, so nothing can change it
 * between here and the full read under the lock, which words every other problem (this leaves them to it).
 */
export async function refuseLaterBuildsRun(stateDir: string, header: RunHeader): Promise<void> {
  const newer = await laterBuildsRun(stateDir, header);
  if (newer) throw newer;
}
