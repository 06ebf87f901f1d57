import { copyFileSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyJournal } from '../../src/apply/journal.js';
import { runReport } from '../../src/app/report.js';
import { renderRunReportText } from '../../src/report/render-run-report.js';
import type { FakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, resumeIn, rollbackIn, testDir, planOfUntouched } from '../helpers/migration.js';
import { runMain } from '../helpers/run-main.js';

/** Swaps two run folders' journals (or plan copies), as an auditor did by hand. */
function swap(stateDir: string, a: string, b: string, file = 'journal.jsonl'): void {
  const path = (id: string) => join(stateDir, 'runs', id, file);
  renameSync(path(a), `${path(a)}.swap`);
  renameSync(path(b), path(a));
  renameSync(`${path(a)}.swap`, path(b));
}

/**
 * Contoso's policy applied with alice first (so that a plan made after it changes no policy, and can
 * be applied more than once), then a third plan applied twice: frank's run, then grace's (one plan hash for both).
 */
async function twoRunsOfOnePlan(name: string) {
  const { dir } = testDir(name);
  const stateDir = join(dir, 'state');
  const { g } = await planOfUntouched(join(dir, 'first.plan'));
  await applyFile(g, join(dir, 'first.plan'), stateDir, { users: ['alice@contoso.com'] });
  await planTo(g, join(dir, 'third.plan'));
  const frank = (await applyFile(g, join(dir, 'third.plan'), stateDir, { users: ['frank@contoso.com'] })).outcome;
  const grace = (await applyFile(g, join(dir, 'third.plan'), stateDir, { users: ['grace@contoso.com'] })).outcome;
  expect(frank.planHash).toBe(grace.planHash);
  expect([frank.counts.done, grace.counts.done]).toEqual([expect.any(Number), expect.any(Number)]);
  expect(Math.min(frank.counts.done, grace.counts.done)).toBeGreaterThan(0);
  return { g, dir, stateDir, a: frank.runId, b: grace.runId };
}

/** What the journal in run `folder`'s folder says, when it is run `run`'s (`kind`). */
const another = (folder: string, run: string, kind: 'an apply' | 'a rollback') =>
  `the journal in run ${folder}'s folder is run ${run}'s, ${kind} (its header names that run, under the hash chain), not run ${folder}'s: moved or copied there from another run's folder`;

const writes = (g: FakeGraph) => g.operations().filter((o) => o.method !== 'GET');

/**
 * Found by an auditor's black-box test: two runs of one plan (frank's, grace's) with their journals
 * swapped both passed `runs verify` (each with the other's final hash), `report A` printed `Run: B`
 * with no warning, and `rollback A` undid grace's changes and recorded itself as the rollback of A.
 * The header names its run under the hash chain; the folder's name was taken for it unchecked.
 */
