import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApplyProgressEvent } from '../../src/apply/run-apply.js';
import { fakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, rollbackIn, tempDir } from '../helpers/migration.js';

/** What a rollback told of itself, in order: its progress, when its run record appeared. */
function recorder() {
  const seen: string[] = [];
  return {
    seen,
    onProgress: (e: ApplyProgressEvent) => seen.push(e.phase),
    onRun: () => seen.push('run record'),
  };
}

/** A black-box test at 20,000 users: a rollback of a run being rolled back took 10 s to be refused. */
describe('rollback progress before anything is sent', () => {
  const tmp = tempDir('rollback-progress');
  afterAll(() => tmp.cleanup());

  it('refuses a rollback of a run being rolled back already from the run list alone: no journal checked, no plan copy or tenant read, no Graph', async () => {
    const g = fakeGraph();
    const dir = join(tmp.dir, 'again');
    await planTo(g, `${dir}.plan`, { group: 'MFA Migration Wave 1' });
    const { outcome } = await applyFile(g, `${dir}.plan`, dir);
    const stop = new AbortController();
    stop.abort();
    const interrupted = await rollbackIn(g, dir, outcome.runId, { signal: stop.signal });
    expect(interrupted.outcome.state).toBe('interrupted');

    g.emu.clearRequests();
    const again = recorder();
    let connected = false;
    await expect(
      rollbackIn(g, dir, outcome.runId, {
        ...again,
        connect: () => {
          connected = true;
          return g.client();
        },
      }),
    ).rejects.toThrow(`run ${outcome.runId} is being rolled back by run ${interrupted.outcome.runId} (interrupted): finish that with mfa-migrate rollback ${interrupted.outcome.runId} --state-dir ${dir}`);
    expect(again.seen).toEqual([]);
    expect(connected).toBe(false);
    expect(g.emu.requests()).toEqual([]);
  }, 60_000);
});
