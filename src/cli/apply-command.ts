import { Option, type Command } from 'commander';
import { applyMadePlan, type Applied } from '../app/apply.js';
import { forceUnlockById } from '../app/force-unlock.js';
import { makePlan } from '../app/plan.js';
import { allRuns, operationsOfRun } from '../app/runs.js';
import { readUserList } from '../app/user-list.js';
import { DEFAULT_ACTIVATION_RATE, DEFAULT_POLICY_PROPAGATION_WAIT, type ApplyOutcome } from '../apply/run-apply.js';
import { EXIT } from '../model/exit-code.js';
import { printable } from '../model/printable.js';
import { UserError } from '../model/user-error.js';
import { readPlanHeader } from '../plan/plan-file.js';
import { renderPlanTerminal } from '../plan/render-terminal.js';
import { addConsistencyWindowOption, addGraphOptions, connectFromOptions, graphCliOptions, nonNegativeInt, positiveInt, type GraphCliOptions } from './graph-options.js';
import { runJob } from './run-job.js';
import { watchInterrupts, SIGNAL_EXIT, type Interrupts } from './interrupts.js';
import { addPlanningOptions, PLAN_SHAPING_OPTIONS, planRequestFrom, type PlanCliOptions } from './plan-command.js';
import { Progress } from './progress.js';
import { addStrictPermissionsOption, secretFilesFrom } from './strict-permissions.js';
import { useColor } from './color.js';
import { askApproval } from './approval-prompt.js';
import { renderApplySummary, renderRollbackSummary } from './views/apply-summary.js';
import { commandHint } from './views/command-hint.js';
import { renderResultsCsv, resultsRun } from './views/results-csv.js';
import { renderRunsTable, runsBelowLines, runsJson } from './views/runs-table.js';
import { registerRunsVerify } from './runs-verify-command.js';
import { checkOutputFile, inputFiles, writeOutputFile } from './output-file.js';
import type { AppliedHandoff } from './job.js';

interface ApplyCliOptions extends Omit<PlanCliOptions, 'source'> {
  source?: string;
  stateDir?: string;
  batchSize: number;
  maxUsers?: number;
  waves?: number;
  skipStale: boolean;
  activationRate: number;
  policyPropagationWait: number;
  tokenPath: 'auto' | 'bulk' | 'single';
  autoApprove: boolean;
  results?: string;
  planHash?: string;
  all: boolean;
}

const EXIT_STATUS = `
Exit status: 0 every operation succeeded; 3 some failed or were skipped (resume sends again what
failed; users left out as stale need a new plan of them; the signed-in admin's own phone and email
changes need a resume signed in otherwise; this wins over 4); 4 stopped by --waves with waves left; 1 error (wrong tenant, stale plan, lock
held, Graph unreachable); 130 or 143 interrupted by SIGINT or SIGTERM (resume finishes the run).`;

/** Options that act only when apply makes the plan (--source): given with a saved plan they are refused. */
const SOURCE_ONLY_OPTIONS: readonly { key: string; flag: string }[] = [
  { key: 'autoApprove', flag: '--auto-approve' },
  { key: 'showPhoneNumbers', flag: '--show-phone-numbers' },
  { key: 'all', flag: '--all' },
];

const stateDirHelp = 'folder for the lock and the journals of runs (default: ${XDG_STATE_HOME:-~/.local/state}/mfa-migrate/<tenant id>)';


