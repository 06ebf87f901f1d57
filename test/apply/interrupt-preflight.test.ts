import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InterruptedBeforeRunError } from '../../src/apply/run-apply.js';
import { applyFile, runDirs, tempDir, planOfUntouched } from '../helpers/migration.js';
import { writes } from '../helpers/tenant-checks.js';

/** Found by a review: an interrupt during the pre-flight left an empty "interrupted" run behind. */
describe('an interrupt before the run starts', () => {
  const tmp = tempDir('interrupt-preflight');
  afterAll(() => tmp.cleanup());

  it('ends the apply with exit 130 and no run, writes nothing, and leaves the state folder free for the next apply', async () => {
    const planFile = join(tmp.dir, 'p.plan');
    const { g } = await planOfUntouched(planFile);
    g.emu.clearRequests();
    const stateDir = join(tmp.dir, 'state');
    const interrupted = new AbortController();
    interrupted.abort();
    const err = await applyFile(g, planFile, stateDir, { signal: interrupted.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InterruptedBeforeRunError);
    expect((err as InterruptedBeforeRunError).exitCode).toBe(130);
    expect(existsSync(join(stateDir, 'runs')) ? runDirs(stateDir) : []).toEqual([]);
    expect(writes(g.emu.requests())).toEqual([]);

    const applied = await applyFile(g, planFile, stateDir);
    expect(applied.outcome.state).toBe('completed');
    expect(runDirs(stateDir)).toHaveLength(1);
  });
});
