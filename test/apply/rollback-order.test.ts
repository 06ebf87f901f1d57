import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, rollbackIn, tempDir } from '../helpers/migration.js';
import type { Snapshot } from '../helpers/tenant-checks.js';

/**
 * Runs are undone newest first (a black-box test of the cutover): rolling back a first wave under a
 * later run deleted the staged rollout policy and turned off the methods the later run's users were
 * switched to Entra with, exit 0 and no word of it.
 */
describe('rollback order', () => {
  const tmp = tempDir('rollback-order');
  afterAll(() => tmp.cleanup());
  const ROLLOUT = 'MFA Staged Rollout';

  it('a run with a later apply run still in effect is refused, naming it; --out-of-order rolls it back anyway; once the later run is rolled back, it goes ahead', async () => {
    const g = fakeGraph();
    const dir = join(tmp.dir, 'state');
    await planTo(g, join(tmp.dir, 'wave1.plan'), { group: 'MFA Migration Wave 1', rolloutGroups: [ROLLOUT] });
    const first = await applyFile(g, join(tmp.dir, 'wave1.plan'), dir);
    expect(first.outcome.state).toBe('completed');
    await planTo(g, join(tmp.dir, 'all.plan'), { rolloutGroups: [ROLLOUT] });
    const second = await applyFile(g, join(tmp.dir, 'all.plan'), dir);
    expect(second.outcome.state).toBe('completed');
    expect(second.outcome.counts.done).toBeGreaterThan(0);

    const before = JSON.stringify(g.emu.snapshot());
    g.emu.clearRequests();
    await expect(rollbackIn(g, dir, first.outcome.runId)).rejects.toThrow(
      new RegExp(`run ${first.outcome.runId} is not the newest run in effect on this tenant: apply run made after it is not rolled back: ${second.outcome.runId} \\(started .*, \\d+ operation\\(s\\) done\\)\\..*roll back newest first: mfa-migrate rollback ${second.outcome.runId} --state-dir .*; to roll back run ${first.outcome.runId} anyway, add --out-of-order`),
    );
    // Refused before anything was sent.
    expect(g.emu.requests().filter((r) => r.method !== 'GET')).toEqual([]);
    expect(JSON.stringify(g.emu.snapshot())).toBe(before);

    // Newest first: the later run, then the first.
    expect((await rollbackIn(g, dir, second.outcome.runId)).outcome.state).toBe('completed');
    expect((await rollbackIn(g, dir, first.outcome.runId)).outcome.state).toBe('completed');
    const s = g.emu.snapshot() as Snapshot;
    expect(s.featureRolloutPolicies).toHaveLength(0);
  });

  it('--out-of-order rolls a run back under a later one still in effect', async () => {
    const g = fakeGraph();
    const dir = join(tmp.dir, 'state-2');
    await planTo(g, join(tmp.dir, 'w1.plan'), { group: 'MFA Migration Wave 1' });
    const first = await applyFile(g, join(tmp.dir, 'w1.plan'), dir);
    await planTo(g, join(tmp.dir, 'rest.plan'));
    const second = await applyFile(g, join(tmp.dir, 'rest.plan'), dir);
    expect(second.outcome.counts.done).toBeGreaterThan(0);
    const back = await rollbackIn(g, dir, first.outcome.runId, { outOfOrder: true });
    expect(back.outcome.rollbackOf).toBe(first.outcome.runId);
    expect(back.outcome.counts.done).toBeGreaterThan(0);
  });
});
