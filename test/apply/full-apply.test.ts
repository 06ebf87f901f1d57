import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import {
  CONTOSO,
  CONTOSO_SEED_ARGS,
  contosoSecretForms,
  expectNoDuplicateCreates,
  expectPlanApplied,
  journalLines,
  parseCsv,
  planTo,
  readPlan,
  runDirs,
  tempDir,
  type PlanDoc,
  type Snapshot,
} from './helpers.js';

/** The sample export with every token file, applied end to end over real HTTP, as an admin runs it. */
describe('apply: the Contoso sample export', () => {
  let emu: RunningEmulator;
  let tmp: ReturnType<typeof tempDir>;
  let planFile: string;
  let plan: PlanDoc;
  let before: Snapshot;
  let applied: CliResult;
  let stateDir: string;
  let resultsFile: string;

  beforeAll(async () => {
    tmp = tempDir('full');
    emu = await startEmulator({ port: 0, throttle: 'off' });
    planFile = join(tmp.dir, 'contoso.plan');
    await planTo(emu.url, planFile);
    plan = readPlan(planFile);
    before = emu.snapshot();
    stateDir = join(tmp.dir, 'state');
    resultsFile = join(tmp.dir, 'results.csv');
    applied = await runCli(['apply', planFile, '--graph-url', emu.url, '--state-dir', stateDir, '--results', resultsFile]);
  }, 60_000);

  afterAll(async () => {
    await emu?.stop();
    tmp?.cleanup();
  });

  it('the plan has work of every kind to do (so the checks below can fail)', () => {
    const kinds = new Set(plan.user_changes.filter((c) => c.action !== 'no-op').map((c) => `${c.action} ${c.resource.split('/')[0]}`));
    for (const k of ['create phoneMethods', 'update phoneMethods', 'create hardwareOathMethods', 'update signInPreferences']) expect(kinds).toContain(k);
    expect(plan.policy_changes.length).toBeGreaterThan(0);
    expect(() => expectPlanApplied(plan, before)).toThrow();
  });

  it('exits 0 with a summary', () => {
    expect(applied.stderr).not.toMatch(/error/i);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/Run \S+: completed\./);
    expect(applied.stdout).toMatch(/operations: \d+ done, 0 failed, 0 skipped, 0 pending/);
  });

  it('sends only batches Graph accepts: every envelope answered 200, no item carrying dependsOn', () => {
    const batches = emu.requests().filter((r) => r.path.endsWith('/$batch'));
    expect(batches.length).toBeGreaterThan(0);
    for (const b of batches) {
      expect(b.status).toBe(200);
      expect(b.items!.length).toBeGreaterThan(0);
      for (const item of b.items!) expect(item.dependsOn).toBeUndefined();
    }
  });

  it('leaves the tenant in the state the plan promised, each token created once and activated with its planned seed', () => {
    const after: Snapshot = emu.snapshot();
    expectPlanApplied(plan, after);
    expectNoDuplicateCreates(emu.requests(), after);
    // Users the plan leaves alone are untouched (sybil is not in the tenant; rupert and ravi are disabled in MFA Server).
    const planned = new Set(plan.user_changes.filter((c) => c.action !== 'no-op').map((c) => c.user_id));
    for (const u of before.users.filter((x: Snapshot) => !planned.has(x.id))) {
      expect(after.users.find((x: Snapshot) => x.id === u.id), u.userPrincipalName).toEqual(u);
    }
  });

  it('sends every write through $batch, and a second plan shows no changes', async () => {
    const direct = emu.requests().filter((e) => e.method !== 'GET' && !e.path.includes('$batch'));
    expect(direct).toEqual([]);
    const again = await runCli(['plan', '--source', CONTOSO, ...CONTOSO_SEED_ARGS, '--graph-url', emu.url, '--format', 'json', '--detailed-exitcode']);
    expect(again.stderr).not.toMatch(/^error/m);
    expect(again.code).toBe(0);
    const p2 = JSON.parse(again.stdout) as { summary: { create: number; update: number; delete: number } };
    expect(p2.summary).toMatchObject({ create: 0, update: 0, delete: 0 });
  });

  it('writes one results row per user: upn, outcome, operations, error', () => {
    const rows = parseCsv(readFileSync(resultsFile, 'utf8'));
    const users = new Set(plan.user_changes.filter((c) => c.action !== 'no-op').map((c) => c.user));
    expect(rows.map((r) => r.upn).sort()).toEqual([...users].sort());
    expect(Object.keys(rows[0]!)).toEqual(['upn', 'outcome', 'operations', 'error']);
    for (const r of rows) {
      expect(r.outcome, r.upn).toBe('done');
      expect(r.error).toBe('');
      const [done, total] = r.operations!.split('/').map(Number);
      expect(done).toBe(total);
      expect(total).toBeGreaterThan(0);
    }
    const grace = rows.find((r) => r.upn === 'grace@contoso.com')!;
    // mobile, token create (assigned), token activate, default method
    expect(grace.operations).toBe('4/4');
    expect(statSync(resultsFile).mode & 0o777).toBe(0o600);
  });

  it('journals the run: plan hash, every operation done with its state before, files 0600', () => {
    const [runDir] = runDirs(stateDir);
    const lines = journalLines(runDir!);
    const header = lines[0];
    expect(header).toMatchObject({ t: 'run', kind: 'apply' });
    expect(header.planHash).toBe(createHash('sha256').update(readFileSync(planFile)).digest('hex'));
    const state = new Map<string, string>();
    const started = new Map<string, unknown>();
    for (const l of lines.filter((x) => x.t === 'ops')) {
      for (const o of l.ops) {
        state.set(o.op, o.state);
        if (o.state === 'started') started.set(o.op, o.before);
      }
    }
    expect(state.size).toBe(header.totalOps);
    expect([...state.values()].every((s) => s === 'done')).toBe(true);
    // Every operation was recorded as started, with the tenant state before, before it was sent.
    expect(started.size).toBe(header.totalOps);
    const igor = plan.user_changes.find((c) => c.user === 'igor@contoso.com' && c.resource === 'phoneMethods/mobile')!;
    expect(started.get(`${igor.user_id}/phoneMethods/mobile`)).toEqual(igor.before);
    expect(lines.at(-1)).toMatchObject({ t: 'end', state: 'completed' });
    expect(statSync(join(runDir!, 'journal.jsonl')).mode & 0o777).toBe(0o600);
    expect(statSync(join(runDir!, 'plan.json')).mode & 0o777).toBe(0o600);
    expect(statSync(runDir!).mode & 0o777).toBe(0o700);
  });

  it('writes no seed anywhere: journal, plan copy, results, output', async () => {
    const [runDir] = runDirs(stateDir);
    const texts = {
      journal: readFileSync(join(runDir!, 'journal.jsonl'), 'utf8'),
      planCopy: readFileSync(join(runDir!, 'plan.json'), 'utf8'),
      results: readFileSync(resultsFile, 'utf8'),
      output: applied.stdout + applied.stderr,
    };
    const secrets = await contosoSecretForms();
    expect(secrets.length).toBeGreaterThanOrEqual(10);
    for (const { serial, forms } of secrets) {
      for (const [name, text] of Object.entries(texts)) {
        for (const f of forms) expect(text.includes(f), `seed of ${serial} in ${name}`).toBe(false);
      }
    }
    expect(texts.journal).not.toMatch(/secretKey|verificationCode/);
  });

  it('lists the run with `runs --format json`', async () => {
    const r = await runCli(['runs', '--state-dir', stateDir, '--format', 'json']);
    expect(r.code).toBe(0);
    const runs = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(runs).toHaveLength(1);
    const [run] = runs;
    expect(run).toMatchObject({ state: 'completed', id: expect.any(String), started: expect.any(String), finished: expect.any(String) });
    expect(Date.parse(run!.started as string)).toBeLessThanOrEqual(Date.parse(run!.finished as string));
    const counts = run!.counts as Record<string, number>;
    expect(counts.failed).toBe(0);
    expect(counts.pending).toBe(0);
    expect(counts.done).toBe(journalLines(runDirs(stateDir)[0]!)[0].totalOps);
  });
});
