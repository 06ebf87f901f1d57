import type { Plan } from '../../src/plan/plan-model.js';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { CONTOSO, tempDir } from '../helpers/migration.js';
import { CONTOSO_SEED_ARGS, planVia } from '../helpers/e2e.js';
import { expectPlanApplied, parseCsv, writes, type PlanDoc, type Snapshot } from '../helpers/tenant-checks.js';
import { runMain } from '../helpers/run-main.js';
import { mountTmpfs, unmount } from '../helpers/tmpfs.js';
import { readFileSync } from 'node:fs';

/** The apply, resume and runs commands as an admin types them: options, errors, exit codes. */
describe('mfa-migrate apply / resume / runs (CLI)', () => {
  let emu: RunningEmulator;
  let tmp: ReturnType<typeof tempDir>;
  let planFile: string;
  let plan: PlanDoc;
  let pristine: Snapshot;

  beforeAll(async () => {
    tmp = tempDir('cli');
    emu = await startEmulator({ port: 0, throttle: 'off' });
    planFile = join(tmp.dir, 'contoso.plan');
    plan = await planVia(runMain, emu.url, planFile);
    pristine = emu.snapshot();
  }, 60_000);

  afterAll(async () => {
    await emu?.stop();
    tmp?.cleanup();
  });

  afterEach(() => {
    emu.reset();
  });

  it('has --help with examples and the exit codes', async () => {
    const apply = await runMain(['apply', '--help']);
    expect(apply.code).toBe(0);
    for (const flag of ['--batch-size', '--users', '--group', '--max-users', '--waves', '--state-dir', '--skip-stale', '--auto-approve', '--results']) expect(apply.stdout).toContain(flag);
    expect(apply.stdout).toContain('Examples:');
    expect(apply.stdout).toMatch(/3 some failed/);
    for (const cmd of ['resume', 'runs']) {
      const r = await runMain([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Examples:');
    }
  });

  it('refuses a plan file together with --source, neither, a missing file and a file that is not a plan (exit 1, nothing written)', async () => {
    emu.clearRequests();
    const both = await runMain(['apply', planFile, '--source', CONTOSO, '--graph-url', emu.url, '--state-dir', join(tmp.dir, 's1')]);
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(/either a plan file or --source/);
    const neither = await runMain(['apply', '--graph-url', emu.url, '--state-dir', join(tmp.dir, 's1')]);
    expect(neither.code).toBe(1);
    expect(neither.stderr).toMatch(/--source/);
    const missing = await runMain(['apply', join(tmp.dir, 'nope.plan'), '--graph-url', emu.url, '--state-dir', join(tmp.dir, 's1')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope.plan');
    const notPlan = join(tmp.dir, 'users.plan');
    writeFileSync(notPlan, JSON.stringify({ hello: 'world' }));
    const bad = await runMain(['apply', notPlan, '--graph-url', emu.url, '--state-dir', join(tmp.dir, 's1')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/users\.plan: not a plan file/);
    expect(bad.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const badBatch = await runMain(['apply', planFile, '--batch-size', '0', '--graph-url', emu.url]);
    expect(badBatch.code).toBe(1);
    expect(badBatch.stderr).toMatch(/--batch-size must be a positive integer/);
    expect(writes(emu.requests())).toEqual([]);
  });

  it('refuses --auto-approve, --show-phone-numbers and --all with a saved plan: they act only with --source (exit 1, nothing written)', async () => {
    emu.clearRequests();
    const stateDir = join(tmp.dir, 's-source-only');
    for (const extra of [['--auto-approve'], ['--show-phone-numbers'], ['--all'], ['--auto-approve', '--show-phone-numbers']]) {
      const r = await runMain(['apply', planFile, ...extra, '--graph-url', emu.url, '--state-dir', stateDir]);
      expect(r.code, extra.join(' ')).toBe(1);
      expect(r.stderr).toContain(`mfa-migrate: ${extra.join(', ')}: these options go with --source`);
    }
    expect(writes(emu.requests())).toEqual([]);
    expect((await runMain(['runs', '--state-dir', stateDir])).stdout).not.toMatch(/apply/);
  });

  it('--source without --auto-approve and without a terminal is an error; nothing is written', async () => {
    emu.clearRequests();
    const r = await runMain(['apply', '--source', CONTOSO, ...CONTOSO_SEED_ARGS, '--graph-url', emu.url, '--state-dir', join(tmp.dir, 's2')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--auto-approve/);
    expect(writes(emu.requests())).toEqual([]);
  });

  it('--source at the prompt: Ctrl-C cancels with exit 130, Ctrl-D, the end of input or "no" with exit 1, one line each and nothing sent', async () => {
    // A terminal, in this process: stdin is a stream marked a TTY, stderr (where the question goes) too,
    // so that readline reads keys in raw mode as on an admin's terminal. A black-box test saw Ctrl-C
    // and Ctrl-D print "unexpected error: AbortError" with a stack trace, exit 1.
    const typed = async (feed: (input: PassThrough) => void) => {
      const input = Object.assign(new PassThrough(), { isTTY: true });
      feed(input);
      const stdin = Object.getOwnPropertyDescriptor(process, 'stdin')!;
      Object.defineProperty(process, 'stdin', { configurable: true, get: () => input });
      const stderrTTY = process.stderr.isTTY;
      process.stderr.isTTY = true;
      try {
        emu.clearRequests();
        const r = await runMain(['apply', '--source', CONTOSO, ...CONTOSO_SEED_ARGS, '--graph-url', emu.url, '--state-dir', join(tmp.dir, 's-prompt')]);
        expect(writes(emu.requests())).toEqual([]);
        return r;
      } finally {
        Object.defineProperty(process, 'stdin', stdin);
        process.stderr.isTTY = stderrTTY;
      }
    };
    for (const [keys, code] of [['\x03', 130], ['\x04', 1], ['no\r', 1], ['ye\x03', 130]] as const) {
      const r = await typed((i) => i.write(keys));
      expect(r.code, JSON.stringify(keys)).toBe(code);
      expect(r.stderr).toContain('Only "yes" is accepted: ');
      expect(r.stderr).toMatch(/\nmfa-migrate: apply cancelled: nothing was sent\n$/);
      expect(r.stderr).not.toMatch(/unexpected error|AbortError| {4}at /);
    }
    // Input that ends (Ctrl-D on a terminal not in raw mode): cancelled, not a command left hanging.
    const ended = await typed((i) => i.end());
    expect(ended.code).toBe(1);
    expect(ended.stderr).toMatch(/\nmfa-migrate: apply cancelled: nothing was sent\n$/);
    // No run was started: not even its state folder was made.
    expect(existsSync(join(tmp.dir, 's-prompt'))).toBe(false);
  }, 60_000);

  it('--source --auto-approve plans and applies in one go', async () => {
    const stateDir = join(tmp.dir, 's3');
    const r = await runMain(['apply', '--source', CONTOSO, ...CONTOSO_SEED_ARGS, '--graph-url', emu.url, '--state-dir', stateDir, '--auto-approve']);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Plan: \d+ to add, \d+ to change/);
    expect(r.stdout).toMatch(/Run \S+: completed\./);
    expectPlanApplied(plan, emu.snapshot());
    // Applying the same export again: no changes, nothing to do.
    emu.clearRequests();
    const again = await runMain(['apply', '--source', CONTOSO, ...CONTOSO_SEED_ARGS, '--graph-url', emu.url, '--state-dir', stateDir, '--auto-approve']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/No changes/);
    expect(writes(emu.requests())).toEqual([]);
  }, 60_000);

  it('--users and --max-users limit who is migrated; --results, report and the summary call the others not selected', async () => {
    const usersFile = join(tmp.dir, 'users.txt');
    writeFileSync(usersFile, 'upn\nbob@contoso.com\n# a comment\nGRACE@contoso.com\nnot-in-plan@contoso.com\n');
    const results = join(tmp.dir, 'some.csv');
    // A named user the plan does not have is an error: the saved plan is what was approved.
    const unknown = await runMain(['apply', planFile, '--users', usersFile, '--graph-url', emu.url, '--state-dir', join(tmp.dir, 's4')]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/not in the plan: not-in-plan@contoso\.com/);
    expect(writes(emu.requests())).toEqual([]);
    // A file naming nobody (not yet filled in) is refused: it would still send the plan's policy changes and use the plan up.
    writeFileSync(usersFile, 'upn\n# to be filled in\n\n');
    const empty = await runMain(['apply', planFile, '--users', usersFile, '--graph-url', emu.url, '--state-dir', join(tmp.dir, 's4')]);
    expect([empty.code, empty.stderr]).toEqual([1, `mfa-migrate: --users ${usersFile} names no user (it is empty, or holds only comments and a header): give a file with one username a line\n`]);
    expect(writes(emu.requests())).toEqual([]);
    writeFileSync(usersFile, 'upn\nbob@contoso.com\n# a comment\nGRACE@contoso.com\n');
    const r = await runMain(['apply', planFile, '--users', usersFile, '--graph-url', emu.url, '--state-dir', join(tmp.dir, 's4'), '--results', results]);
    expect(r.code).toBe(0);
    // --results lists the users in scope (--users); report, the run's evidence, every user of the plan: the others not-selected, as the summary words them.
    const withChanges = (plan as unknown as Plan).users.filter((u) => u.status === 'changes').length;
    const picked = parseCsv(readFileSync(results, 'utf8'));
    expect(picked.map((x) => [x.user, x.outcome])).toEqual([['bob@contoso.com', 'done'], ['grace@contoso.com', 'done']]);
    expect(r.stdout).toContain(`0 not started`);
    expect(r.stdout).toContain(`not selected for this run: ${withChanges - 2} user(s)`);
    const pickedId = /^Run (\S+):/.exec(r.stdout)![1]!;
    const pickedReport = JSON.parse((await runMain(['report', pickedId, '--state-dir', join(tmp.dir, 's4'), '--format', 'json'])).stdout) as { users: { user: string; outcome: string }[] };
    expect(pickedReport.users).toHaveLength((plan as unknown as Plan).users.length);
    expect(pickedReport.users.filter((u) => ['bob@contoso.com', 'grace@contoso.com'].includes(u.user)).map((u) => [u.user, u.outcome])).toEqual(picked.map((x) => [x.user, x.outcome]));
    expect(pickedReport.users.filter((u) => u.outcome === 'not-selected')).toHaveLength(withChanges - 2);
    expect(pickedReport.users.filter((u) => u.outcome === 'not-started')).toEqual([]);
    const state: Snapshot = emu.snapshot();
    const others = new Set(plan.user_changes.map((c) => c.user.toLowerCase()).filter((u) => u !== 'bob@contoso.com' && u !== 'grace@contoso.com'));
    expectPlanApplied(plan, state, others);
    const alice = (s: Snapshot) => s.users.find((u: Snapshot) => u.userPrincipalName === 'carol@contoso.com');
    expect(alice(state)).toEqual(alice(pristine));

    emu.reset();
    const max = await runMain(['apply', planFile, '--max-users', '3', '--graph-url', emu.url, '--state-dir', join(tmp.dir, 's5'), '--results', results]);
    expect(max.code).toBe(0);
    const rows = parseCsv(readFileSync(results, 'utf8'));
    expect(rows.filter((x) => x.outcome === 'done')).toHaveLength(3);
    // Beyond --max-users: not selected (the summary said "0 not started" and "not selected: N" while these said not-started).
    expect(rows.filter((x) => x.outcome === 'not-selected')).toHaveLength(withChanges - 3);
    expect(rows.filter((x) => x.outcome === 'not-started')).toEqual([]);
    expect(rows).toHaveLength((plan as unknown as Plan).users.length);
    expect(max.stdout).toContain(`not selected for this run: ${withChanges - 3} user(s)`);
    const maxId = /^Run (\S+):/.exec(max.stdout)![1]!;
    for (const format of [[], ['--format', 'json']]) {
      const rep = await runMain(['report', maxId, '--state-dir', join(tmp.dir, 's5'), ...format]);
      if (format.length > 0) expect((JSON.parse(rep.stdout) as { users: { user: string; outcome: string }[] }).users.map((u) => [u.user, u.outcome])).toEqual(rows.map((x) => [x.user, x.outcome]));
      else expect(rep.stdout).toContain(`${withChanges - 3} not selected for this run`);
    }
  }, 60_000);

  /** Found by a review: a run whose only problem was a stale user said "Resume with", and the resume sent nothing and said it again. */
  it('--skip-stale: a run left with only stale users names them for a new plan and offers no resume (exit 3 either way)', async () => {
    const stateDir = join(tmp.dir, 's-stale');
    const res = await fetch(`${emu.url}/v1.0/users/igor@contoso.com/authentication/phoneMethods/3179e48a-750b-4051-897c-87b9720928f7`, {
      method: 'PATCH',
      headers: { Authorization: 'Bearer t', 'Content-Type': 'application/json' },
      body: JSON.stringify({ phoneNumber: '+1 2065550188', phoneType: 'mobile' }),
    });
    expect(res.status).toBe(204);
    const r = await runMain(['apply', planFile, '--skip-stale', '--graph-url', emu.url, '--state-dir', stateDir]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/: partial\./);
    expect(r.stdout).toContain('Left out as stale, which no resume sends: 1 user(s): igor@contoso.com. Finish them with a new plan: mfa-migrate plan ... --users FILE --out FILE');
    expect(r.stdout).not.toContain('Resume with');
    // A plain resume does not take it up (an older run a resume can finish would hide behind it)...
    emu.clearRequests();
    const plain = await runMain(['resume', '--graph-url', emu.url, '--state-dir', stateDir]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain('no unfinished apply run a resume can finish (not rolled back; a run left with only users skipped as stale needs a new plan of them)');
    // ...and named, it sends nothing and says the same, not "Resume with" again.
    const runId = /^Run (\S+):/.exec(r.stdout)![1]!;
    const again = await runMain(['resume', runId, '--graph-url', emu.url, '--state-dir', stateDir]);
    expect(again.code).toBe(3);
    expect(writes(emu.requests())).toEqual([]);
    expect(again.stdout).toContain('Left out as stale, which no resume sends: 1 user(s): igor@contoso.com.');
    expect(again.stdout).not.toContain('Resume with');
  }, 60_000);

  it('runs: text and JSON with no runs, a bad --format refused; a state folder that is not there is an error, not "no runs" (a black-box test)', async () => {
    const missing = await runMain(['runs', '--state-dir', join(tmp.dir, 'no-such-folder')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`the state folder ${join(tmp.dir, 'no-such-folder')} does not exist (--state-dir): no run was made there`);
    const empty = join(tmp.dir, 'empty');
    mkdirSync(empty, { mode: 0o700 });
    const text = await runMain(['runs', '--state-dir', empty]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/empty:\n {2}no runs/);
    const json = await runMain(['runs', '--state-dir', empty, '--format', 'json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([]);
    const bad = await runMain(['runs', '--state-dir', empty, '--format', 'yaml']);
    expect(bad.code).not.toBe(0);
  });

  it('a --state-dir one level too high (the state base, or a copy of it): runs and the run commands name the tenant folders that hold the runs (a docs audit: "no runs", exit 0)', async () => {
    const home = join(tmp.dir, 'xdg');
    const base = join(home, 'mfa-migrate');
    const r = await runMain(['apply', planFile, '--graph-url', emu.url, '--max-users', '1'], { env: { XDG_STATE_HOME: home } });
    expect(r.code, r.stderr).toBe(0);
    const runId = /^Run (\S+):/.exec(r.stdout)![1]!;
    const tenantDir = join(base, (plan as unknown as Plan).tenant.id);
    const listing = `  no runs in this folder itself, but its tenant folder(s) hold runs (--state-dir names one tenant's folder); list them with:\n    mfa-migrate runs --state-dir ${tenantDir}\n`;
    // The state base itself: leaving --state-dir out lists them too.
    const atBase = await runMain(['runs', '--state-dir', base], { env: { XDG_STATE_HOME: home } });
    expect(atBase.code).toBe(0);
    expect(atBase.stdout).toBe(`${base}:\n${listing}    mfa-migrate runs   (every tenant folder of the state base)\n\n`);
    // A folder laid out as the base but not it (a copy, another XDG_STATE_HOME): only the --state-dir to give.
    const elsewhere = await runMain(['runs', '--state-dir', base], { env: { XDG_STATE_HOME: join(tmp.dir, 'other-xdg') } });
    expect(elsewhere.stdout).toBe(`${base}:\n${listing}\n`);
    // JSON stays a list of runs (none here); where they are is said on stderr.
    const json = await runMain(['runs', '--state-dir', base, '--format', 'json'], { env: { XDG_STATE_HOME: home } });
    expect([json.code, JSON.parse(json.stdout)]).toEqual([0, []]);
    expect(json.stderr).toContain(`${base}: no runs in this folder itself, but its tenant folder(s) hold runs`);
    expect(json.stderr).toContain(`mfa-migrate runs --state-dir ${tenantDir}`);
    // A run named there: the folder that holds it.
    for (const args of [['report', runId], ['runs', 'verify', runId], ['rollback', runId]]) {
      const named = await runMain([...args, '--state-dir', base], { env: { XDG_STATE_HOME: home } });
      expect(named.code, args[0]).toBe(1);
      expect(named.stderr.trim(), args[0]).toBe(`mfa-migrate: no run ${runId} in ${base}; it is in ${tenantDir}: give --state-dir ${tenantDir}`);
    }
    const latest = await runMain(['resume', '--state-dir', base], { env: { XDG_STATE_HOME: home } });
    expect(latest.code).toBe(1);
    expect(latest.stderr).toContain(`; ${base} holds no runs itself, but its tenant folder(s) do: give --state-dir ${tenantDir}, or leave --state-dir out to look in every tenant folder\n`);
    // A folder with runs of its own is listed as ever, no word of its sub-folders.
    expect((await runMain(['runs', '--state-dir', tenantDir])).stdout).not.toMatch(/tenant folder/);
  });

  it('a --results file whose disk fills during the run: said with the report command, and the exit status is the run\'s (4 stopped by --waves), not 1 (a black-box test)', async (ctx) => {
    const stateDir = join(tmp.dir, 's-results-full');
    const outDir = join(tmp.dir, 'results-full');
    // One page: the check's byte fits, the file's rows (some 200 bytes for each of the plan's users) do not.
    const cannot = mountTmpfs(outDir, '4k');
    if (cannot) ctx.skip(`cannot mount a tmpfs (${cannot})`);
    try {
      const results = join(outDir, 'wave.csv');
      const stopped = await runMain(['apply', planFile, '--graph-url', emu.url, '--state-dir', stateDir, '--batch-size', '5', '--waves', '1', '--results', results]);
      const runId = /^Run (\S+):/.exec(stopped.stdout)![1]!;
      expect(stopped.stdout).toMatch(/: stopped after wave 1 of \d+\./);
      expect(stopped.stderr).toContain(`mfa-migrate: --results ${results}: cannot write it (ENOSPC); the run itself is stopped (the summary above): mfa-migrate report ${runId} --state-dir ${stateDir} lists every user's outcome`);
      expect(stopped.code).toBe(4);
      expect(readdirSync(outDir)).toEqual([]);
      // A run all done whose results are lost is a failure, 1 (the output lost, as for standard output).
      const done = await runMain(['resume', runId, '--graph-url', emu.url, '--state-dir', stateDir, '--results', results]);
      expect(done.stdout).toMatch(/completed/);
      expect(done.stderr).toContain(`mfa-migrate: --results ${results}: cannot write it (ENOSPC); the run itself is completed`);
      expect(done.code).toBe(1);
    } finally {
      unmount(outDir);
    }
  }, 60_000);

  it("refuses a --results file in the state folder (its runs' journals and plan copies, the lock), by any path, before anything is sent; the run stays readable (a second-operator review: a resume's results over its journal left it unreadable)", async () => {
    const stateDir = join(tmp.dir, 's-results-in-state');
    const stopped = await runMain(['apply', planFile, '--graph-url', emu.url, '--state-dir', stateDir, '--batch-size', '2', '--waves', '1']);
    expect(stopped.code).toBe(4);
    const runId = /^Run (\S+):/.exec(stopped.stdout)![1]!;
    const runDir = join(stateDir, 'runs', runId);
    const journal = readFileSync(join(runDir, 'journal.jsonl'));
    const planCopy = readFileSync(join(runDir, 'plan.jsonl'));
    symlinkSync(stateDir, join(tmp.dir, 'state-link'));
    emu.clearRequests();
    const refusal = (path: string) => `mfa-migrate: --results ${path}: is in the state folder ${stateDir}, which holds the lock and the runs' journals and plan copies (a file written there can destroy a run's record); choose a path outside it\n`;
    for (const path of [join(runDir, 'journal.jsonl'), join(runDir, 'plan.jsonl'), join(stateDir, 'lock'), `${stateDir}/runs/../runs/${runId}/journal.jsonl`, join(tmp.dir, 'state-link', 'runs', runId, 'journal.jsonl'), join(stateDir, 'results.csv')]) {
      const resumed = await runMain(['resume', runId, '--graph-url', emu.url, '--state-dir', stateDir, '--waves', '1', '--results', path]);
      expect(resumed.stderr).toBe(refusal(path));
      expect(resumed.code).toBe(1);
    }
    // A new apply of another plan must not write over an older run's journal either.
    const applied = await runMain(['apply', planFile, '--graph-url', emu.url, '--state-dir', stateDir, '--results', join(runDir, 'journal.jsonl')]);
    expect(applied.stderr).toBe(refusal(join(runDir, 'journal.jsonl')));
    expect(applied.code).toBe(1);
    expect(writes(emu.requests())).toEqual([]);
    expect(readFileSync(join(runDir, 'journal.jsonl'))).toEqual(journal);
    expect(readFileSync(join(runDir, 'plan.jsonl'))).toEqual(planCopy);
    expect((await runMain(['runs', 'verify', runId, '--state-dir', stateDir])).code).toBe(0);
    // Outside the state folder, the same run goes on.
    const results = join(tmp.dir, 'outside.csv');
    const done = await runMain(['resume', runId, '--graph-url', emu.url, '--state-dir', stateDir, '--results', results]);
    expect(done.code).toBe(0);
    expect(parseCsv(readFileSync(results, 'utf8')).length).toBeGreaterThan(0);
  }, 60_000);

  it('runs lists several runs newest first with their state and counts', async () => {
    const stateDir = join(tmp.dir, 's6');
    const first = await runMain(['apply', planFile, '--graph-url', emu.url, '--state-dir', stateDir, '--batch-size', '5', '--waves', '1']);
    // Stopped by --waves with waves left and nothing failed: 4, with the command that goes on.
    expect(first.code).toBe(4);
    expect(first.stdout).toMatch(/: stopped after wave 1 of \d+\./);
    expect(first.stdout).toMatch(new RegExp(`Resume with: mfa-migrate resume \\S+ --state-dir ${stateDir.replace(/[/.]/g, '\\$&')}`));
    const second = await runMain(['resume', '--graph-url', emu.url, '--state-dir', stateDir]);
    expect(second.code).toBe(0);
    emu.reset();
    const third = await runMain(['apply', planFile, '--graph-url', emu.url, '--state-dir', stateDir, '--max-users', '2']);
    expect(third.code).toBe(0);
    const runs = JSON.parse((await runMain(['runs', '--state-dir', stateDir, '--format', 'json'])).stdout) as { id: string; state: string; started: string; finished: string; counts: Record<string, number> }[];
    expect(runs).toHaveLength(2);
    expect(runs.map((r) => r.state)).toEqual(['completed', 'completed']);
    expect(runs[0]!.started >= runs[1]!.started).toBe(true);
    for (const r of runs) {
      expect(Object.keys(r).sort()).toEqual(expect.arrayContaining(['id', 'state', 'started', 'finished', 'counts']));
      expect(Object.keys(r.counts).sort()).toEqual(['done', 'failed', 'pending', 'skipped', 'started']);
    }
    expect(runs[1]!.counts.done!).toBeGreaterThan(runs[0]!.counts.done!);
    const text = await runMain(['runs', '--state-dir', stateDir]);
    const lines = text.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(/^\s+RUN\s+KIND\s+STATE\s+TENANT\s+GRAPH\s+STARTED/);
    expect(lines[2]).toContain(runs[0]!.id);
    expect(lines[2]).toContain('Contoso (');
  }, 60_000);
});
