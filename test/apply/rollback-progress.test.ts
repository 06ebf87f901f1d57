import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApplyProgressEvent } from '../../src/apply/run-apply.js';
import { applyFile, rollbackIn, tempDir, planOfUntouched } from '../helpers/migration.js';

/** What a rollback told of itself, in order: its read steps (what, n of N), when its run record appeared, its operations. */
function recorder() {
  const seen: string[] = [];
  return {
    seen,
    onProgress: (e: ApplyProgressEvent) => seen.push(e.phase === 'reading' ? `reading ${e.reading!.what} ${e.reading!.done}/${e.reading!.total}` : e.phase),
    onRun: () => seen.push('run record'),
  };
}

/** The read steps told, each once, in order (the counts of each step dropped). */
const steps = (seen: readonly string[]) => [...new Set(seen.filter((s) => s.startsWith('reading')).map((s) => s.replace(/ \d+\/\d+$/, '')))];
/** The read steps told before the run record. */
const stepsBeforeRun = (seen: readonly string[]) => steps(seen.slice(0, seen.indexOf('run record')));

/**
 * A black-box test at 20,000 users: rollback was silent for 22-38 s while it read the run and the
 * tenant before its run record appeared, and finishing an interrupted one 29 s.
 */
describe('rollback progress before anything is sent', () => {
  const tmp = tempDir('rollback-progress');
  afterAll(() => tmp.cleanup());

  it('tells each read step (the journals, the hash chain, the plan copy, the tenant: n of N) before the run record, and again when an interrupted rollback is finished', async () => {
    const dir = join(tmp.dir, 'state');
    const { g } = await planOfUntouched(`${dir}.plan`);
    const { outcome } = await applyFile(g, `${dir}.plan`, dir);
    expect(outcome.state).toBe('completed');

    const started = recorder();
    const stop = new AbortController();
    stop.abort();
    const interrupted = await rollbackIn(g, dir, outcome.runId, { signal: stop.signal, onProgress: started.onProgress, onRun: started.onRun });
    expect(interrupted.outcome.state).toBe('interrupted');
    expect(stepsBeforeRun(started.seen)).toEqual([
      `reading reading the journals of the state folder (run ${outcome.runId}'s and the others')`,
      `reading checking the hash chain of run ${outcome.runId}'s journal`,
      "reading rebuilding the run's operations from its plan copy: users",
      'reading reading the methods of the users the undos change (Graph)',
    ]);
    // The counted steps end with all of theirs read.
    const users = outcome.userCounts.done;
    expect(started.seen).toContain(`reading rebuilding the run's operations from its plan copy: users ${users}/${users}`);
    expect(started.seen.filter((s) => s.startsWith('reading reading the methods')).at(-1)).toMatch(/ (\d+)\/\1$/);
    // Nothing read is told once the run record is there.
    expect(started.seen.slice(started.seen.indexOf('run record')).some((s) => s.startsWith('reading'))).toBe(false);

    const finished = recorder();
    const done = await rollbackIn(g, dir, interrupted.outcome.runId, { onProgress: finished.onProgress, onRun: finished.onRun });
    expect(done.outcome.state).toBe('completed');
    // Finishing names its run at once (an interrupt names it), before the reads: told all the same.
    expect(steps(finished.seen)).toEqual([
      `reading reading the journals of the state folder (run ${outcome.runId}'s and the others')`,
      `reading checking the hash chains of the journals of rollback ${interrupted.outcome.runId} and run ${outcome.runId}`,
      "reading rebuilding the run's operations from its plan copy: users",
      'reading reading the methods of the users the undos change (Graph)',
    ]);
    expect(finished.seen.filter((s) => s.startsWith('reading reading the methods')).at(-1)).toMatch(/ (\d+)\/\1$/);
    expect(finished.seen.at(-1)).toBe('done');
  }, 60_000);

  it('refuses a rollback of a run being rolled back already from the run list alone: no journal checked, no plan copy or tenant read, no Graph', async () => {
    const dir = join(tmp.dir, 'again');
    const { g } = await planOfUntouched(`${dir}.plan`, { group: 'MFA Migration Wave 1' });
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