describe("a run folder holding another run's journal is refused wherever a run is read", () => {
  it('two applies of one plan swapped: runs verify, runs and report of each say so, and exit 1', async () => {
    const { stateDir, a, b } = await twoRunsOfOnePlan('swap-applies');
    swap(stateDir, a, b);

    expect(await verifyJournal(join(stateDir, 'runs', a))).toEqual({ state: 'broken', line: 1, reason: another(a, b, 'an apply') });
    for (const [folder, run] of [
      [a, b],
      [b, a],
    ] as const) {
      const verify = await runMain(['runs', 'verify', folder, '--state-dir', stateDir]);
      expect(verify.code).toBe(1);
      expect(verify.stderr).toContain(`run ${folder}: the journal was changed after it was written: line 1 of ${join(stateDir, 'runs', folder, 'journal.jsonl')}: ${another(folder, run, 'an apply')}`);
      expect(verify.stdout).not.toContain('verified');
    }

    const listed = JSON.parse((await runMain(['runs', '--state-dir', stateDir, '--format', 'json'])).stdout) as { id: string; state: string; problem?: string }[];
    expect(listed.find((r) => r.id === a)).toMatchObject({ state: 'unreadable', problem: another(a, b, 'an apply') });
    expect(listed.find((r) => r.id === b)).toMatchObject({ state: 'unreadable', problem: another(b, a, 'an apply') });
    const text = await runMain(['runs', '--state-dir', stateDir]);
    expect(text.stdout).toContain(another(a, b, 'an apply'));

    const problem = `the journal was changed after it was written: line 1: ${another(a, b, 'an apply')}`;
    const report = await runReport(a, stateDir);
    expect(report.journal).toMatchObject({ state: 'broken', edited: true, about: null, problem });
    // The run asked for, as that journal records it (grace's run, completed): the warning says whose it is.
    expect(report.run).toMatchObject({ id: a, state: 'completed', options: { users: ['grace@contoso.com'] } });
    expect(report.run.counts.done).toBeGreaterThan(0);
    expect(renderRunReportText(report).split('\n')[0]).toContain(`WARNING: ${problem}.`);
    for (const format of ['text', 'json']) {
      const cli = await runMain(['report', a, '--state-dir', stateDir, '--format', format]);
      expect(cli.code, format).toBe(1);
      expect(cli.stderr, format).toContain(`run ${a}: ${problem}`);
    }
  });

  it('two applies of one plan swapped: rollback and resume of either are refused before anything is sent', async () => {
    const { g, stateDir, a, b } = await twoRunsOfOnePlan('swap-applies-act');
    swap(stateDir, a, b);
    g.emu.clearRequests();
    const runs = readdirSync(join(stateDir, 'runs')).sort();
    await expect(rollbackIn(g, stateDir, a)).rejects.toThrow(`run ${a} in ${stateDir} cannot be read: ${another(a, b, 'an apply')}`);
    await expect(rollbackIn(g, stateDir, b)).rejects.toThrow(`run ${b} in ${stateDir} cannot be read: ${another(b, a, 'an apply')}`);
    await expect(resumeIn(g, stateDir, { runId: a })).rejects.toThrow(`run ${a} in ${stateDir} cannot be read: ${another(a, b, 'an apply')}`);
    expect(writes(g)).toEqual([]);
    // No rollback run was made.
    expect(readdirSync(join(stateDir, 'runs')).sort()).toEqual(runs);
    // Put back, each is its run again.
    swap(stateDir, a, b);
    expect(await verifyJournal(join(stateDir, 'runs', a))).toMatchObject({ state: 'verified' });
  });

  it("an apply swapped with its rollback: each names the other run's journal first, not lines taken off or a plan copy missing", async () => {
    const { dir } = testDir('swap-rollback');
    const stateDir = join(dir, 'state');
    const { g } = await planOfUntouched(join(dir, 'p.plan'));
    const a = (await applyFile(g, join(dir, 'p.plan'), stateDir)).outcome.runId;
    const stop = new AbortController();
    stop.abort();
    // Cut short before it sent anything: a rollback left to finish.
    const rb = (await rollbackIn(g, stateDir, a, { signal: stop.signal })).outcome.runId;
    swap(stateDir, a, rb);

    expect(await verifyJournal(join(stateDir, 'runs', a))).toEqual({ state: 'broken', line: 1, reason: another(a, rb, 'a rollback') });
    expect(await verifyJournal(join(stateDir, 'runs', rb))).toEqual({ state: 'broken', line: 1, reason: another(rb, a, 'an apply') });
    for (const [folder, run, kind] of [
      [a, rb, 'a rollback'],
      [rb, a, 'an apply'],
    ] as const) {
      const verify = await runMain(['runs', 'verify', folder, '--state-dir', stateDir]);
      expect(verify.code).toBe(1);
      expect(verify.stderr).toContain(another(folder, run, kind));
      expect(verify.stderr).not.toContain('taken off');
      expect(verify.stderr).not.toContain('cannot be read');
      expect((await runMain(['report', folder, '--state-dir', stateDir])).code).toBe(1);
    }

    g.emu.clearRequests();
    await expect(rollbackIn(g, stateDir, rb)).rejects.toThrow(`run ${rb} in ${stateDir} cannot be read: ${another(rb, a, 'an apply')}`);
    await expect(rollbackIn(g, stateDir, a)).rejects.toThrow(`run ${a} in ${stateDir} cannot be read: ${another(a, rb, 'a rollback')}`);
    expect(writes(g)).toEqual([]);
  });

  it("a rollback whose undone run's folder holds another run's journal says so, and is not finished", async () => {
    const { g, stateDir, a, b } = await twoRunsOfOnePlan('swap-undone');
    const stop = new AbortController();
    stop.abort();
    const rb = (await rollbackIn(g, stateDir, b, { signal: stop.signal })).outcome.runId;
    swap(stateDir, a, b);
    const reason = `the run it undoes (${b}) is not the run it undid: ${another(b, a, 'an apply')}`;
    expect(await verifyJournal(join(stateDir, 'runs', rb))).toMatchObject({ state: 'broken', line: 1, about: 'undone-run', reason });
    const verify = await runMain(['runs', 'verify', rb, '--state-dir', stateDir]);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toContain(`${reason} (the rollback's own journal, `);
    g.emu.clearRequests();
    // Newest first is judged by the undone run's start, which its folder does not hold: the mismatch is said instead.
    await expect(rollbackIn(g, stateDir, rb)).rejects.toThrow(`run ${b} cannot be read: ${another(b, a, 'an apply')} (mfa-migrate runs verify ${b} --state-dir ${stateDir} says why)`);
    // Out of order, the rollback's own check refuses it.
    await expect(rollbackIn(g, stateDir, rb, { outOfOrder: true })).rejects.toThrow(`run ${rb}: ${reason} (the rollback's own journal is whole): what it records is acted on, so it is refused`);
    expect(writes(g)).toEqual([]);
  });

  it("a plan copy moved in from a run of another plan is not the plan the journal records", async () => {
    const { g, dir, stateDir } = await twoRunsOfOnePlan('moved-plan-copy');
    // Another plan, and a run of it: its copy moved into frank's run.
    await planTo(g, join(dir, 'fourth.plan'));
    const a = (await applyFile(g, join(dir, 'third.plan'), stateDir, { users: ['bob@contoso.com'] })).outcome;
    const b = (await applyFile(g, join(dir, 'fourth.plan'), stateDir, { users: ['alice@contoso.com'] })).outcome;
    expect(a.planHash).not.toBe(b.planHash);
    copyFileSync(join(stateDir, 'runs', b.runId, 'plan.jsonl'), join(stateDir, 'runs', a.runId, 'plan.jsonl'));
    expect(await verifyJournal(join(stateDir, 'runs', a.runId))).toMatchObject({ state: 'broken', about: 'plan-copy-changed', reason: expect.stringContaining("the run's plan copy (plan.jsonl) is not the plan the journal records") });
    expect((await runMain(['runs', 'verify', a.runId, '--state-dir', stateDir])).code).toBe(1);
    expect((await runMain(['report', a.runId, '--state-dir', stateDir])).code).toBe(1);
    g.emu.clearRequests();
    await expect(rollbackIn(g, stateDir, a.runId)).rejects.toThrow(`run ${a.runId}: its plan copy ${join(stateDir, 'runs', a.runId, 'plan.jsonl')} was changed after the run`);
    expect(writes(g)).toEqual([]);
  });
});
