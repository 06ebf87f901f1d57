import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApplyProgressEvent } from '../../src/apply/run-apply.js';
import { fakeGraph } from '../helpers/graph.js';
import { isActivationId } from '../../src/apply/operations.js';
import { readRun } from '../../src/apply/journal.js';
import { applyFile, planTo, resumeIn, tempDir } from '../helpers/migration.js';

/** A progress event as it was when reported (the stats object goes on changing). */
interface Seen {
  phase: ApplyProgressEvent['phase'];
  wave?: number;
  waves?: number;
  /** ms left of the wait for Graph's throttling, when the report said the run waits. */
  throttledLeft?: number;
}

/**
 * A black-box test at 20,000 users: the terminal bar showed "wave N/M" in the first frame of each wave
 * only, and while the run waited out a 429's Retry-After it only froze.
 */
describe('apply progress events', () => {
  const tmp = tempDir('apply-progress');
  afterAll(() => tmp.cleanup());

  it('name the wave in every report within it, and say until when the run waits out Graph throttling', async () => {
    // Graph's write window of 150 s becomes 3 s, holding 40 writes: the run meets the quota and waits.
    const g = fakeGraph({ throttle: 'L', timeScale: 50, throttleLimits: { appWrites: 40 }, latencyMs: 20 });
    const dir = join(tmp.dir, 'state');
    await planTo(g, `${dir}.plan`);
    const seen: Seen[] = [];
    const { outcome } = await applyFile(g, `${dir}.plan`, dir, {
      batchSize: 10,
      onProgress: (e) => {
        const left = e.stats.throttledUntil !== undefined ? e.stats.throttledUntil - Date.now() : undefined;
        seen.push({ phase: e.phase, ...(e.wave !== undefined ? { wave: e.wave, waves: e.waves } : {}), ...(left !== undefined ? { throttledLeft: left } : {}) });
      },
    });
    expect(outcome.state).toBe('completed');
    expect(outcome.stats.throttled).toBeGreaterThan(0);

    const firstWave = seen.findIndex((s) => s.phase === 'wave');
    const running = seen.slice(firstWave).filter((s) => s.phase === 'running');
    expect(running.length).toBeGreaterThan(0);
    // Each report within a wave names the wave last started.
    let wave: number | undefined;
    for (const s of seen.slice(firstWave)) {
      if (s.phase === 'wave') wave = s.wave;
      if (s.phase === 'running') expect(s).toMatchObject({ wave, waves: outcome.waves });
    }
    // While the pipeline waits for a Retry-After, the reports say until when; a wait that is over is not said.
    const waiting = seen.filter((s) => s.throttledLeft !== undefined);
    expect(waiting.length).toBeGreaterThan(0);
    for (const s of waiting) expect(s.throttledLeft).toBeGreaterThan(0);
    expect(seen.at(-1)).toMatchObject({ phase: 'done' });
    expect(seen.at(-1)!.throttledLeft).toBeUndefined();
  }, 90_000);

  it("carry the run's token activations left, all its waves, for the ETA's pace floor, in a resume too (a rehearsal's ETA ignored the pace)", async () => {
    const g = fakeGraph({});
    const dir = join(tmp.dir, 'pace');
    await planTo(g, `${dir}.plan`);
    const lefts: (number | undefined)[] = [];
    const first = await applyFile(g, `${dir}.plan`, dir, { batchSize: 2, waves: 1, onProgress: (e) => e.phase !== 'preflight' && lefts.push(e.stats.activationPace?.left) });
    expect(first.outcome.state).toBe('stopped');
    const view = await readRun(join(dir, 'runs', first.outcome.runId));
    const activations = view.header.activations!;
    expect(activations).toBeGreaterThan(0);
    const activationOps = [...view.ops.keys()].filter(isActivationId);
    // From the first report, every activation of the run; then fewer as they are done.
    expect(lefts[0]).toBe(activations);
    const doneFirst = activationOps.filter((id) => view.ops.get(id)!.state === 'done').length;
    expect(lefts.at(-1)).toBe(activations - doneFirst);
    expect(activations - doneFirst).toBeGreaterThan(0);
    // A resume starts from what is left.
    const resumed: (number | undefined)[] = [];
    const second = await resumeIn(g, dir, { onProgress: (e) => resumed.push(e.stats.activationPace?.left) });
    expect(second.outcome.state).toBe('completed');
    expect(resumed.find((x) => x !== undefined)).toBe(activations - doneFirst);
    expect(resumed.at(-1)).toBe(0);
  }, 90_000);
});
