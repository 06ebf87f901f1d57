import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { planVia, spawnCli } from '../helpers/e2e.js';
import { journalLines, runDirs, tempDir } from '../helpers/migration.js';
import { runMain } from '../helpers/run-main.js';
import { expectNoDuplicateCreates, expectPlanApplied, normalizeState, type PlanDoc, type Snapshot } from '../helpers/tenant-checks.js';

const SLOW = process.env.MFA_SLOW_TESTS === '1';
const TRIALS = SLOW ? 10 : 2;

/**
 * apply killed with SIGKILL at a random moment, then finished by `resume` (or, when it died before
 * its journal existed, by applying again): the tenant ends exactly as after an uninterrupted run, and
 * nothing is created twice. The emulator lives in this process, so it outlives every killed apply.
 */
describe(`apply killed with SIGKILL at random moments, then resumed (${TRIALS} trials)`, () => {
  let emu: RunningEmulator;
  let tmp: ReturnType<typeof tempDir>;
  let planFile: string;
  let plan: PlanDoc;
  let reference: Snapshot;
  /** In the uninterrupted run, ms from process start to the first operation journaled, and to the end. */
  let writesFrom: number;
  let writesTo: number;
  // Small waves, one batch at a time and some latency: many batches and journal writes to be killed in the middle of.
  const applyArgs = (stateDir: string) => ['apply', planFile, '--graph-url', emu.url, '--state-dir', stateDir, '--batch-size', '3', '--concurrency', '1'];

  beforeAll(async () => {
    tmp = tempDir('kill');
    emu = await startEmulator({ port: 0, throttle: 'off', latencyMs: 25 });
    planFile = join(tmp.dir, 'contoso.plan');
    // Planned in process: the killed apply is the process that matters (a CLI's plan cost 0.5 s of CPU).
    plan = await planVia(runMain, emu.url, planFile);
    const stateDir = join(tmp.dir, 'reference');
    const t0 = Date.now();
    const r = await runCli(applyArgs(stateDir));
    expect(r.code, r.stderr).toBe(0);
    const lines = journalLines(runDirs(stateDir)[0]!);
    writesFrom = Date.parse(lines.find((l) => l.t === 'ops' && l.ops.some((o: { state: string }) => o.state === 'started')).at) - t0;
    writesTo = Date.parse(lines.at(-1).at) - t0;
    reference = emu.snapshot();
    expectPlanApplied(plan, reference);
  }, 120_000);

  afterAll(async () => {
    await emu?.stop();
    tmp?.cleanup();
  });

  /**
   * Finishes what the killed apply left: resume its run, or apply again if it died before starting
   * one. In process (what the killed process left on disk is the point, not a second process).
   */
  async function finish(stateDir: string): Promise<{ how: string; result: CliResult }> {
    const runsDir = join(stateDir, 'runs');
    const started = existsSync(runsDir) && readdirSync(runsDir).some((id) => existsSync(join(runsDir, id, 'journal.jsonl')));
    const resumed = await runMain(['resume', '--graph-url', emu.url, '--state-dir', stateDir]);
    if (resumed.code === 1 && /no unfinished apply run/.test(resumed.stderr)) {
      const runs = JSON.parse((await runMain(['runs', '--state-dir', stateDir, '--format', 'json'])).stdout) as { state: string }[];
      if (runs.some((r) => r.state === 'completed')) return { how: 'had completed', result: resumed };
      expect(started && runs.length > 0, 'a journal with a run header that resume does not see').toBe(false);
      return { how: 'applied again', result: await runMain(applyArgs(stateDir)) };
    }
    return { how: 'resumed', result: resumed };
  }

  for (let trial = 1; trial <= TRIALS; trial++) {
    it(`trial ${trial}: same final state as an uninterrupted run, no duplicate create`, async () => {
      emu.reset();
      const stateDir = join(tmp.dir, `trial-${trial}`);
      const { child, exit } = spawnCli(applyArgs(stateDir));
      // Mostly while operations are being written; every fifth trial anywhere from start-up on
      // (killed before the journal exists: the next apply starts afresh and takes over the lock).
      const from = trial % 5 === 0 ? 50 : writesFrom;
      const delay = Math.round(from + Math.random() * (writesTo - from));
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      const killed = await exit;
      const { how, result } = await finish(stateDir);
      const context = `trial ${trial}: killed after ${delay} ms (exit ${killed.code}), then ${how}: ${result.stdout}${result.stderr}`;
      if (how !== 'had completed') expect(result.code, context).toBe(0);
      const state: Snapshot = emu.snapshot();
      expect(normalizeState(state), context).toEqual(normalizeState(reference));
      expectNoDuplicateCreates(emu.requests(), state);
      // The journal is still readable and says the run completed.
      const runs = JSON.parse((await runMain(['runs', '--state-dir', stateDir, '--format', 'json'])).stdout) as { state: string }[];
      expect(runs.map((r) => r.state), context).toContain('completed');
      expect(runs.filter((r) => r.state !== 'completed'), context).toEqual([]);
    }, 120_000);
  }
});
