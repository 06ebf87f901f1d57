import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { OathSeed } from '../model/export-data.js';
import { formatProblem, SourceError } from '../model/problem.js';
import { serialKey } from '../model/serial.js';
import type { SecretFileOptions } from '../io/secret-file.js';
import { UserError } from '../model/user-error.js';
import { fatalProblems } from '../plan/build-plan.js';
import { canonicalJson, hashFiles } from '../plan/fingerprint.js';
import { isOlderFormat, planKeyFiles, type SavedPlan } from '../plan/plan-file.js';
import { firstDifference } from '../plan/rederive.js';
import { DEVICES_FILE, readExport, seedFingerprintName, SETTINGS_FILE, USERS_FILE, type ExportBundle } from '../source/export-bundle.js';
import type { PskcMacMode } from '../source/seeds/pskc-mac-mode.js';
import { loadSeedOptionFiles } from '../source/seeds/seed-option-files.js';

/**
 * A saved plan of an older format whose changes are not what this version plans from its sources:
 * the mapping rules changed since, or the file was edited (the format label is the file's own word,
 * and this version cannot plan by the earlier rules to tell the two apart); either way it is not applied.
 */
export class OlderPlanError extends UserError {
  constructor(path: string, version: string, where: string, unchainedRun?: string) {
    super(
      `${path} is a plan of format ${version}, made by an earlier version of mfa-migrate, or edited since: this version plans its sources differently (${where}), as the earlier version's rules, since changed, may have planned it, or as an edit after it was made would give. ` +
        (unchainedRun
          ? `Run ${unchainedRun}'s journal is from before journals were hash-chained, so nothing shows this copy is the plan the run started with, and it is not taken on trust: finish the run with the version of mfa-migrate that started it, or undo it with mfa-migrate rollback ${unchainedRun} (which plans nothing again), then make a new plan.`
          : 'Make a new plan (mfa-migrate plan ... --out FILE) and apply that; runs already started from it go on with resume and rollback.'),
    );
  }
}

/** A saved plan whose changes are not what its recorded sources give: edited after it was made. */
export class EditedPlanError extends UserError {
  constructor(path: string, where: string) {
    super(`${path} is not the plan its sources give, so it was changed after it was made: ${where}. Make a new plan.`);
  }
}

/**
 * The export and seed files a plan records, read again (the seeds for apply, the rest to plan
 * again). Its seed files and PSKC key and password files are warned about or refused as `files` says.
 */
export async function readPlanSources(plan: SavedPlan, files: SecretFileOptions = {}): Promise<ExportBundle> {
  const src = plan.header.source;
  const { keys, passwords } = planKeyFiles(src);
  // As the commands that take them as options read them: the same messages, each naming its file.
  const seeds = loadSeedOptionFiles({ tokens: src.tokens, pskcKeyFiles: keys, pskcPasswordFiles: passwords, pskcMac: src.pskcMac as PskcMacMode, pskcExpired: src.pskcExpired ?? 'leave' }, files);
  let bundle: ExportBundle;
  try {
    bundle = await readExport({ source: src.dir, tokens: src.tokens, seeds });
  } catch (err) {
    if (err instanceof SourceError) throw new UserError(`cannot read the plan's export again: ${formatProblem(err.problem)}`);
    throw err;
  }
  // What stops plan stops apply too: a seed file that no longer decrypts, two serials with one secret.
  const fatal = fatalProblems(bundle.problems.items);
  if (fatal.length > 0) throw new UserError(`cannot use the plan's export and seed files as they are now:\n${fatal.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
  return bundle;
}

/** From this many users the check takes seconds (the sources read again, planned again): apply and resume say it first. */
export const CHECK_SAID_FROM_USERS = 5_000;

/**
 * Checks a saved plan against its sources before anything is written: the export and seed files
 * must be the ones it was made from (their fingerprint), and planning them against the tenant state
 * the plan recorded must give exactly its changes; the first difference is named. Returns the
 * seeds, read once for both, and the export's usernames (whom a plan's scope group holds now is
 * told by them: scope-group-now.ts). The PSKC key and password files are checked as `secretFiles` says
 * (warnings to the log unless it names where). A 1.x plan recorded no tenant state: it is checked
 * by fingerprint only.
 */
export async function checkPlanAgainstSources(
  plan: SavedPlan,
  log?: (line: string) => void,
  secretFiles: SecretFileOptions = {},
  /** A run's plan copy: `runCopy` when its journal's hash chain holds the copy's hash; `runId` names the run when its journal has no chain. */
  opts: { runCopy?: boolean; runId?: string } = {},
): Promise<{ seeds: Map<string, OathSeed>; exportUsers: string[] }> {
  const onNotice = secretFiles.onNotice ?? log;
  const bundle = await readPlanSources(plan, { ...secretFiles, ...(onNotice ? { onNotice } : {}) });
  const src = plan.header.source;
  const files = [USERS_FILE, DEVICES_FILE, SETTINGS_FILE].filter((f) => existsSync(join(src.dir, f))).map((f) => ({ name: f, path: join(src.dir, f) }));
  const read = [...files, ...src.tokens.map((t) => ({ name: seedFingerprintName(t, src.dir), path: t }))];
  let fingerprint: string;
  let each: { sha256: string; bytes: number }[];
  try {
    ({ fingerprint, files: each } = await hashFiles(read));
  } catch (err) {
    throw new UserError(`cannot read the plan's sources again (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): they must be where the plan was made from`);
  }
  if (fingerprint !== plan.header.source_fingerprint) {
    throw new UserError(`the export or seed files changed since the plan was made (${src.dir}, ${src.tokens.length} seed file(s)): make a new plan, or put them back as they were`);
  }
  // The input files the plan lists (2.1) are the ones it was made from, hash for hash.
  const inputs = plan.header.inputs;
  if (inputs && canonicalJson(inputs.map((f) => [f.path, f.sha256, f.bytes])) !== canonicalJson(read.map((f, i) => [resolve(f.path), each[i]!.sha256, each[i]!.bytes]))) {
    throw new EditedPlanError(plan.path, 'its list of input files and their SHA-256 is not the files it was made from');
  }
  const seeds = new Map(bundle.seeds.map((s) => [serialKey(s.serial), s]));
  const checked = { seeds, exportUsers: bundle.users.map((u) => u.username) };
  if (!plan.recordsTenant) {
    log?.(`Note: ${plan.path} (format ${plan.header.format_version}) records no tenant state, so it was checked against its sources' fingerprint only.`);
    return checked;
  }
  // A plan of an older format was planned by older rules. A run's copy of one was checked when the
  // run started (by the version that started it), and its hash is the journal's, which resume
  // checks: it is not planned again, so a run begun before an upgrade can be finished after it.
  const older = isOlderFormat(plan.header);
  if (opts.runCopy && older) {
    log?.(`Note: the run's plan copy is of format ${plan.header.format_version} (an earlier version of mfa-migrate): it was checked against its sources when the run started and matches the journal, so it is not planned again with this version's rules.`);
    return checked;
  }
  const diff = await firstDifference(plan, bundle);
  // What no rules give (a state_fingerprint not its own before's) is an edit whatever the format says.
  if (diff) throw older && !diff.edited ? new OlderPlanError(plan.path, plan.header.format_version, diff.where, opts.runId) : new EditedPlanError(plan.path, diff.where);
  return checked;
}
