import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { splitHash } from '../../src/apply/journal.js';
import { runMain } from '../helpers/run-main.js';
import { runDirs, tempDir } from '../helpers/migration.js';
import { CONTOSO, runPlan } from '../plan/helpers.js';

/** `apply` prints the journal's final hash; `runs verify` checks the chain (exit 0), an edit (1), a journal before the chain (2). */
describe('mfa-migrate runs verify', () => {
  let emu: RunningEmulator;
  let tmp: ReturnType<typeof tempDir>;
  let stateDir: string;
  let runId: string;
  let applied: Awaited<ReturnType<typeof runMain>>;

  beforeAll(async () => {
    emu = await startEmulator({ port: 0, throttle: 'off' });
    tmp = tempDir('verify');
    stateDir = join(tmp.dir, 'state');
    const planFile = join(tmp.dir, 'contoso.plan');
    const planned = await runPlan(emu.url, [...CONTOSO, '--out', planFile]);
    expect(planned.code, planned.stderr).toBe(0);
    applied = await runMain(['apply', planFile, '--state-dir', stateDir, '--graph-url', emu.url]);
    expect(applied.code, applied.stderr).toBe(0);
    runId = runDirs(stateDir)[0]!.split('/').at(-1)!;
  }, 60_000);
  afterAll(async () => {
    await emu?.stop();
    tmp?.cleanup();
  });

  it('apply prints the final hash, and verify finds the same one', async () => {
    const printed = /journal hash ([0-9a-f]{64})/.exec(applied.stdout)?.[1];
    expect(printed).toBeDefined();
    const r = await runMain(['runs', 'verify', runId, '--state-dir', stateDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Run ${runId}: journal verified`);
    expect(r.stdout).toContain(`Final hash ${printed}`);
  });

  it('exits 1 naming the first bad line after an edit, and 2 for a journal before the chain', async () => {
    const path = join(stateDir, 'runs', runId, 'journal.jsonl');
    const original = readFileSync(path, 'utf8');
    try {
      const lines = original.split('\n');
      const at = lines.findIndex((l) => l.includes('"state":"done"'));
      expect(at).toBeGreaterThan(0);
      lines[at] = lines[at]!.replace('"state":"done"', '"state":"dona"');
      writeFileSync(path, lines.join('\n'));
      const edited = await runMain(['runs', 'verify', runId, '--state-dir', stateDir]);
      expect(edited.code).toBe(1);
      expect(edited.stderr).toMatch(/the journal was changed after it was written: line \d+ of .*journal\.jsonl: its hash does not match/);
      expect(edited.stderr).toContain(`line ${at + 1} of`);
      // `runs` says so too (an auditor's black-box test saw an edited run listed as a normal one).
      const listed = JSON.parse((await runMain(['runs', '--state-dir', stateDir, '--format', 'json'])).stdout) as { id: string; problem?: string }[];
      expect(listed.find((r) => r.id === runId)?.problem).toBe(`edited journal: line ${at + 1}: its hash does not match its content and the line before it`);
      writeFileSync(path, `${original.trimEnd().split('\n').map((l) => splitHash(l)!.body).join('\n')}\n`);
      const legacy = await runMain(['runs', 'verify', runId, '--state-dir', stateDir]);
      expect(legacy.code).toBe(2);
      expect(legacy.stderr).toMatch(/unverifiable: the journal was written before journals carried a hash chain/);
      writeFileSync(path, original);
      // An edit to the plan copy is named as such, not blamed on the journal.
      const copy = join(stateDir, 'runs', runId, 'plan.jsonl');
      const plan = readFileSync(copy);
      try {
        writeFileSync(copy, Buffer.concat([plan, Buffer.from(' ')]));
        const copyEdited = await runMain(['runs', 'verify', runId, '--state-dir', stateDir]);
        expect(copyEdited.code).toBe(1);
        expect(copyEdited.stderr).toMatch(/the run's plan copy \(plan\.jsonl\) is not the plan the journal records .*: it was changed after the run \(its journal, .* is not in question\)/);
        // A copy that cannot be read is said so, not called changed; `runs` lists it with that problem.
        rmSync(copy);
        const gone = await runMain(['runs', 'verify', runId, '--state-dir', stateDir]);
        expect(gone.stderr).toMatch(/the run's plan copy \(plan\.jsonl\) cannot be read \(its journal, .* is whole\)/);
        const listed = JSON.parse((await runMain(['runs', '--state-dir', stateDir, '--format', 'json'])).stdout) as { id: string; problem?: string }[];
        expect(listed.find((r) => r.id === runId)?.problem).toBe("the run's plan copy (plan.jsonl) cannot be read");
      } finally {
        writeFileSync(copy, plan);
      }
      const missing = await runMain(['runs', 'verify', 'nope', '--state-dir', stateDir]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/no run nope/);
    } finally {
      writeFileSync(path, original);
    }
  });
});
