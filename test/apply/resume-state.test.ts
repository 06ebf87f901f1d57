import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Journal, listRuns, readRun, readRunHeader } from '../../src/apply/journal.js';
import { operationsOfRun } from '../../src/app/runs.js';
import { applyFile, runDirs, tempDir, planOfUntouched } from '../helpers/migration.js';

/**
 * Found by a black-box tester: a run stopped by --waves, then resumed and killed during that resume,
 * was listed as `stopped` with the first pass's finish time, which hid that the resume crashed.
 */
describe('where a run stands once a resume of it began', () => {
  const tmp = tempDir('resume-state');
  afterAll(() => tmp.cleanup());

  it('the end record of an earlier pass no longer says it: interrupted (or running), not stopped', async () => {
    const planFile = join(tmp.dir, 'p.plan');
    const { g } = await planOfUntouched(planFile);
    const stateDir = join(tmp.dir, 'state');
    const first = await applyFile(g, planFile, stateDir, { batchSize: 10, waves: 1 });
    expect(first.outcome.state).toBe('stopped');
    const runDir = runDirs(stateDir)[0]!;
    expect((await listRuns(stateDir))[0]).toMatchObject({ state: 'stopped', finished: expect.any(String) });

    // A resume that wrote its record and was then killed (no end of its own).
    const j = await Journal.append(runDir);
    await j.resumed({ appId: 'a', upn: 'admin@contoso.com' }, {});
    await j.close();
    expect((await readRun(runDir)).end).toBeUndefined();
    expect((await listRuns(stateDir))[0]).toMatchObject({ state: 'interrupted', finished: null });
    expect((await listRuns(stateDir, () => true))[0]).toMatchObject({ state: 'running' });

    // Sizing a resume or rollback reads each journal's header line only.
    const header = await readRunHeader(runDir);
    expect(header).toMatchObject({ t: 'run', kind: 'apply', totalOps: first.outcome.counts.done + first.outcome.counts.pending });
    expect(await operationsOfRun(undefined, stateDir)).toBe(header!.totalOps);
    expect(await operationsOfRun('20990101T000000Z-00000000', stateDir)).toBe(0);
  });
});
