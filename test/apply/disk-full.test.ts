import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRuns } from '../../src/app/runs.js';
import { goOnWith, JournalWriteError } from '../../src/apply/journal.js';
import type { Plan } from '../../src/plan/plan-model.js';
import type { FakeGraph } from '../helpers/graph.js';
import { applyFile, planOfUntouched, resumeIn, rollbackIn, tempDir } from '../helpers/migration.js';
import { expectNoDuplicateCreates, expectPlanApplied } from '../helpers/tenant-checks.js';
import { mountTmpfs } from '../helpers/tmpfs.js';

const tmp = tempDir('diskfull');
const stateDir = join(tmp.dir, 'state');
// Room for the plan's private copy (it becomes the run's) and the first part of its journal (the sample's plan is some 83 KB, its journal some 24 KB).
const cannot = mountTmpfs(stateDir, '100k');
if (cannot) process.stderr.write(`disk-full test skipped: cannot mount a tmpfs (${cannot})\n`);

/** Issue 17 item 4: a full disk ends a run with a clear message, and the run can be resumed and rolled back. */
describe.skipIf(cannot !== undefined)('apply on a disk that fills up', () => {
  let plan: Plan;
  let planFile: string;
  let g: FakeGraph;
  beforeAll(async () => {
    planFile = join(tmp.dir, 'contoso.plan');
    ({ g, plan } = await planOfUntouched(planFile));
  });
  afterAll(() => {
    try {
      execFileSync('umount', [stateDir]);
    } catch {
      // left mounted only if the test failed to mount it
    }
    tmp.cleanup();
  });

  it('stops with a clear error (no stack), sending nothing unjournaled; once there is room, runs lists it, resume finishes it, rollback undoes it', async () => {
    expect(statSync(planFile).size).toBeLessThan(86_000);
    const err = (await applyFile(g, planFile, stateDir, { batchSize: 5 }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(JournalWriteError);
    expect(err.message).toMatch(new RegExp(`^cannot write ${stateDir.replace(/[/.]/g, '\\$&')}/runs/(\\S+)/journal\\.jsonl, the journal of run \\1 \\(ENOSPC: the disk is full\\): nothing more was sent`));
    const [dir] = await allRuns(stateDir);
    expect(dir!.runs).toHaveLength(1);
    const run = dir!.runs[0]!;
    expect(run.state).toBe('interrupted');

    execFileSync('mount', ['-o', 'remount,size=4m', stateDir]);
    const resumed = await resumeIn(g, stateDir);
    expect(resumed.outcome).toMatchObject({ runId: run.id, state: 'completed' });
    expectPlanApplied(plan, g.emu.snapshot());
    expectNoDuplicateCreates(g.emu.requests(), g.emu.snapshot());

    // Full again before the rollback: no run is made, and the message says to run the command again
    // (a fault-injection test met a stack trace from the lock, then "resume run X" for a run never made).
    const used = Number(execFileSync('df', ['--output=used', '-B1', stateDir]).toString().trim().split('\n').at(-1));
    // Room for the lock (some pages), none for the rollback's journal.
    execFileSync('mount', ['-o', `remount,size=${Math.ceil(used / 4096) * 4096 + 3 * 4096}`, stateDir]);
    const full = (await rollbackIn(g, stateDir, run.id).catch((e: unknown) => e)) as Error;
    // (With a page more or less for the lock, the lock itself is refused first, as clearly.)
    expect(full.message).toMatch(/^cannot make the folder of a new run in \S+ \(ENOSPC: the disk is full\): nothing was sent\. Make room \(or make it writable\), then run the command again$|^cannot lock the state folder \S+: the disk is full$/);
    expect(full.stack).not.toMatch(/FileLock\.update/);
    expect((await allRuns(stateDir))[0]!.runs).toHaveLength(1);

    execFileSync('mount', ['-o', 'remount,size=4m', stateDir]);
    const rolled = await rollbackIn(g, stateDir, run.id);
    expect(rolled.outcome.state).toBe('completed');
  }, 60_000);
});

describe('a journal write that fails', () => {
  const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  it("names the command that goes on with the run: resume for an apply, rollback for a rollback (a fault-injection test was told to resume a rollback, which resume cannot)", () => {
    expect(new JournalWriteError('/s/runs/20261205T130000Z-aaaaaaaa', enospc, goOnWith('/s/runs/20261205T130000Z-aaaaaaaa', 'apply')).message).toBe(
      'cannot write /s/runs/20261205T130000Z-aaaaaaaa/journal.jsonl, the journal of run 20261205T130000Z-aaaaaaaa (ENOSPC: the disk is full): nothing more was sent. Make room (or make it writable), then go on with mfa-migrate resume 20261205T130000Z-aaaaaaaa --state-dir /s: what is journaled is true',
    );
    expect(new JournalWriteError('/s/runs/20261205T130000Z-bbbbbbbb', enospc, goOnWith('/s/runs/20261205T130000Z-bbbbbbbb', 'rollback')).message).toContain('then go on with mfa-migrate rollback 20261205T130000Z-bbbbbbbb --state-dir /s:');
  });
});