/** How many times apply's heap ceiling for its operations a rollback's worker is given (see the rollback below). */
const ROLLBACK_HEAP_FACTOR = 2;
export function registerApply(program: Command): void {
  const cmd = program
    .command('apply')
    .argument('[planfile]', 'a plan saved by `mfa-migrate plan --out` (passing it is the approval)')
    .description('Apply a saved plan (or plan and apply with --source) through Graph $batch, in waves, throttle-aware, journaled and resumable. Refuses a plan made for another tenant.');
  addPlanningOptions(cmd, 'Graph root (default: the one the plan read)');
  // --source is needed only without a plan file.
  cmd.options.find((o) => o.long === '--source')!.mandatory = false;
  cmd
    .option('--state-dir <dir>', stateDirHelp)
    .option('--batch-size <n>', 'users per wave', (v) => positiveInt(v, '--batch-size'), 500)
    .option('--max-users <n>', 'apply to at most this many users', (v) => positiveInt(v, '--max-users'))
    .option('--waves <k>', 'stop after K waves (resume continues)', (v) => positiveInt(v, '--waves'))
    .option('--skip-stale', 'leave out objects that changed since the plan (and report them) instead of refusing to start', false)
    .option('--activation-rate <n>', 'hardware token activations per 5 minutes at most (the admin center documents 200)', (v) => positiveInt(v, '--activation-rate'), DEFAULT_ACTIVATION_RATE)
    .option('--policy-propagation-wait <minutes>', 'how long activations refused until the hardware OATH policy applies are tried again, while the policy has the method enabled (by the run or anyone), from its last change (Entra takes up to 20 minutes)', (v) => nonNegativeInt(v, '--policy-propagation-wait'), DEFAULT_POLICY_PROPAGATION_WAIT)
    .addOption(new Option('--token-path <path>', 'hardware tokens: bulk (a bulk create per wave, then one assign-and-activate each), single (create, then activate, each), auto (bulk where this Graph has the actions)').choices(['auto', 'bulk', 'single']).default('auto'))
    .option('--auto-approve', 'with --source: apply without asking', false)
    .option('--results <file.csv>', 'write one row per user in scope: user, outcome, done, failed, skipped, first_error, and the run id, plan hash and final hash')
    .option('--plan-hash <sha256>', 'the SHA-256 of the approved plan file (in the signed-off report\'s header): a plan file with another hash is refused before anything is sent', (v) => sha256Hex(v))
    .option('--show-phone-numbers', 'with --source: show phone numbers in full in the plan shown before asking', false)
    .option('--all', 'with --source: print every user with changes and every finding in the plan shown before asking (by default a large plan shows the first 200 users, and a finding code with more than 50 findings as one line)', false);
  addConsistencyWindowOption(cmd)
    .addHelpText(
      'after',
      `${EXIT_STATUS}

Examples:
  $ mfa-migrate plan --source ./export --tokens seeds.pskc --out wave1.plan
  $ mfa-migrate apply wave1.plan --results wave1.csv
  $ sha256sum wave1.plan > wave1.plan.sha256                           # at sign-off: the hash the report's header shows
  $ mfa-migrate apply wave1.plan --plan-hash "$(cut -d' ' -f1 wave1.plan.sha256)"   # only the plan signed off
  $ mfa-migrate apply wave1.plan --batch-size 200 --waves 1          # first wave only
  $ mfa-migrate apply wave1.plan --users pilot.txt                     # some of the plan's users (the rest: a new plan)
  $ mfa-migrate apply final.plan                                        # a plan with --rollout-group and --federated-mfa reject:
                                                                        # users switched once their methods are there, the federation last
  $ mfa-migrate apply --source ./export --tokens seeds.pskc --auto-approve --graph-url http://127.0.0.1:5580`,
    )
    .action(async (planfile: string | undefined, opts: ApplyCliOptions) => {
      const say = (l: string) => process.stderr.write(`${printable(l, true)}\n`);
      const users = opts.users ? await readUserList(opts.users) : undefined;
      // One for the run: apply --source reads the PSKC files to plan and again to check the plan.
      const secretFiles = secretFilesFrom(opts, say);
      const base = {
        ...(opts.stateDir ? { stateDir: opts.stateDir } : {}),
        ...(users ? { users } : {}),
        ...(opts.group ? { group: opts.group } : {}),
        ...(opts.maxUsers !== undefined ? { maxUsers: opts.maxUsers } : {}),
        batchSize: opts.batchSize,
        ...(opts.waves !== undefined ? { waves: opts.waves } : {}),
        skipStale: opts.skipStale,
        concurrency: opts.concurrency,
        activationRate: opts.activationRate,
        tokenPath: opts.tokenPath,
        policyPropagationWait: opts.policyPropagationWait,
        ...(opts.planHash ? { planHash: opts.planHash } : {}),
        secretFiles,
        log: say,
      };
      if (planfile) {
        if (opts.source) throw new UserError('give either a plan file or --source, not both');
        // The saved plan is the approved plan: nothing may reshape it now.
        const shaping = PLAN_SHAPING_OPTIONS.filter((o) => cmd.getOptionValueSource(o.key) === 'cli').map((o) => o.flag);
        if (shaping.length > 0) throw new UserError(`${shaping.join(', ')}: these options shape a plan: make a new plan (mfa-migrate plan ... --out FILE) and apply that`);
        // Nor are options that only do something when apply makes the plan itself: taken and ignored, they would mislead.
        const sourceOnly = SOURCE_ONLY_OPTIONS.filter((o) => cmd.getOptionValueSource(o.key) === 'cli').map((o) => o.flag);
        if (sourceOnly.length > 0) throw new UserError(`${sourceOnly.join(', ')}: these options go with --source (apply shows the plan it makes and asks before applying it); a saved plan is not shown, and passing it is the approval: leave them out`);
        const header = await readPlanHeader(planfile);
        // The job crosses to a worker thread as data: the secret-file notices are made there.
        const { log: _log, secretFiles: _files, ...request } = base;
        return run(opts, (ctl) => runJob({ kind: 'apply', planFile: planfile, graph: graphCliOptions(opts), request, results: opts.results !== undefined }, { ...ctl, log: say }, header.summary.users), 'apply', [planfile, ...inputFiles(header.source)]);
      }
      if (!opts.source) throw new UserError('give a plan file, or --source DIR to plan and apply in one go');
      if (opts.planHash) throw new UserError('--plan-hash names an approved plan file: give the file (mfa-migrate apply PLANFILE --plan-hash ...)');
      if (!opts.autoApprove && !process.stdin.isTTY) throw new UserError('--source without --auto-approve needs a terminal to confirm; pass --auto-approve to apply without asking');
      const graph = connectFromOptions(opts, false);
      const progress = new Progress('Reading tenant users');
      const made = await makePlan({ ...planRequestFrom({ ...opts, source: opts.source }, secretFiles), graph, onProgress: (d, t) => progress.count(d, t), log: say }).finally(() => progress.stop());
      const p = made.built.plan;
      process.stdout.write(renderPlanTerminal(p, { color: useColor(opts, process.stdout), showPhoneNumbers: opts.showPhoneNumbers, all: opts.all }));
      if (p.summary.create + p.summary.update + p.summary.delete === 0) {
        process.stdout.write('No changes: nothing to apply.\n');
        return;
      }
      if (!opts.autoApprove) {
        const question = `Apply these changes to tenant ${printable(p.tenant.displayName ?? '')} (${p.tenant.id}) at ${graph.root}: ${p.summary.create} to add, ${p.summary.update} to change, ${p.summary.delete} to destroy, for ${p.summary.users} user(s)? Only "yes" is accepted: `;
        // Any answer but yes cancels, as does the end of input (Ctrl-D); Ctrl-C is an interrupted command (130).
        const answer = await askApproval(question);
        if (answer !== 'yes') throw new UserError('apply cancelled: nothing was sent', answer === 'SIGINT' || answer === 'SIGTERM' ? SIGNAL_EXIT[answer] : EXIT.error);
      }
      // The plan is narrowed to --users and --group already: its names no export row has were said and
      // left out, and passed on they would be refused as not in the plan (a black-box test saw both);
      // the group read again could select others than the plan's scope (a member joined or left since,
      // a name matched to none because two members have it), and the plan shown is the one approved.
      const { users: _planned, group: _group, ...request } = base;
      return run(opts, (ctl) => applyMadePlan(made, { ...request, graph, ...ctl }), 'apply', inputFiles({ dir: opts.source, tokens: opts.tokens, pskcKeyFiles: opts.pskcKeyFile, pskcPasswordFiles: opts.pskcPasswordFile }));
    });

  const resume = program
    .command('resume')
    .argument('[runId]', 'the run to finish (default: the latest unfinished apply run a resume can finish)')
    .description('Finish an interrupted or partial apply run, against the Graph and tenant it ran on: operations already done are not sent again; ones whose outcome is unknown are read back first.')
    .option('--state-dir <dir>', 'the run\'s state folder (default: look in every tenant folder of the state base)')
    .option('--waves <k>', 'run at most K more waves', (v) => positiveInt(v, '--waves'))
    .option('--policy-propagation-wait <minutes>', "how long activations refused until the hardware OATH policy applies are tried again, counted from the run's enable or the policy's last change (default: what the run was started with)", (v) => nonNegativeInt(v, '--policy-propagation-wait'))
    .option('--results <file.csv>', 'write one row per user in scope: user, outcome, done, failed, skipped, first_error, and the run id, plan hash and final hash');
  addGraphOptions(resume, 'Graph root: the one the run wrote to (the default; another is refused)');
  // resume checks the run's plan against its sources again, reading the seed files and PSKC key and password files the plan records.
  addStrictPermissionsOption(resume, ['a seed file', 'the PSKC key file', 'the PSKC password file']);
  addConsistencyWindowOption(resume)
    .addHelpText(
      'after',
      `${EXIT_STATUS}

Examples:
  $ mfa-migrate resume                       # the latest unfinished apply run a resume can finish
  $ mfa-migrate resume 20261128T101500Z-3f2a9c1d --waves 1
  $ mfa-migrate resume --policy-propagation-wait 60   # Entra asks to allow an hour after enabling hardware OATH`,
    )
    .action(async (runId: string | undefined, opts: GraphCliOptions & { stateDir?: string; results?: string; waves?: number; policyPropagationWait?: number }) => {
      const say = (l: string) => process.stderr.write(`${printable(l, true)}\n`);
      const request = {
        ...(runId ? { runId } : {}),
        ...(opts.stateDir ? { stateDir: opts.stateDir } : {}),
        ...(opts.waves !== undefined ? { waves: opts.waves } : {}),
        ...(opts.policyPropagationWait !== undefined ? { policyPropagationWait: opts.policyPropagationWait } : {}),
      };
      const size = await operationsOfRun(runId, opts.stateDir);
      await run(opts, (ctl) => runJob({ kind: 'resume', graph: graphCliOptions(opts), request, results: opts.results !== undefined }, { ...ctl, log: say }, size), 'resume');
    });

  const rollback = program
    .command('rollback')
    .argument('<runId>', 'the apply run to undo (or an interrupted rollback run to finish)')
    .description('Undo what an apply run did, newest first, against the tenant it ran on: delete what it created, restore what it updated and the previous default method, deactivate the tokens it activated, put the policy back. Objects changed since the run are reported, not overwritten, unless --force.')
    .option('--state-dir <dir>', 'the run\'s state folder (default: look in every tenant folder of the state base)')
    .option('--force', 'also overwrite objects changed in the tenant since the run', false)
    .option('--out-of-order', 'roll back this run although apply runs made after it are still in effect (refused without this); this rule alone: it takes no method from users left switched to Entra MFA', false)
    .option(
      '--leave-switched-without-method',
      'take the methods all the same from users this rollback leaves switched to Entra MFA with none they can use: the run\'s users the staged rollout still switches once its cutover is undone, users outside the run by the methods policy\'s undo (left in place without this, exit 3), and users of a domain made to reject the federated IdP\'s MFA since (refused without this)',
      false,
    );
  addConsistencyWindowOption(addGraphOptions(rollback, 'Graph root: the one the run wrote to (the default; another is refused)'))
    .addHelpText(
      'after',
      `
Exit status: 0 every undo Graph allows was done (what it cannot undo, a default method set where the user had none and the
phone behind it, is listed, not attempted); 3 something was left: failed (rollback the same id again), changed since the run (only --force overwrites it),
or kept for users still switched to Entra MFA (rollback the same id again once they are not;
--leave-switched-without-method takes it all the same), or the signed-in admin's own phone and email
undos, which Graph refuses them (rollback the same id signed in as another admin or an application); 1 error (a run already rolled back, a later run still
in effect, wrong tenant); 130 or 143 interrupted.
Two consents, apart: runs are rolled back newest first, and one with later apply runs on the tenant
still in effect is refused, naming them, unless --out-of-order; what would leave users switched to
Entra MFA with no method they can use is left in place (or, for a domain made to reject the federated
IdP's MFA since the run, refused) unless --leave-switched-without-method, with or without --out-of-order.
A rollback started with --out-of-order by an older version (when it meant both) is finished only once
one of them is given again (the refusal says which does what).

Examples:
  $ mfa-migrate runs
  $ mfa-migrate rollback 20261128T101500Z-3f2a9c1d
  $ mfa-migrate rollback 20261128T101500Z-3f2a9c1d --force
  $ mfa-migrate rollback 20261128T101500Z-3f2a9c1d --out-of-order      # a later run is still in effect; users still switched keep what they need
  $ mfa-migrate rollback 20261130T090000Z-7c1e0b2a --leave-switched-without-method   # a rollback that left methods for users still switched: take them all the same, leaving those users with nothing to sign in with`,
    )
    .action(async (runId: string, opts: GraphCliOptions & { stateDir?: string; force: boolean; outOfOrder: boolean; leaveSwitchedWithoutMethod: boolean }) => {
      const say = (l: string) => process.stderr.write(`${printable(l, true)}\n`);
      let current: { runId: string; stateDir: string } | undefined;
      // The command that goes on with a rollback run, with the options it was given.
      const goOn = (id: string, where: typeof opts) => commandHint(['rollback', id, ...(opts.force ? ['--force'] : [])], where);
      const interrupts = watchInterrupts(say, () => current && goOn(current.runId, { ...opts, stateDir: current.stateDir }));
      try {
        const request = { runId, ...(opts.stateDir ? { stateDir: opts.stateDir } : {}), force: opts.force, outOfOrder: opts.outOfOrder, leaveSwitchedWithoutMethod: opts.leaveSwitchedWithoutMethod, concurrency: opts.concurrency };
        const size = await operationsOfRun(runId, opts.stateDir);
        const progress = new Progress('rollback');
        const { outcome, stateDir } = await runJob(
          { kind: 'rollback', graph: graphCliOptions(opts), request },
          { log: say, signal: interrupts.signal, onProgress: (e) => progress.apply(e), onRun: (id, dir) => (current = { runId: id, stateDir: dir }) },
          // A rollback holds every user's methods as read back to compare: twice apply's ceiling a
          // operation. At 100,000 users (195,943 operations) 575 MB ran out; 1,150 MB ran it (1.2 GB peak).
          size * ROLLBACK_HEAP_FACTOR,
        ).finally(() => progress.stop());
        // A resume that only meets what it left alone makes no progress: offer it only when it can do more.
        const hint = outcome.state !== 'completed' && outcome.resumable ? goOn(outcome.runId, opts) : undefined;
        const forceHint = opts.force ? undefined : commandHint(['rollback', outcome.runId, '--force'], opts);
        // Its own consent: --out-of-order (recorded, if given) does not take them.
        const switchedHints = opts.leaveSwitchedWithoutMethod ? undefined : { again: goOn(outcome.runId, opts), leave: commandHint(['rollback', outcome.runId, ...(opts.force ? ['--force'] : []), '--leave-switched-without-method'], opts) };
        process.stdout.write(renderRollbackSummary(outcome, stateDir, hint, opts.stateDir, forceHint, switchedHints));
        process.exitCode = outcome.state === 'interrupted' ? SIGNAL_EXIT[interrupts.received() ?? 'SIGINT'] : outcome.state === 'completed' ? EXIT.ok : EXIT.partial;
      } catch (err) {
        if (current) say(`Run ${current.runId} ${interrupts.received() ? 'interrupted' : 'stopped by an error'}. Finish it with: ${goOn(current.runId, opts)}`);
        throw err;
      } finally {
        interrupts.dispose();
      }
    });

  const runs = program
    .command('runs')
    .description('List the runs, newest first: kind, tenant, Graph, state, counts, and which rollback undid which apply. `runs verify RUN_ID` checks a journal.')
    .option('--state-dir <dir>', 'one state folder (default: every tenant folder of the state base)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .addHelpText('after', '\nExamples:\n  $ mfa-migrate runs\n  $ mfa-migrate runs --format json --state-dir ./state')
    .action(async (opts: { stateDir?: string; format: 'text' | 'json' }) => {
      const all = await allRuns(opts.stateDir, { verify: true });
      if (opts.format === 'json') {
        process.stdout.write(`${JSON.stringify(runsJson(all), null, 2)}\n`);
        // The JSON stays a list of runs: where they are instead is said on stderr.
        for (const d of all) if (d.runsBelow) process.stderr.write(`${printable(`${d.stateDir}: ${runsBelowLines(d.runsBelow).join('\n')}`, true)}\n`);
      } else process.stdout.write(renderRunsTable(all));
    });
  registerRunsVerify(runs);

  program
    .command('force-unlock')
    .argument('<lockId>', 'the lock id the "in use" message names')
    .description('Remove a state folder\'s lock left by a process that is gone for good (another host\'s, say), after showing its holder. Only the lock of that id is removed.')
    .option('--state-dir <dir>', 'the state folder (default: look in every tenant folder of the state base)')
    .addHelpText('after', '\nExamples:\n  $ mfa-migrate force-unlock 0b6f8d2e2c1a4c529a578f1f3c1e2d4b   # the id the "in use" message gives')
    .action(async (lockId: string, opts: { stateDir?: string }) => {
      await forceUnlockById(lockId, opts.stateDir, (dir, holder) =>
        process.stdout.write(`${printable(`Lock ${holder.id} of ${dir}: ${holder.operation} pid ${holder.pid} of ${holder.user}@${holder.host}, since ${holder.started}${holder.runId ? `, run ${holder.runId}` : ''}`)}\n`),
      );
      process.stdout.write('Removed.\n');
    });
}

interface RunControl {
  signal: AbortSignal;
  onProgress: (e: Parameters<Progress['apply']>[0]) => void;
  onRun: (runId: string, stateDir: string) => void;
}

/** Runs apply or resume with progress, interrupts, the summary, the results file and the exit status. */
async function run(opts: GraphCliOptions & { stateDir?: string; results?: string }, go: (ctl: RunControl) => Promise<Applied | AppliedHandoff>, label: 'apply' | 'resume' = 'apply', reads: readonly string[] = []): Promise<void> {
  const say = (l: string) => process.stderr.write(`${printable(l, true)}\n`);
  // Before anything is sent: a results file that cannot be written must not fail a run that wrote the
  // tenant, nor may it be the plan being applied, nor in the state folder (a run's journal, the lock).
  await checkOutputFile('--results', opts.results, reads, opts.stateDir);
  let current: { runId: string; stateDir: string } | undefined;
  const interrupts: Interrupts = watchInterrupts(say, () => current && commandHint(['resume', current.runId], { ...opts, stateDir: current.stateDir }));
  const progress = new Progress(label);
  let applied: Applied | AppliedHandoff;
  try {
    applied = await go({ signal: interrupts.signal, onProgress: (e) => progress.apply(e), onRun: (runId, stateDir) => (current = { runId, stateDir }) });
  } catch (err) {
    progress.stop();
    if (current) say(`Run ${current.runId} stopped by an error. Finish it with: ${commandHint(['resume', current.runId], opts)}`);
    // Said, not left for the admin to find missing (a black-box test): the journal has every user's outcome.
    if (current && opts.results) say(`--results ${opts.results} was not written: ${commandHint(['report', current.runId], { stateDir: current.stateDir })} lists every user's outcome so far`);
    // Interrupted before a run existed: the exit status is the signal's, as for an interrupted run.
    const signal = interrupts.received();
    if (signal && err instanceof UserError && err.exitCode === SIGNAL_EXIT.SIGINT) throw new UserError(err.message, SIGNAL_EXIT[signal]);
    throw err;
  } finally {
    progress.stop();
    interrupts.dispose();
  }
  const o = applied.outcome;
  // Offered only when a resume has something to do: users left out as stale get a new plan (the summary says).
  const hint = o.resumable ? commandHint(['resume', o.runId], opts) : undefined;
  process.stdout.write(renderApplySummary(o, applied.stateDir, hint, opts.stateDir));
  if (opts.results) {
    try {
      await writeResults(opts.results, 'results' in applied ? renderResultsCsv(applied.results, resultsRun(applied.outcome)) : (applied.resultsCsv ?? ''));
    } catch (err) {
      // As for standard output that is lost: a run's own state (3 partial, 4 stopped, 130/143
      // interrupted) is kept, for what a script does next; a run all done whose results are lost is 1.
      const own = exitStatus(o, interrupts.received());
      throw new UserError(`${(err as Error).message}; the run itself is ${o.state} (the summary above): ${commandHint(['report', o.runId], opts.stateDir ? { stateDir: opts.stateDir } : {})} lists every user's outcome`, own === EXIT.ok ? EXIT.error : own, { cause: err });
    }
  }
  process.exitCode = exitStatus(o, interrupts.received());
}

/** 0 all done; 3 failures or skips (they win over 4); 4 stopped by --waves; 130/143 interrupted. */
export function exitStatus(o: Pick<ApplyOutcome, 'state' | 'counts'>, signal: 'SIGINT' | 'SIGTERM' | undefined): number {
  if (o.state === 'interrupted') return SIGNAL_EXIT[signal ?? 'SIGINT'];
  if (o.counts.failed + o.counts.skipped > 0 || o.state === 'partial') return EXIT.partial;
  if (o.state === 'stopped') return EXIT.stopped;
  return EXIT.ok;
}

async function writeResults(path: string, csv: string): Promise<void> {
  await writeOutputFile('--results', path, csv);
  process.stderr.write(`Results written to ${path}\n`);
}

/** A SHA-256 in hex (64 characters), as the report and `runs` show it. */
function sha256Hex(v: string): string {
  const h = v.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(h)) throw new UserError(`--plan-hash must be a SHA-256 in hex (64 characters), got "${v}"`);
  return h;
}
