import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Applied } from '../../src/app/apply.js';
import { allRuns } from '../../src/app/runs.js';
import type { Plan } from '../../src/plan/plan-model.js';
import { renderResultsCsv, resultsRun } from '../../src/cli/views/results-csv.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, journalLines, planTo, runDirs, tempDir } from '../helpers/migration.js';
import { contosoSecretForms, expectNoDuplicateCreates, expectPlanApplied, parseCsv, type Snapshot } from '../helpers/tenant-checks.js';

/** The sample export with every token file, planned and applied in process against the fake Graph. */
describe('apply: the Contoso sample export', () => {
  let g: FakeGraph;
  let tmp: ReturnType<typeof tempDir>;
  let planFile: string;
  let plan: Plan;
  let before: Snapshot;
  let applied: Applied;
  let stateDir: string;

  beforeAll(async () => {
    tmp = tempDir('full');
    g = fakeGraph();
    planFile = join(tmp.dir, 'contoso.plan');
    ({ plan } = await planTo(g, planFile));
    before = g.emu.snapshot();
    stateDir = join(tmp.dir, 'state');
    g.emu.clearRequests();
    applied = await applyFile(g, planFile, stateDir);
  }, 60_000);

  afterAll(() => tmp?.cleanup());

  it('the plan has work of every kind to do (so the checks below can fail)', () => {
    const kinds = new Set(plan.user_changes.filter((c) => c.action !== 'no-op').map((c) => `${c.action} ${c.resource.split('/')[0]}`));
    for (const k of ['create phoneMethods', 'update phoneMethods', 'create hardwareOathMethods', 'update signInPreferences']) expect(kinds).toContain(k);
    expect(plan.policy_changes.length).toBeGreaterThan(0);
    expect(() => expectPlanApplied(plan, before)).toThrow();
  });

  it('completes, every operation done', () => {
    expect(applied.outcome.state).toBe('completed');
    expect(applied.outcome.counts).toMatchObject({ failed: 0, skipped: 0, pending: 0 });
    expect(applied.outcome.counts.done).toBe(applied.outcome.stats.total);
    expect(applied.outcome.tenant).toEqual({ id: plan.tenant.id, displayName: plan.tenant.displayName });
  });

  it('sends only batches Graph accepts: every envelope answered 200, no item carrying dependsOn; every write batched', () => {
    const batches = g.emu.requests().filter((r) => r.path.endsWith('/$batch'));
    expect(batches.length).toBeGreaterThan(0);
    for (const b of batches) {
      expect(b.status).toBe(200);
      for (const item of b.items!) expect(item.dependsOn).toBeUndefined();
    }
    expect(g.emu.requests().filter((e) => e.method !== 'GET' && !e.path.includes('$batch'))).toEqual([]);
  });

  it('saves the parts of the authentication methods policy one at a time, never two in one batch (how Graph takes concurrent saves of one policy is not documented)', () => {
    const batches = g.emu.requests().filter((r) => r.path.endsWith('/$batch'));
    const policyWrites = batches.map((b) => b.items!.filter((i) => i.method !== 'GET' && i.path.includes('/policies/authenticationMethodsPolicy')).length);
    expect(policyWrites.reduce((a, b) => a + b, 0)).toBeGreaterThan(2);
    expect(Math.max(...policyWrites)).toBe(1);
  });

  it('writes phones, email and method configurations other than HardwareOath on v1.0, the rest on beta', () => {
    const writes = g.emu.requests().flatMap((e) => e.items ?? []).filter((i) => i.method !== 'GET');
    for (const w of writes) {
      // The registration campaign goes whole: on beta when it holds a property only beta has.
      const beta = /hardwareOath|signInPreferences|reportSuspiciousActivity|enforceRegistrationAfterAllowedSnoozes/i.test(`${w.path} ${JSON.stringify(w.body ?? '')}`);
      expect(w.path.startsWith(beta ? '/beta/' : '/v1.0/'), `${w.method} ${w.path}`).toBe(true);
    }
    expect(writes.some((w) => w.path.startsWith('/v1.0/') && w.path.includes('/phoneMethods'))).toBe(true);
  });

  it('leaves the tenant in the state the plan promised, each token created once and activated with its planned seed', () => {
    const after: Snapshot = g.emu.snapshot();
    expectPlanApplied(plan, after);
    expectNoDuplicateCreates(g.emu.requests(), after);
    // Users the plan leaves alone are untouched.
    const planned = new Set(plan.user_changes.filter((c) => c.action !== 'no-op').map((c) => c.user_id));
    for (const u of before.users.filter((x: Snapshot) => !planned.has(x.id))) {
      expect(after.users.find((x: Snapshot) => x.id === u.id), u.userPrincipalName).toEqual(u);
    }
  });

  it('the same plan applied again is refused, naming the run that applied it (a new admin read only "the plan is stale: 126 object(s) changed")', async () => {
    await expect(applyFile(g, planFile, stateDir)).rejects.toThrow(new RegExp(`^this plan was applied already \\(run ${applied.outcome.runId}\\): .*make a new plan for what is left \\(mfa-migrate runs shows how that run ended\\)\\. The plan is stale: \\d+ object`, 's'));
  });

  it('a second plan shows no changes', async () => {
    const { plan: again } = await planTo(g, join(tmp.dir, 'again.plan'));
    expect(again.summary).toMatchObject({ create: 0, update: 0, delete: 0 });
  });

  it('has one result row per user in scope, with outcomes for those left alone too', () => {
    const rows = parseCsv(renderResultsCsv(applied.results, resultsRun(applied.outcome)));
    expect(Object.keys(rows[0]!)).toEqual(['user', 'outcome', 'done', 'failed', 'skipped', 'first_error', 'run_id', 'plan_hash', 'final_hash', 'stale_reason']);
    // Each row ties to the run: its id, the plan hash its journal records, the final hash it printed.
    const sha = createHash('sha256').update(readFileSync(planFile)).digest('hex');
    for (const r of rows) expect([r.run_id, r.plan_hash, r.final_hash], r.user).toEqual([applied.outcome.runId, sha, applied.outcome.journalHash]);
    expect(rows.map((r) => r.user).sort()).toEqual(plan.users.map((u) => u.user).sort());
    const changed = new Set(plan.users.filter((u) => u.status === 'changes').map((u) => u.user));
    for (const r of rows) {
      if (changed.has(r.user!)) expect(r.outcome, r.user).toBe('done');
      else expect(['unchanged', 'not-in-tenant', 'disabled'], r.user).toContain(r.outcome);
    }
    expect(rows.find((r) => r.user === 'sybil@contoso.com')?.outcome).toBe('not-in-tenant');
    // mobile, the token assigned and activated in one write (created by its wave's bulk create), default method
    expect(rows.find((r) => r.user === 'grace@contoso.com')).toMatchObject({ outcome: 'done', done: '3', failed: '0' });
  });

  it('journals the run: tenant, Graph, plan hash, every operation done with its state before, files 0600', () => {
    const [runDir] = runDirs(stateDir);
    const lines = journalLines(runDir!);
    const header = lines[0];
    expect(header).toMatchObject({ t: 'run', kind: 'apply', graph: g.emu.url, tenant: { id: plan.tenant.id, displayName: 'Contoso' }, planFile: 'plan.jsonl' });
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
    // A bulk token create journals which serials the inventory held before it (a read-back credits the run only with the rest).
    const bulkStarted = lines.filter((x) => x.t === 'ops').flatMap((l) => l.ops).filter((o: { op: string; state: string }) => o.state === 'started' && o.op.startsWith('tokens/'));
    expect(bulkStarted.length).toBeGreaterThan(0);
    for (const o of bulkStarted) expect(Array.isArray(o.before?.present)).toBe(true);
    expect(started.size).toBe(header.totalOps);
    const igor = plan.user_changes.find((c) => c.user === 'igor@contoso.com' && c.resource === 'phoneMethods/mobile')!;
    expect(started.get(`${igor.user_id}/phoneMethods/mobile`)).toEqual(igor.before);
    expect(lines.at(-1)).toMatchObject({ t: 'end', state: 'completed' });
    expect(statSync(join(runDir!, 'journal.jsonl')).mode & 0o777).toBe(0o600);
    expect(statSync(join(runDir!, 'plan.jsonl')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(runDir!, 'plan.jsonl'))).toEqual(readFileSync(planFile));
    expect(statSync(runDir!).mode & 0o777).toBe(0o700);
  });

  it('writes no seed anywhere: journal, plan copy, results', async () => {
    const [runDir] = runDirs(stateDir);
    const texts = { journal: readFileSync(join(runDir!, 'journal.jsonl'), 'utf8'), planCopy: readFileSync(join(runDir!, 'plan.jsonl'), 'utf8'), results: renderResultsCsv(applied.results, resultsRun(applied.outcome)) };
    const secrets = await contosoSecretForms();
    expect(secrets.length).toBeGreaterThanOrEqual(10);
    for (const { serial, forms } of secrets) {
      for (const [name, text] of Object.entries(texts)) for (const f of forms) expect(text.includes(f), `seed of ${serial} in ${name}`).toBe(false);
    }
    expect(texts.journal).not.toMatch(/secretKey|verificationCode/);
  });

  it('lists the run, with its tenant and Graph', async () => {
    const [dir] = await allRuns(stateDir);
    expect(dir!.runs).toHaveLength(1);
    const run = dir!.runs[0]!;
    expect(run).toMatchObject({ kind: 'apply', state: 'completed', tenant: { id: plan.tenant.id }, graph: g.emu.url, rollback_of: null, rolled_back_by: [] });
    expect(Date.parse(run.started)).toBeLessThanOrEqual(Date.parse(run.finished!));
    expect(run.counts).toMatchObject({ failed: 0, pending: 0, done: journalLines(runDirs(stateDir)[0]!)[0].totalOps });
  });
});
