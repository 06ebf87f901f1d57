import { Option, type Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { listRuns } from '../apply/journal.js';
import { LockHeldError, lockHolderAlive, readLock } from '../apply/state-lock.js';
import { resumeApply, StalePlanError, startApply, type ApplyOutcome, type ApplySelection } from '../apply/run-apply.js';
import { resumeRollback, startRollback, type RollbackOutcome } from '../apply/run-rollback.js';
import { groupMemberUpns, resolveGroup } from '../graph/tenant-reader.js';
import type { OathSeed } from '../model/export-data.js';
import { ProblemList, formatProblem } from '../model/problem.js';
import { toPlanFile } from '../plan/plan-file.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { applyPlanFromMemory, loadApplyPlan, type ApplyPlan } from '../apply/apply-plan.js';
import { renderPlanTerminal } from '../plan/render-terminal.js';
import { serialKey } from '../model/serial.js';
import { loadPskcKeyFile, loadPskcPasswordFile, readSeedFiles } from '../source/seeds/read-seed-files.js';
import { ApplyProgress } from './apply-progress.js';
import { CliError, EXIT } from './cli-error.js';
import { addGraphOptions, connect, positiveInt, type GraphCliOptions } from './graph-options.js';
import { addPlanningOptions, planFromOptions, type PlanCliOptions } from './plan-command.js';
import { join } from 'node:path';
import { printable } from '../model/printable.js';

interface ApplyCliOptions extends PlanCliOptions {
  source: string;
  stateDir: string;
  batchSize: number;
  maxUsers?: number;
  waves?: number;
  skipStale: boolean;
  autoApprove: boolean;
  results?: string;
}

export function registerApply(program: Command): void {
  const cmd = program
    .command('apply')
    .argument('[planfile]', 'a plan saved by `mfa-migrate plan --out` (passing it is the approval)')
    .description('Apply a saved plan (or plan and apply with --source) through Graph $batch, in waves, throttle-aware, journaled and resumable.');
  addPlanningOptions(cmd);
  // --source is needed only without a plan file ('mandatory' is commander's "must be given";
  // 'required' means "takes a value", which it still does).
  const source = cmd.options.find((o) => o.long === '--source')!;
  source.mandatory = false;
  addStateDirOption(cmd)
    .option('--batch-size <n>', 'users per wave', (v) => positiveInt(v, '--batch-size'), 500)
    .option('--max-users <n>', 'apply to at most this many users', (v) => positiveInt(v, '--max-users'))
    .option('--waves <k>', 'stop after K waves (resume continues)', (v) => positiveInt(v, '--waves'))
    .option('--skip-stale', 'leave out objects that changed since the plan (and report them) instead of refusing to start', false)
    .option('--auto-approve', 'with --source: apply without asking', false)
    .option('--results <file.csv>', 'write one row per user: upn, outcome, operations, error')
    .option('--show-phone-numbers', 'show phone numbers in full when the plan is shown', false)
    .addHelpText(
      'after',
      `
Exit status: 0 every operation succeeded; 3 some failed or were skipped (the run is complete and
can be resumed); 1 error (stale plan, lock held, Graph unreachable).

Examples:
  $ mfa-migrate plan --source ./export --tokens seeds.pskc --out wave1.plan
  $ mfa-migrate apply wave1.plan --results wave1.csv
  $ mfa-migrate apply wave1.plan --batch-size 200 --waves 1          # first wave only
  $ mfa-migrate apply --source ./export --tokens seeds.pskc --auto-approve --graph-url http://127.0.0.1:8080`,
    )
    .action(async (planfile: string | undefined, opts: ApplyCliOptions) => {
      let plan: ApplyPlan;
      let seeds: Map<string, OathSeed>;
      if (planfile) {
        if (opts.source) throw new CliError('give either a plan file or --source, not both');
        try {
          // Streamed: a plan for 100,000 users need not fit in memory as JSON.
          plan = await loadApplyPlan(planfile);
        } catch (err) {
          throw new CliError((err as NodeJS.ErrnoException).code === 'ENOENT' ? `cannot read the plan file ${planfile}: no such file` : (err as Error).message);
        }
        seeds = await seedsForPlan(plan);
      } else {
        if (!opts.source) throw new CliError('give a plan file, or --source DIR to plan and apply in one go');
        if (!opts.autoApprove && !process.stdin.isTTY) throw new CliError('--source without --auto-approve needs a terminal to confirm; pass --auto-approve to apply without asking');
        const made = await planFromOptions({ ...opts, format: 'text', detailedExitcode: false });
        if (!made) return;
        const planFile = toPlanFile(made.built.plan, made.source);
        plan = applyPlanFromMemory(planFile, Buffer.from(`${JSON.stringify(planFile, null, 2)}\n`));
        seeds = new Map(made.bundle.seeds.map((s) => [serialKey(s.serial), s]));
        process.stdout.write(renderPlanTerminal(planFile, { color: process.stdout.isTTY === true, showPhoneNumbers: opts.showPhoneNumbers }));
        const changes = planFile.summary.create + planFile.summary.update + planFile.summary.delete;
        if (changes === 0) {
          process.stdout.write('No changes: nothing to apply.\n');
          return;
        }
        if (!opts.autoApprove && !(await confirm('Apply these changes? Only "yes" is accepted: '))) throw new CliError('apply cancelled');
      }
      const conn = connect(opts, false);
      const users = await selectedUsers(conn, opts).catch((err: unknown) => {
        throw err instanceof CliError ? err : new CliError((err as Error).message);
      });
      const sel: ApplySelection = {
        batchSize: opts.batchSize,
        ...(opts.waves !== undefined ? { waves: opts.waves } : {}),
        ...(users ? { users } : {}),
        ...(opts.maxUsers !== undefined ? { maxUsers: opts.maxUsers } : {}),
        skipStale: opts.skipStale,
        concurrency: opts.concurrency,
      };
      const progress = new ApplyProgress();
      let outcome: ApplyOutcome;
      try {
        outcome = await startApply(plan, undefined, sel, { conn, stateDir: opts.stateDir, seeds, onProgress: (e) => progress.update(e), log: (l) => process.stderr.write(`${printable(l, true)}\n`) });
      } catch (err) {
        progress.stop();
        throw cliErrorOf(err);
      }
      progress.stop();
      await finish(outcome, opts.results);
    });

  const resume = program
    .command('resume')
    .argument('[runId]', 'the run to finish (default: the latest unfinished run)')
    .description('Finish an interrupted apply run: operations already done are not sent again; ones whose outcome is unknown are read back first.');
  addGraphOptions(addStateDirOption(resume))
    .option('--results <file.csv>', 'write one row per user: upn, outcome, operations, error')
    .addHelpText(
      'after',
      `
Examples:
  $ mfa-migrate resume                       # the latest unfinished run in ./.mfa-migrate
  $ mfa-migrate resume 20261128T101500Z-3f2a9c1d --state-dir /var/lib/mfa-migrate`,
    )
    .action(async (runId: string | undefined, opts: GraphCliOptions & { stateDir: string; results?: string }) => {
      const runs = await listRuns(opts.stateDir);
      const id = runId ?? runs.find((r) => r.kind === 'apply' && (r.state === 'interrupted' || r.state === 'partial' || r.state === 'stopped'))?.id;
      if (!id) throw new CliError(runId ? `no run ${runId}` : `no unfinished apply run in ${opts.stateDir}`);
      if (!runs.some((r) => r.id === id)) throw new CliError(`no run ${id} in ${opts.stateDir}`);
      const plan = await loadApplyPlan(join(opts.stateDir, 'runs', id, 'plan.json')).catch((err: Error) => {
        throw new CliError(err.message);
      });
      const seeds = await seedsForPlan(plan);
      const conn = connect(opts, false);
      const progress = new ApplyProgress();
      let outcome: ApplyOutcome;
      try {
        outcome = await resumeApply(id, { conn, stateDir: opts.stateDir, seeds, onProgress: (e) => progress.update(e), log: (l) => process.stderr.write(`${printable(l, true)}\n`) });
      } catch (err) {
        progress.stop();
        throw cliErrorOf(err);
      }
      progress.stop();
      await finish(outcome, opts.results);
    });

  const rollback = program
    .command('rollback')
    .argument('<runId>', 'the apply run to undo (or an interrupted rollback run to finish)')
    .description('Undo what an apply run did, newest first: delete what it created, restore what it updated and the previous default method, put the policy back. Objects changed since the run are reported, not overwritten, unless --force.');
  addGraphOptions(addStateDirOption(rollback))
    .option('--force', 'also overwrite objects changed in the tenant since the run', false)
    .addHelpText(
      'after',
      `
Exit status: 0 everything was undone; 3 something was left (changed since the run, or failed): resumable; 1 error.

Examples:
  $ mfa-migrate runs
  $ mfa-migrate rollback 20261128T101500Z-3f2a9c1d
  $ mfa-migrate rollback 20261128T101500Z-3f2a9c1d --force`,
    )
    .action(async (runId: string, opts: GraphCliOptions & { stateDir: string; force: boolean }) => {
      const runs = await listRuns(opts.stateDir);
      const run = runs.find((r) => r.id === runId);
      if (!run) throw new CliError(`no run ${runId} in ${opts.stateDir}`);
      const conn = connect(opts, false);
      const deps = { conn, stateDir: opts.stateDir, concurrency: opts.concurrency, force: opts.force, log: (l: string) => process.stderr.write(`${printable(l, true)}\n`) };
      let o: RollbackOutcome;
      try {
        o = run.kind === 'rollback' ? await resumeRollback(runId, deps) : await startRollback(runId, deps);
      } catch (err) {
        throw cliErrorOf(err);
      }
      const c = o.counts;
      process.stdout.write(
        [
          `Rollback ${o.runId} of run ${o.rollbackOf}: ${o.state}.`,
          `  operations: ${c.done} done, ${c.failed} failed, ${c.skipped} skipped, ${c.pending + c.started} pending`,
          ...o.changedSince.map((x) => `  left alone (changed since the run): ${x.user ?? 'policy'} ${x.target}: ${x.reason}`),
          ...o.notReversible.map((x) => `  not reversible: ${x.user ?? 'policy'} ${x.target}: ${x.reason}`),
          ...(o.state !== 'completed' ? [`Resume with: mfa-migrate rollback ${o.runId}`] : []),
        ].map((l) => printable(l)).join('\n') + '\n',
      );
      process.exitCode = o.state === 'completed' ? EXIT.ok : EXIT.partial;
    });

  const runs = program.command('runs').description('List the runs in the state directory, newest first, with their state and counts.');
  addStateDirOption(runs)
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .addHelpText('after', '\nExamples:\n  $ mfa-migrate runs\n  $ mfa-migrate runs --format json | jq \'.[0].state\'')
    .action(async (opts: { stateDir: string; format: 'text' | 'json' }) => {
      const lock = await readLock(join(opts.stateDir, 'lock'));
      const holder = lock && lockHolderAlive(lock) ? lock : undefined;
      // A run is "running" only while a live process holds the lock for that very run.
      const list = await listRuns(opts.stateDir, (id) => holder?.runId === id);
      if (opts.format === 'json') {
        process.stdout.write(`${JSON.stringify(list.map((r) => ({ id: r.id, kind: r.kind, state: r.state, started: r.started, finished: r.finished, counts: r.counts })), null, 2)}\n`);
        return;
      }
      if (holder && !holder.runId) {
        process.stdout.write(`In use by ${holder.operation} (pid ${holder.pid} of ${holder.user}@${holder.host}, since ${holder.started}), preparing its run.\n`);
      }
      if (list.length === 0) {
        process.stdout.write(`No runs in ${opts.stateDir}.\n`);
        return;
      }
      for (const r of list) {
        const c = r.counts;
        process.stdout.write(`${r.id}  ${r.kind.padEnd(8)} ${r.state.padEnd(11)} started ${r.started}${r.finished ? `  finished ${r.finished}` : ''}  done ${c.done}, failed ${c.failed}, skipped ${c.skipped}, pending ${c.pending + c.started}\n`);
      }
    });
}

export function addStateDirOption(cmd: Command): Command {
  return cmd.option('--state-dir <dir>', 'folder for the lock and the journals of runs', './.mfa-migrate');
}

async function finish(o: ApplyOutcome, resultsFile?: string): Promise<void> {
  const c = o.counts;
  const s = o.stats;
  const seconds = Math.max(0.001, (Date.now() - s.startedAt) / 1000);
  process.stdout.write(
    [
      `Run ${o.runId}: ${o.state}.`,
      `  operations: ${c.done} done, ${c.failed} failed, ${c.skipped} skipped, ${c.pending + c.started} pending`,
      `  users: ${o.users.filter((u) => u.outcome === 'done').length} done, ${o.users.filter((u) => u.outcome === 'partial').length} partial, ${o.users.filter((u) => u.outcome === 'failed').length} failed, ${o.users.filter((u) => u.outcome === 'stale').length} stale, ${o.users.filter((u) => u.outcome === 'pending').length} not started`,
      `  Graph: ${s.batches} batches, ${s.throttled} throttled, ${s.retried} retried, ${s.verified} read back; ${(c.done / seconds).toFixed(1)} ops/s`,
      ...(o.stale.length ? [`  stale (left out): ${o.stale.map((x) => `${x.user ?? 'policy'} ${x.target}`).join(', ')}`] : []),
      ...o.users.filter((u) => u.outcome === 'failed' || u.outcome === 'partial').slice(0, 20).map((u) => `  ${u.upn}: ${u.error ?? u.outcome}`),
      ...(o.state !== 'completed' ? [`Resume with: mfa-migrate resume ${o.runId}`] : []),
    ].map((l) => printable(l)).join('\n') + '\n',
  );
  if (resultsFile) {
    const rows = ['upn,outcome,operations,error', ...o.users.map((u) => [u.upn, u.outcome, `${u.done}/${u.operations}`, u.error ?? ''].map(csvCell).join(','))];
    await writeFileAtomic(resultsFile, `${rows.join('\n')}\n`, 0o600);
    process.stderr.write(`Results written to ${resultsFile}\n`);
  }
  process.exitCode = o.state === 'completed' ? EXIT.ok : EXIT.partial;
}

function csvCell(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** Seeds are read again from the files the plan was made from, never from the plan (it holds none). */
async function seedsForPlan(plan: Pick<ApplyPlan, 'source' | 'hasTokenChanges'>): Promise<Map<string, OathSeed>> {
  if (!plan.hasTokenChanges) return new Map();
  const problems = new ProblemList();
  let opts;
  try {
    opts = {
      pskcMac: plan.source.pskcMac,
      ...(plan.source.pskcKeyFile ? { pskcKey: loadPskcKeyFile(plan.source.pskcKeyFile) } : {}),
      ...(plan.source.pskcPasswordFile ? { pskcPassword: loadPskcPasswordFile(plan.source.pskcPasswordFile) } : {}),
    };
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const seeds = await readSeedFiles(plan.source.tokens, opts, problems);
  if (problems.hasErrors()) {
    const fatal = problems.errors.filter((p) => p.code.startsWith('pskc') || p.code === 'file-unreadable' || p.code === 'file-missing' || p.code === 'secret-duplicate');
    if (fatal.length) throw new CliError(`cannot read the seed files again:\n${fatal.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
  }
  return new Map(seeds.map((s) => [serialKey(s.serial), s]));
}

async function selectedUsers(conn: ReturnType<typeof connect>, opts: ApplyCliOptions): Promise<string[] | undefined> {
  let users: string[] | undefined;
  if (opts.users) {
    const text = await readFile(opts.users, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new CliError(`cannot read --users ${opts.users} (${err.code ?? 'error'})`);
    });
    users = text
      .split(/\r?\n/)
      .map((l) => l.split(/[,;]/)[0]!.trim().toLowerCase())
      .filter((l) => l && !l.startsWith('#') && !['upn', 'username', 'userprincipalname'].includes(l));
  }
  if (opts.group && !opts.source) {
    const g = await resolveGroup(conn, opts.group);
    const members = (await groupMemberUpns(conn, g.id)).map((u) => u.toLowerCase());
    users = users ? users.filter((u) => members.includes(u)) : members;
  }
  return users;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
}

function cliErrorOf(err: unknown): Error {
  if (err instanceof StalePlanError) {
    return new CliError(`${err.message}:\n${err.stale.map((s) => `  ${s.user ?? 'policy'} ${s.target}: ${s.reason}`).join('\n')}`);
  }
  if (err instanceof LockHeldError) return new CliError(err.message);
  if (err instanceof Error && (err.name === 'GraphRequestError' || err.name === 'SignInError')) return new CliError(err.message);
  return err instanceof Error ? err : new Error(String(err));
}

