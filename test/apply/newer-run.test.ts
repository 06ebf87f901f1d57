import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as journal from '../../src/apply/journal.js';
import { chainHash, readRun, splitHash } from '../../src/apply/journal.js';
import type { LockInfo } from '../../src/apply/state-lock.js';
import { planCopyPath } from '../../src/app/plan-copy.js';
import { runReport } from '../../src/app/report.js';
import { toolVersion } from '../../src/io/tool-version.js';
import { PLAN_FILE_VERSION } from '../../src/plan/plan-file.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, resumeIn, rollbackIn, runDirs, tempDir } from '../helpers/migration.js';
import { runMain } from '../helpers/run-main.js';

// readRun counted (it reads a journal whole: tens of MB for a large run); it does what it did. Spied
// on, not mocked: the file shares a worker with others (vitest.config.ts), so the spy goes at its end.
beforeAll(() => void vi.spyOn(journal, 'readRun'));
afterAll(() => vi.mocked(journal.readRun).mockRestore());

/** The next minor plan format: what a later build writes. */
const NEXT = `2.${Number(PLAN_FILE_VERSION.split('.')[1]) + 1}`;
const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

/** The later build: what its journal names. */
const LATER = `${toolVersion()}.later`;

/**
 * A run as a later build leaves it: its plan copy of the next format, the journal's plan hash that
 * copy's, the build it names the later one, and its chain made anew from it (what a later build's
 * apply writes, not an edit). `startedBy`: the build the journal names (this one: a contradiction).
 */
function asLaterBuilds(runDir: string, startedBy = LATER): void {
  const copy = join(runDir, 'plan.jsonl');
  const plan = readFileSync(copy, 'utf8').replace(/"format_version":"2\.\d+"/, `"format_version":"${NEXT}"`);
  writeFileSync(copy, plan);
  const journal = join(runDir, 'journal.jsonl');
  let previous = sha(plan);
  const lines = readFileSync(journal, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line, i) => {
      let body = splitHash(line)!.body;
      if (i === 0) {
        const header = JSON.parse(body);
        expect(header.operator.toolVersion).toBe(toolVersion());
        body = JSON.stringify({ ...header, planHash: previous, operator: { ...header.operator, toolVersion: startedBy } });
      }
      previous = chainHash(previous, body);
      return `${body.slice(0, -1)},"hash":"${previous}"}`;
    });
  writeFileSync(journal, `${lines.join('\n')}\n`);
}

/**
 * An upgrade black-box round: an older build, given a later build's run, said "...or make a new plan
 * with this one", which cannot resume or roll back a run that exists; and its report wrote a partial
 * report, then exited 1. The run commands say which build to use, and a report refused writes nothing.
 */
