import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunReport, RunReportOperation } from '../../src/report/run-report.js';
import { fakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, testDir } from '../helpers/migration.js';
import { runMain } from '../helpers/run-main.js';

/** Every operation the report lists, by id. */
const listed = (r: RunReport): Map<string, RunReportOperation> => new Map([...r.policy, ...r.shared, ...r.users.flatMap((u) => u.operations)].map((o) => [o.op, o]));

/** Contoso planned (with the staged rollout) and applied in a state folder of the test's own. */
async function applied(name: string) {
  const g = fakeGraph();
  const { dir } = testDir(name);
  const stateDir = join(dir, 'state');
  await planTo(g, join(dir, 'p.plan'), { rolloutGroups: ['MFA Staged Rollout'] });
  const { outcome } = await applyFile(g, join(dir, 'p.plan'), stateDir);
  expect(outcome.state).toBe('completed');
  return { g, dir, stateDir, runId: outcome.runId, runDir: join(stateDir, 'runs', outcome.runId) };
}

async function report(runId: string, stateDir: string, ...more: string[]) {
  const r = await runMain(['report', runId, '--state-dir', stateDir, ...more]);
  return { ...r, json: more.includes('json') ? (JSON.parse(r.stdout) as RunReport) : undefined };
}

/**
 * Found by an auditor: `report RUN` wrote nothing at all when the run's plan copy was missing or
 * unreadable, though apply.md says the report is still made and written (as `runs verify` still checks).
 */
describe('report of a run whose plan copy cannot be read', () => {
  it('a missing plan copy: the report is made from the journal alone, says so first in every format, and exits 1 as runs verify does', async () => {
    const { dir, stateDir, runId, runDir } = await applied('report-no-plan');
    const whole = (await report(runId, stateDir, '--format', 'json')).json!;
    expect(whole.run).toMatchObject({ plan_problem: null, unlisted_pending: 0 });
    renameSync(join(runDir, 'plan.jsonl'), join(dir, 'plan.jsonl.moved'));

    const verify = await runMain(['runs', 'verify', runId, '--state-dir', stateDir]);
    expect(verify.code).toBe(1);
    const text = await report(runId, stateDir, '--report', join(dir, 'run.html'));
    expect(text.code).toBe(verify.code);
    const first = text.stdout.split('\n')[0]!;
    expect(first).toMatch(/^WARNING: the run's plan copy \(plan\.jsonl\) cannot be read \(its journal is whole\)\. What the run set out to do cannot be shown: this report is made from the journal alone, its users named by their object id; the outcomes are the journal's\.$/);
    expect(text.stdout).toContain("Journal: the run's plan copy (plan.jsonl) cannot be read (its journal is whole)");
    expect(text.stdout).toContain(`${whole.run.total_operations} operation(s): ${whole.run.counts.done} done, 0 failed`);
    expect(text.stderr).toContain(`mfa-migrate: run ${runId}: the run's plan copy (plan.jsonl) cannot be read (its journal is whole)`);
    const html = readFileSync(join(dir, 'run.html'), 'utf8');
    expect(html).toMatch(/<h1>[^<]*<\/h1>\n<p class="alert" role="alert">WARNING: the run&#39;s plan copy \(plan\.jsonl\) cannot be read/);
    const md = await report(runId, stateDir, '--report', join(dir, 'run.md'));
    expect(md.code).toBe(1);
    expect(readFileSync(join(dir, 'run.md'), 'utf8')).toMatch(/^# .*\n\n> \*\*WARNING: the run's plan copy \(plan\.jsonl\) cannot be read .*What the run set out to do cannot be shown/);

    const json = await report(runId, stateDir, '--format', 'json');
    expect(json.code).toBe(1);
    const r = json.json!;
    expect(r.journal).toEqual({ ...whole.journal, state: 'broken', problem: "the run's plan copy (plan.jsonl) cannot be read (its journal is whole)", about: 'plan-copy-unreadable' });
    expect(r.run.plan_problem).toMatch(/^the plan copy it applied cannot be read \(cannot read the plan file .*plan\.jsonl: no such file\)$/);
    expect(r.run.counts).toEqual(whole.run.counts);
    expect(r.run.unlisted_pending).toBe(0);
    // Every operation the journal records, with its outcome, time and request id, under its user (by object id).
    expect(listed(r)).toEqual(listed(whole));
    const byId = new Map(whole.users.map((u) => [u.user_id, u]));
    const changed = whole.users.filter((u) => u.operations.length > 0);
    expect(r.users.map((u) => u.user_id).sort()).toEqual(changed.map((u) => u.user_id).sort());
    for (const u of r.users) {
      expect(u.user, u.user).toBe(u.user_id);
      expect(u.operations, u.user).toEqual(byId.get(u.user_id)!.operations);
      expect(u.outcome, u.user).toBe(byId.get(u.user_id)!.outcome);
    }
  });

  it('a plan copy that is not a plan: the check says it changed, the report says it cannot be read either, and exits 1', async () => {
    const { dir, stateDir, runId, runDir } = await applied('report-garbage-plan');
    writeFileSync(join(runDir, 'plan.jsonl'), 'not a plan\n');
    const text = await report(runId, stateDir, '--report', join(dir, 'run.md'));
    expect(text.code).toBe(1);
    const first = text.stdout.split('\n')[0]!;
    expect(first).toMatch(/^WARNING: the run's plan copy \(plan\.jsonl\) is not the plan the journal records .*: it was changed after the run \(its journal is not in question\)\. The plan copy it applied cannot be read \(.*\)\. What the run set out to do cannot be shown: this report is made from the journal alone/);
    expect(readFileSync(join(dir, 'run.md'), 'utf8')).toContain('> **WARNING: ');
    const json = await report(runId, stateDir, '--format', 'json');
    expect(json.code).toBe(1);
    expect(json.json!.journal).toMatchObject({ state: 'broken', edited: false, about: 'plan-copy-changed' });
    expect(json.json!.run.plan_problem).toMatch(/^the plan copy it applied cannot be read /);
    expect(json.json!.users.length).toBeGreaterThan(0);
  });
});
