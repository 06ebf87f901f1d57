import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApplyProgressEvent } from '../../src/apply/run-apply.js';
import { fakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, tempDir } from '../helpers/migration.js';

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
});
