import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { journalProblem, verifyJournal } from '../../src/apply/journal.js';
import { planCopyLoss } from '../../src/apply/plan-copy-loss.js';
import { applyFile, rollbackIn, testDir, planOfUntouched } from '../helpers/migration.js';
import { runMain } from '../helpers/run-main.js';

/**
 * A power cut kept a run's journal and left its plan copy empty (a black-box round): runs verify
 * called that "changed after the run", which reads as tampering. An empty or cut-short copy whose
 * journal is whole is a crash loss, and is said so, with what to do: put the plan file back.
 */
describe('a run plan copy lost in a crash', () => {
  async function oneRun(name: string) {
    const { dir } = testDir(name);
    const stateDir = join(dir, 'state');
    const planFile = join(dir, 'contoso.plan');
    const { g } = await planOfUntouched(planFile);
    const { outcome } = await applyFile(g, planFile, stateDir, { users: ['alice@contoso.com'] });
    return { g, stateDir, planFile, runId: outcome.runId, planHash: outcome.planHash, copy: join(stateDir, 'runs', outcome.runId, 'plan.jsonl') };
  }

  it('planCopyLoss: empty or cut short only; a whole plan, or one edited in place, is not a loss', async () => {
    const { planFile } = await oneRun('plan-lost-unit');
    const plan = readFileSync(planFile);
    expect(planCopyLoss(plan, 'plan.jsonl')).toBeUndefined();
    expect(planCopyLoss(Buffer.from(plan.toString('utf8').replace('"t":"finding"', '"t":"findinG"')), 'plan.jsonl')).toBeUndefined();
    expect(planCopyLoss(Buffer.alloc(0), 'plan.jsonl')).toBe('is empty (0 bytes)');
    expect(planCopyLoss(plan.subarray(0, plan.length >> 1), 'plan.jsonl')).toMatch(/^is cut short \(\d+ bytes, without the plan's closing line\)$/);
    // Cut at a line's end: whole lines, but not the plan's last.
    const cut = plan.subarray(0, plan.lastIndexOf(0x0a, plan.length - 2) + 1);
    expect(planCopyLoss(cut, 'plan.jsonl')).toMatch(/^is cut short/);
    // A crash that kept the size but not the data: zeros, whole or at the end.
    expect(planCopyLoss(Buffer.alloc(plan.length), 'plan.jsonl')).toBe(`holds only zeros (${plan.length} bytes)`);
    expect(planCopyLoss(Buffer.concat([plan.subarray(0, 4096), Buffer.alloc(8192)]), 'plan.jsonl')).toMatch(/^is cut short/);
    // Not the start of a plan, or added to after its end: changed, not lost.
    expect(planCopyLoss(Buffer.from('not a plan\n'), 'plan.jsonl')).toBeUndefined();
    expect(planCopyLoss(Buffer.concat([plan, Buffer.from('\n')]), 'plan.jsonl')).toBeUndefined();
    expect(planCopyLoss(Buffer.from('{}'), 'plan.json')).toBeUndefined();
    expect(planCopyLoss(Buffer.alloc(0), 'plan.json')).toBe('is empty (0 bytes)');
  }, 60_000);

  it('an empty copy: runs verify and rollback say a crash lost it and to put the plan back, not that it was changed', async () => {
    const { g, stateDir, runId, planHash, copy } = await oneRun('plan-lost-empty');
    truncateSync(copy, 0);
    const check = await verifyJournal(join(stateDir, 'runs', runId));
    expect(check).toMatchObject({ state: 'broken', about: 'plan-copy-changed', lost: true });
    const words = `the run's plan copy (plan.jsonl) is empty (0 bytes): lost in a crash (a copy not yet on disk when the power went), not an edit; put the run's plan back there (the file whose sha256 is ${planHash}, the plan applied)`;
    expect(journalProblem(check)).toBe(`${words} (its journal is whole)`);
    const v = await runMain(['runs', 'verify', runId, '--state-dir', stateDir]);
    expect(v.code).toBe(1);
    expect(v.stderr).toContain(words);
    expect(v.stderr).not.toContain('changed after the run');
    const listed = await runMain(['runs', '--state-dir', stateDir]);
    expect(listed.stdout + listed.stderr).not.toContain('changed after the run');
    const before = g.emu.snapshot();
    await expect(rollbackIn(g, stateDir, runId)).rejects.toThrow(`run ${runId}: ${words}`);
    expect(g.emu.snapshot()).toEqual(before);
  }, 60_000);

  it('a cut-short copy: said as a crash loss; put back, the run is whole again', async () => {
    const { g, stateDir, runId, copy, planFile } = await oneRun('plan-lost-cut');
    const plan = readFileSync(copy);
    writeFileSync(copy, plan.subarray(0, plan.length >> 1));
    const v = await runMain(['runs', 'verify', runId, '--state-dir', stateDir]);
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/the run's plan copy \(plan\.jsonl\) is cut short \(\d+ bytes, without the plan's closing line\): lost in a crash/);
    writeFileSync(copy, readFileSync(planFile));
    expect((await runMain(['runs', 'verify', runId, '--state-dir', stateDir])).code).toBe(0);
    expect((await rollbackIn(g, stateDir, runId)).outcome.state).toBe('completed');
  }, 60_000);
});
