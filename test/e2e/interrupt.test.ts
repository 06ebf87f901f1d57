import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { planVia, spawnCli } from '../helpers/e2e.js';
import { tempDir } from '../helpers/migration.js';
import { runMain } from '../helpers/run-main.js';
import { expectNoDuplicateCreates, expectPlanApplied, parseCsv, type PlanDoc } from '../helpers/tenant-checks.js';

/** Ctrl-C (and SIGTERM) during apply, as an admin does it: a real process, a real signal. */
describe('apply interrupted by a signal', () => {
  let emu: RunningEmulator;
  let tmp: ReturnType<typeof tempDir>;
  let planFile: string;
  let plan: PlanDoc;

  beforeAll(async () => {
    tmp = tempDir('sigint');
    // Slow answers: the run is still writing when the signal comes.
    emu = await startEmulator({ port: 0, throttle: 'off', latencyMs: 30 });
    planFile = join(tmp.dir, 'contoso.plan');
    // Planned and resumed in process: the signalled apply is the process that matters.
    plan = await planVia(runMain, emu.url, planFile);
  }, 60_000);

  afterAll(async () => {
    await emu?.stop();
    tmp?.cleanup();
  });

  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${signal}: stops sending, journals what was in flight, writes the results, releases the lock, says how to resume; exit ${code}; resume finishes`, async () => {
      emu.reset();
      const stateDir = join(tmp.dir, signal);
      const results = join(tmp.dir, `${signal}.csv`);
      const { child, exit } = spawnCli(['apply', planFile, '--state-dir', stateDir, '--batch-size', '3', '--concurrency', '1', '--results', results]);
      const runsDir = join(stateDir, 'runs');
      // The run's folder, not the hidden one it is made under and renamed from (it may be gone between two reads).
      const journal = () => (existsSync(runsDir) ? readdirSync(runsDir).filter((id) => !id.startsWith('.')).map((id) => join(runsDir, id, 'journal.jsonl')).find(existsSync) : undefined);
      let r;
      try {
        for (let i = 0; i < 400; i++) {
          const j = journal();
          const text = j === undefined ? '' : readFileSync(j, 'utf8');
          if (text.includes('"state":"done"') && text.includes('"wave":2')) break;
          await new Promise((res) => setTimeout(res, 20));
        }
        child.kill(signal);
        r = await exit;
      } finally {
        // A failure above must not leave this apply writing to the emulator the next case resets.
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      expect(r.code, r.stderr).toBe(code);
      const runId = /Run (\S+): interrupted\./.exec(r.stdout)?.[1];
      expect(runId, r.stdout).toBeDefined();
      expect(r.stdout).toContain(`Resume with: mfa-migrate resume ${runId} --state-dir ${stateDir}`);
      expect(r.stderr).toMatch(new RegExp(`${signal}: sending nothing more`));
      expect(existsSync(join(stateDir, 'lock'))).toBe(false);
      const rows = parseCsv(readFileSync(results, 'utf8'));
      expect(rows.map((x) => x.user).sort()).toEqual([...new Set((plan as unknown as { users: { user: string }[] }).users.map((u) => u.user))].sort());
      expect(rows.filter((x) => x.outcome === 'done').length).toBeGreaterThan(0);
      expect(rows.filter((x) => x.outcome === 'not-started').length).toBeGreaterThan(0);
      // Nothing was left `started`: the batches in flight were answered and journaled.
      const lines = readFileSync(journal()!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t: string; ops?: { op: string; state: string }[] });
      const last = new Map<string, string>();
      for (const l of lines) for (const o of l.ops ?? []) last.set(o.op, o.state);
      expect([...last.values()].filter((s) => s === 'started')).toEqual([]);
      expect(lines.some((l) => l.t === 'end')).toBe(false);
      // Progress without a terminal: a line per wave, its counts never going backwards, its total the whole run's.
      const frames = [...r.stderr.matchAll(/apply: wave \d+\/\d+: (\d+)\/(\d+) operations/g)].map((m) => [Number(m[1]), Number(m[2])]);
      expect(frames.length).toBeGreaterThan(1);
      expect(new Set(frames.map(([, t]) => t)).size).toBe(1);
      for (let i = 1; i < frames.length; i++) expect(frames[i]![0]).toBeGreaterThanOrEqual(frames[i - 1]![0]!);
      // Its users count those the run got to, never the waves not sent (it said all of them before).
      const userFrames = [...r.stderr.matchAll(/users (\d+)\/(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
      const started = rows.filter((x) => x.outcome !== 'not-started' && x.outcome !== 'unchanged' && x.outcome !== 'not-in-tenant' && x.outcome !== 'disabled').length;
      expect(userFrames.at(-1)![0]).toBeLessThan(userFrames.at(-1)![1]);
      expect(userFrames.at(-1)![0]).toBeLessThanOrEqual(started);

      const resumed = await runMain(['resume', '--state-dir', stateDir]);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stdout).toContain(`Run ${runId}: completed`);
      expectPlanApplied(plan, emu.snapshot());
      expectNoDuplicateCreates(emu.requests(), emu.snapshot());
    }, 60_000);
  }
});