describe('a run started by a later build', () => {
  let g: FakeGraph;
  let tmp: ReturnType<typeof tempDir>;
  let stateDir: string;
  let runDir: string;
  let runId: string;

  beforeAll(async () => {
    tmp = tempDir('newer-run');
    g = fakeGraph();
    const planFile = join(tmp.dir, 'contoso.plan');
    await planTo(g, planFile);
    stateDir = join(tmp.dir, 'state');
    const first = await applyFile(g, planFile, stateDir, { batchSize: 10, waves: 1 });
    expect(first.outcome.state).toBe('stopped');
    runDir = runDirs(stateDir)[0]!;
    runId = basename(runDir);
  }, 60_000);
  afterAll(() => tmp?.cleanup());

  /** The refusal of a run command, for run `id` (the run a rollback `undoneBy` undoes). */
  const refusal = (id: string, dir: string, undoneBy?: string) =>
    `${undoneBy ? `run ${undoneBy} undoes run ${id}, whose plan copy` : `run ${id}: its plan copy`} (${join(dir, 'plan.jsonl')}) is of plan format ${NEXT}, and this mfa-migrate (${toolVersion()}) reads plan formats up to ${PLAN_FILE_VERSION}: ` +
    `run ${id} was started by a later one (mfa-migrate ${LATER}), whose plan and journal may hold what this one does not know, so this one does not resume, roll back or report it. ` +
    `Use the mfa-migrate that started run ${id} (mfa-migrate ${LATER}), or a later one (a new plan does not take over a run)`;

  it('resume, rollback and report refuse it naming the build that started it, not with a new plan', async () => {
    const state = join(tmp.dir, 'later');
    cpSync(stateDir, state, { recursive: true });
    const dir = join(state, 'runs', runId);
    asLaterBuilds(dir);
    const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => (e as Error).message);
    for (const message of [await errorOf(resumeIn(g, state, { runId })), await errorOf(rollbackIn(g, state, runId)), await errorOf(runReport(runId, state))]) {
      expect(message).toBe(refusal(runId, dir));
    }
  });

  it('report refuses it whole: no --report file, nothing on standard output, exit 1', async () => {
    const state = join(tmp.dir, 'later-report');
    cpSync(stateDir, state, { recursive: true });
    asLaterBuilds(join(state, 'runs', runId));
    for (const format of ['text', 'json']) {
      const file = join(tmp.dir, `run-${format}.html`);
      const out = await runMain(['report', runId, '--state-dir', state, '--format', format, '--report', file]);
      expect(out.code).toBe(1);
      expect(out.stdout).toBe('');
      expect(out.stderr).toBe(`mfa-migrate: ${refusal(runId, join(state, 'runs', runId))}\n`);
      expect(existsSync(file)).toBe(false);
    }
  });

  it("the report of a rollback of it says it is the undone run's, and names the build that started that run", async () => {
    const state = join(tmp.dir, 'later-rollback');
    cpSync(stateDir, state, { recursive: true });
    const rolled = await rollbackIn(g, state, runId);
    const rollbackId = rolled.outcome.runId;
    asLaterBuilds(join(state, 'runs', runId));
    vi.mocked(readRun).mockClear();
    await expect(runReport(rollbackId, state)).rejects.toThrow(refusal(runId, join(state, 'runs', runId), rollbackId));
    // The undone run's journal is read whole once (for the plan), its header alone for the refusal.
    expect(vi.mocked(readRun).mock.calls.filter(([dir]) => dir === join(state, 'runs', runId))).toHaveLength(1);
  });

  it('a copy relabelled after the run (its hash not the journal\'s) is to be put back, not upgraded to', async () => {
    const state = join(tmp.dir, 'relabelled');
    cpSync(stateDir, state, { recursive: true });
    const copy = join(state, 'runs', runId, 'plan.jsonl');
    const original = readFileSync(copy);
    writeFileSync(copy, original.toString('utf8').replace(/"format_version":"2\.\d+"/, `"format_version":"${NEXT}"`));
    const message = await resumeIn(g, state, { runId }).then(() => '', (e: unknown) => (e as Error).message);
    expect(message).toContain(`its plan copy ${copy} was changed after the run`);
    expect(message).toContain(`cannot be read (it is of plan format ${NEXT}, and this mfa-migrate reads plan formats up to ${PLAN_FILE_VERSION}): put the run's plan back there (the file whose sha256 is ${sha(original)}, the plan applied)`);
    expect(message).not.toContain('make a new plan');
  });

  /**
   * A black-box round: `runs` listed a later build's run as any other (an admin then tried its resume,
   * refused), and `runs verify` said "journal verified" of a journal this build may not know the format of.
   */
  it('runs says it is a later build\'s, with its rollback, and runs verify leaves it to that build (exit 2)', async () => {
    const state = join(tmp.dir, 'later-listed');
    cpSync(stateDir, state, { recursive: true });
    const rollbackId = (await rollbackIn(g, state, runId)).outcome.runId;
    asLaterBuilds(join(state, 'runs', runId));
    const later = { run: runId, plan_format: NEXT, tool_version: LATER };
    const json = await runMain(['runs', '--state-dir', state, '--format', 'json']);
    expect(json.code).toBe(0);
    const listed = JSON.parse(json.stdout) as { id: string; later_build?: unknown; problem?: string }[];
    expect(listed.map((r) => [r.id, r.later_build, r.problem])).toEqual([
      [rollbackId, later, undefined],
      [runId, later, undefined],
    ]);
    const text = await runMain(['runs', '--state-dir', state]);
    const note = `(started by mfa-migrate ${LATER}, plan format ${NEXT}; this one reads up to ${PLAN_FILE_VERSION}): finish, report and verify it with that build or a later one`;
    expect(text.stdout).toContain(`a later build's run ${note}; rolled back by ${rollbackId}`);
    expect(text.stdout).toContain(`a later build's run (undoes run ${runId}, started by mfa-migrate ${LATER}, plan format ${NEXT}; `);
    const verified = await runMain(['runs', 'verify', runId, '--state-dir', state]);
    expect(verified.code).toBe(2);
    expect(verified.stdout).toBe('');
    expect(verified.stderr).toBe(
      `mfa-migrate: run ${runId}: unverifiable: started by a later mfa-migrate (${LATER}): its plan copy is of plan format ${NEXT}, and this one (${toolVersion()}) reads plan formats up to ${PLAN_FILE_VERSION}, ` +
        `so its journal may hold what this one does not know: this one does not verify it (it calls it neither whole nor edited). Verify it with the mfa-migrate that started run ${runId}, or a later one (${join(state, 'runs', runId, 'journal.jsonl')})\n`,
    );
    const rollback = await runMain(['runs', 'verify', rollbackId, '--state-dir', state]);
    expect(rollback.code).toBe(2);
    expect(rollback.stderr).toContain(`run ${rollbackId}: unverifiable: it undoes run ${runId}, started by a later mfa-migrate (${LATER}): run ${runId}'s plan copy is of plan format ${NEXT}`);
  });

  it('a copy relabelled after the run is listed and verified as changed, not as a later build\'s', async () => {
    const state = join(tmp.dir, 'relabelled-listed');
    cpSync(stateDir, state, { recursive: true });
    const copy = join(state, 'runs', runId, 'plan.jsonl');
    writeFileSync(copy, readFileSync(copy, 'utf8').replace(/"format_version":"2\.\d+"/, `"format_version":"${NEXT}"`));
    const json = await runMain(['runs', '--state-dir', state, '--format', 'json']);
    const [run] = JSON.parse(json.stdout) as { later_build?: unknown; problem?: string }[];
    expect(run!.later_build).toBeUndefined();
    expect(run!.problem).toContain("the run's plan copy (plan.jsonl) is not the plan the journal records");
    expect((await runMain(['runs', 'verify', runId, '--state-dir', state])).code).toBe(1);
  });

  /**
   * A review: a journal that says this very build started the run, with its plan copy relabelled a later
   * format and the copy's hash put in line 1, was verified exit 2 (a later build's, "started by a later
   * mfa-migrate (X)... this one (X)") instead of exit 1: no build writes a format later than its own.
   */
  it("a copy of a later format in a run its journal says this build started is changed (exit 1), not a later build's", async () => {
    // Line 1's plan hash alone edited (the chain left as it was), and the whole chain made anew.
    for (const rechained of [false, true]) {
      const state = join(tmp.dir, `contradiction-${rechained}`);
      cpSync(stateDir, state, { recursive: true });
      const dir = join(state, 'runs', runId);
      if (rechained) asLaterBuilds(dir, toolVersion());
      else {
        const copy = join(dir, 'plan.jsonl');
        const plan = readFileSync(copy, 'utf8').replace(/"format_version":"2\.\d+"/, `"format_version":"${NEXT}"`);
        writeFileSync(copy, plan);
        const [first, ...rest] = readFileSync(join(dir, 'journal.jsonl'), 'utf8').split('\n');
        writeFileSync(join(dir, 'journal.jsonl'), [first!.replace(/"planHash":"[0-9a-f]+"/, `"planHash":"${sha(plan)}"`), ...rest].join('\n'));
      }
      const verified = await runMain(['runs', 'verify', runId, '--state-dir', state]);
      expect(verified.code, `rechained: ${rechained}`).toBe(1);
      expect(verified.stderr).not.toContain('a later mfa-migrate');
      expect(verified.stderr).not.toContain('unverifiable');
      if (rechained) expect(verified.stderr).toContain(`run ${runId}'s journal says this mfa-migrate (${toolVersion()}) started it, but its plan copy (${join(dir, 'plan.jsonl')}) is of plan format ${NEXT}, later than the ${PLAN_FILE_VERSION} this one writes: the copy or the journal was changed after the run`);
      const [listed] = JSON.parse((await runMain(['runs', '--state-dir', state, '--format', 'json'])).stdout) as { later_build?: unknown; problem?: string }[];
      expect(listed!.later_build).toBeUndefined();
      expect(listed!.problem).toContain('changed after the run');
      const refused = await resumeIn(g, state, { runId }).then(() => '', (e: unknown) => (e as Error).message);
      expect(refused).toContain('the copy or the journal was changed after the run');
      expect(refused).not.toContain('a later one');
    }
  });

  it('is refused before anything in the state folder is tidied: a dead process\'s plan copy and lock are left as they were', async () => {
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => dead.on('exit', r));
    for (const command of ['resume', 'rollback'] as const) {
      const state = join(tmp.dir, `untouched-${command}`);
      cpSync(stateDir, state, { recursive: true });
      asLaterBuilds(join(state, 'runs', runId));
      // What a killed apply leaves: its private plan copy, its lock.
      const copy = planCopyPath(state, { pid: dead.pid!, host: hostname() });
      writeFileSync(copy, 'x');
      const lock: LockInfo = { id: 'dead-lock', operation: 'apply', pid: dead.pid!, host: hostname(), user: 'someone', started: '2026-11-27T08:00:00.000Z' };
      writeFileSync(join(state, 'lock'), `${JSON.stringify(lock)}\n`);
      const before = readdirSync(state).sort();
      const refused = command === 'resume' ? resumeIn(g, state, { runId }) : rollbackIn(g, state, runId);
      await expect(refused).rejects.toThrow(refusal(runId, join(state, 'runs', runId)));
      expect(readdirSync(state).sort()).toEqual(before);
      expect(JSON.parse(readFileSync(join(state, 'lock'), 'utf8'))).toEqual(lock);
    }
  });

  it('while the run is live, its lock\'s holder is named first (not the later build), and nothing is taken or tidied', async () => {
    const live = spawn('sleep', ['60']);
    try {
      await new Promise((r) => live.on('spawn', r));
      for (const command of ['resume', 'rollback'] as const) {
        const state = join(tmp.dir, `live-${command}`);
        cpSync(stateDir, state, { recursive: true });
        asLaterBuilds(join(state, 'runs', runId));
        const lock: LockInfo = { id: 'live-lock', operation: 'apply', pid: live.pid!, host: hostname(), user: 'someone', started: '2026-11-27T08:00:00.000Z', runId };
        writeFileSync(join(state, 'lock'), `${JSON.stringify(lock)}\n`);
        const before = readdirSync(state).sort();
        const refused = command === 'resume' ? resumeIn(g, state, { runId }) : rollbackIn(g, state, runId);
        await expect(refused).rejects.toThrow(`the state directory is in use by apply (lock live-lock), pid ${live.pid} of someone@${hostname()}`);
        expect(readdirSync(state).sort()).toEqual(before);
        expect(JSON.parse(readFileSync(join(state, 'lock'), 'utf8'))).toEqual(lock);
      }
    } finally {
      live.kill();
    }
  });
});
