import type { Command } from 'commander';
import { verifyRun } from '../app/report.js';
import { journalProblem } from '../apply/journal.js';
import { EXIT } from '../model/exit-code.js';
import { printable } from '../model/printable.js';
import { UserError } from '../model/user-error.js';

/** A journal written before journals carried a hash chain (nothing to check it against), or a later build's run (not this build's to check). */
export const EXIT_UNVERIFIABLE = 2;

/** `runs verify RUN_ID`, a subcommand of `runs`. */
export function registerRunsVerify(runs: Command): void {
  runs
    .command('verify')
    .argument('<runId>', 'the run whose journal to check')
    .description("Check a run's journal: every line's hash chains from the one before, starting from the plan hash, and that plan hash is the run's plan. Prints the final hash (compare it with the one apply, resume or rollback printed).")
    .option('--state-dir <dir>', "the run's state folder (default: look in every tenant folder of the state base)")
    .addHelpText(
      'after',
      `
Exit status: 0 the journal is whole (a last line left incomplete by a crash is said so: it is not an
edit); 1 it was edited (the first bad line is named; line 1 when it is another run's journal, moved
or copied into this run's folder; for an apply, also lines taken off its end or rewritten where a
rollback of it recorded more, or other), its plan copy was changed, or it cannot be
read, or, for a rollback, the journal of the run it undoes no longer begins with the lines the
rollback recorded when it started; 2 unverifiable: the journal was written before journals carried
a hash chain, or a later build started the run (its plan copy, a rollback's undone run's, is of a
later plan format than this build reads): verify it with that build (one whose journal says this
build started it was changed: 1).

Examples:
  $ mfa-migrate runs verify 20261128T101500Z-3f2a9c1d
  $ mfa-migrate runs verify 20261128T101500Z-3f2a9c1d --state-dir ./state`,
    )
    .action(async (runId: string, _opts: unknown, cmd: Command) => {
      // `runs` has --state-dir too, and takes it wherever it is given: read it from either.
      const { stateDir } = cmd.optsWithGlobals<{ stateDir?: string }>();
      const r = await verifyRun(runId, stateDir);
      const where = printable(`${r.runDir}/journal.jsonl`);
      // The same words as `report` (journalProblem): a torn last line is a crash, not an edit; a plan copy changed is not the journal edited.
      const problem = journalProblem(r, where);
      if (r.state === 'unverifiable') throw new UserError(`run ${runId}: ${problem}`, EXIT_UNVERIFIABLE);
      // The journal's own chain whole (only what it points at is not): its final hash is still said, to compare with the one noted.
      if (r.state === 'broken' && r.head !== undefined) process.stdout.write(`Run ${runId}: the journal's own ${r.lines} lines are whole; final hash ${r.head}\n`);
      if (r.state === 'broken') throw new UserError(`run ${runId}: ${problem}`, EXIT.error);
      process.stdout.write(`Run ${runId}: journal verified: ${r.lines} ${r.tornLine === undefined ? '' : 'whole '}lines chained from plan hash ${r.planHash}\nFinal hash ${r.head}\n`);
      if (problem) process.stdout.write(`Note: ${problem}\n`);
    });
}
