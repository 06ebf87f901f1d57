import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pLimit from 'p-limit';
import { listRuns, readRunHeader, verifyJournal, type HeaderLines, type RunSummary } from '../apply/journal.js';
import { laterBuildsRun } from '../apply/newer-run.js';
import { lockHolderAlive, readLock, type LockInfo } from '../apply/state-lock.js';
import { UserError } from '../model/user-error.js';
import { allStateDirs, checkRunDir, checkStateDir, stateBase } from './state-dirs.js';

export interface StateDirRuns {
  stateDir: string;
  runs: RunSummary[];
  /** The live holder of the folder's lock, if any (its run is `running`). */
  holder?: LockInfo;
  /** Why the folder was left out (not private). */
  refused?: string;
  /**
   * A folder given (--state-dir) that holds no runs itself: its sub-folders that do, as the state
   * base's tenant folders do (the folder was given one level too high); `stateBase` when it is the base.
   */
  runsBelow?: { dirs: string[]; stateBase: boolean };
}

/**
 * The sub-folders of `dir` that hold runs of their own, as the tenant folders of the state base
 * do: given as --state-dir, the base (or a copy of it) holds no run itself, and "no runs" alone
 * would send the admin away from runs one level down (a docs audit).
 */
async function runFoldersBelow(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const found: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || e.name === 'runs') continue;
    const runs = await readdir(join(dir, e.name, 'runs')).catch(() => [] as string[]);
    if (runs.length > 0) found.push(join(dir, e.name));
  }
  return found.sort();
}

/** Where the runs are when `given` holds none itself but its sub-folders do (else undefined). */
async function runsBelow(given: string): Promise<StateDirRuns['runsBelow']> {
  const dirs = await runFoldersBelow(given);
  return dirs.length > 0 ? { dirs, stateBase: resolve(given) === resolve(stateBase()) } : undefined;
}

/** The runs of one state folder, newest first; `running` only for the run a live lock holder names. */
export async function runsIn(stateDir: string): Promise<StateDirRuns> {
  const lock = await readLock(join(stateDir, 'lock'));
  const holder = lock && lockHolderAlive(lock) ? lock : undefined;
  return { stateDir, runs: await listRuns(stateDir, (id) => holder?.runId === id), ...(holder ? { holder } : {}) };
}

/** Sets a run's `problem` when its journal, or what the journal points at, fails the check `runs verify` makes. */
async function verifyProblem(stateDir: string, r: RunSummary, headerLines: HeaderLines): Promise<void> {
  let check;
  try {
    check = await verifyJournal(join(stateDir, 'runs', r.id), { headerLines });
  } catch (err) {
    // Gone since the listing (a run folder removed by its own failed set-up), or unreadable now.
    r.problem = `cannot be checked: ${(err as Error).message}`;
    return;
  }
  if (check.state !== 'broken') return;
  r.problem = check.about === 'plan-copy-changed' ? (check.lost ? check.reason : `${check.reason}: changed after the run`) : check.about ? check.reason : `edited journal: line ${check.line}: ${check.reason}`;
}

/**
 * Sets `later_build` on a run a later build started (a rollback's: whose undone run a later build
 * started), which resume, rollback and report refuse and `runs verify` leaves unverified (exit 2): its
 * journal may hold records this build would misread, so it is said, not checked or counted as any other run.
 */
async function markLaterBuild(stateDir: string, r: RunSummary, headerLines: HeaderLines): Promise<void> {
  const header = await readRunHeader(join(stateDir, 'runs', r.id), headerLines).catch(() => undefined);
  const newer = header ? await laterBuildsRun(stateDir, header, headerLines).catch(() => undefined) : undefined;
  // Said started by this build: changed after the run, not a later build's.
  if (newer?.contradiction) r.problem = newer.contradiction;
  else if (newer) r.later_build = { run: newer.runId, plan_format: newer.planFormat, tool_version: newer.startedBy ?? null };
}

/** The folders to look in: the one given (refused if not private), else every tenant folder (those not private left out, with the reason). */
export async function stateDirsToSearch(given: string | undefined): Promise<{ dirs: string[]; refused: { stateDir: string; reason: string }[] }> {
  if (given) {
    // A folder that is not there is a typo more often than a state with no runs (a black-box test: `runs` in CI said "no runs").
    if (!existsSync(given)) throw new UserError(`the state folder ${given} does not exist (--state-dir): no run was made there`);
    await checkStateDir(given, false);
    return { dirs: [given], refused: [] };
  }
  const dirs: string[] = [];
  const refused: { stateDir: string; reason: string }[] = [];
  for (const d of await allStateDirs()) {
    try {
      await checkStateDir(d, false);
      dirs.push(d);
    } catch (err) {
      refused.push({ stateDir: d, reason: (err as Error).message });
    }
  }
  return { dirs, refused };
}

export async function allRuns(given: string | undefined, opts: { verify?: boolean } = {}): Promise<StateDirRuns[]> {
  const { dirs, refused } = await stateDirsToSearch(given);
  const out = await Promise.all(dirs.map(runsIn));
  // A folder given one level too high: no runs of its own, its tenant folders' named.
  const only = given !== undefined && out.length === 1 ? out[0]! : undefined;
  if (only && only.runs.length === 0 && !only.holder) {
    const below = await runsBelow(only.stateDir);
    if (below) only.runsBelow = below;
  }
  const limit = pLimit(4);
  // Every header read once for the listing: the later-build marks and the checks below read the same ones.
  const headerLines: HeaderLines = new Map();
  await Promise.all(out.flatMap((d) => d.runs.filter((r) => r.state !== 'unreadable').map((r) => limit(() => markLaterBuild(d.stateDir, r, headerLines)))));
  // `runs` says when a run's evidence was edited (as `runs verify` would); sizing a resume does not need to.
  // A later build's run is not checked: `runs verify` leaves it to that build (what it found is not this build's to say).
  if (opts.verify) {
    await Promise.all(out.flatMap((d) => d.runs.filter((r) => r.state !== 'unreadable' && !r.problem && !r.later_build).map((r) => limit(() => verifyProblem(d.stateDir, r, headerLines)))));
  }
  return [...out, ...refused.map((r) => ({ stateDir: r.stateDir, runs: [], refused: r.reason }))];
}

/** For a folder given with no runs of its own: which of its sub-folders to give instead (the one that holds the run named, if one does). */
export async function runsBelowHint(given: string, runId: string | undefined): Promise<string> {
  if ((await readdir(join(given, 'runs')).catch(() => [] as string[])).length > 0) return '';
  const below = await runsBelow(given);
  if (!below) return '';
  const holding = runId ? below.dirs.find((d) => existsSync(join(d, 'runs', runId))) : undefined;
  if (holding) return `; it is in ${holding}: give --state-dir ${holding}`;
  return `; ${given} holds no runs itself, but its tenant folder(s) do: give --state-dir ${below.dirs.join(' or ')}${below.stateBase ? ', or leave --state-dir out to look in every tenant folder' : ''}`;
}

export interface FoundRun {
  stateDir: string;
  run: RunSummary;
  /** Every run of its state folder as it was read to find it (newest first): what refuses a command at once. */
  runs: RunSummary[];
}

/**
 * A run by id, or (no id) the latest run `pick` accepts, in the state folder given or in every
 * tenant folder; its folder must be private too.
 */
export async function findRun(runId: string | undefined, given: string | undefined, pick: (r: RunSummary) => boolean, what: string): Promise<FoundRun> {
  const { dirs } = await stateDirsToSearch(given);
  const where = given ?? 'any tenant folder of the state base (give --state-dir to look elsewhere)';
  const found: FoundRun[] = [];
  for (const stateDir of dirs) {
    const { runs } = await runsIn(stateDir);
    for (const run of runs) if (runId ? run.id === runId : pick(run)) found.push({ stateDir, run, runs });
  }
  if (found.length === 0) {
    // A plan file given where a run id goes (`resume wave1.plan`): say what the command takes.
    const aFile = runId !== undefined && (await stat(runId).then((st) => st.isFile()).catch(() => false));
    const hint = aFile ? ` (${runId} is a file: this command takes a run id, which mfa-migrate runs lists; a saved plan is applied with mfa-migrate apply ${runId})` : '';
    throw new UserError(`${runId ? `no run ${runId} in ${where}${hint}` : `no ${what} in ${where}`}${given ? await runsBelowHint(given, runId) : ''}`);
  }
  found.sort((a, b) => b.run.started.localeCompare(a.run.started));
  const f = found[0]!;
  if (f.run.state === 'unreadable') throw new UserError(`run ${f.run.id} in ${f.stateDir} cannot be read: ${f.run.problem}`);
  await checkRunDir(join(f.stateDir, 'runs', f.run.id));
  return f;
}

/**
 * The operations of the run a resume or rollback would take up (the named one, else the largest
 * of the runs it may pick), to size its work by; 0 when there is none (the command then says so).
 * Read from each journal's header line only: the journals themselves are read by the job.
 */
export async function operationsOfRun(runId: string | undefined, given: string | undefined): Promise<number> {
  const { dirs } = await stateDirsToSearch(given).catch(() => ({ dirs: [] as string[] }));
  let max = 0;
  for (const stateDir of dirs) {
    const ids = await readdir(join(stateDir, 'runs')).catch(() => [] as string[]);
    for (const id of ids) {
      if (runId && id !== runId) continue;
      const header = await readRunHeader(join(stateDir, 'runs', id));
      if (header) max = Math.max(max, header.totalOps);
    }
  }
  return max;
}
