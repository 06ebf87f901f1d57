import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runReport } from '../../src/app/report.js';
import { renderRunReportMarkdown, renderRunReportText } from '../../src/report/render-run-report.js';
import { fakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, resumeIn, rollbackIn, tempDir } from '../helpers/migration.js';

/** Found by an auditor's black-box test: a rollback's report showed no user and no policy, and nothing of what it left in place. */
describe('the report of a rollback run', () => {
  const tmp = tempDir('run-report');
  afterAll(() => tmp.cleanup());

  it("puts each undo under the user (or the policy) whose change it undoes, and lists what was left in place and why", async () => {
    const g = fakeGraph();
    const dir = join(tmp.dir, 'state');
    const { plan } = await planTo(g, join(tmp.dir, 'p.plan'), { rolloutGroups: ['MFA Staged Rollout'] });
    const { outcome } = await applyFile(g, join(tmp.dir, 'p.plan'), dir);
    const back = await rollbackIn(g, dir, outcome.runId);
    expect(back.outcome.notReversible.length).toBeGreaterThan(0);
    const report = await runReport(back.outcome.runId, dir);
    expect(report.format_version).toBe('1.1');
    // Every user the apply changed is there with the undo of their changes, none under "shared".
    const changed = new Set(plan.user_changes.map((c) => c.user.toLowerCase()));
    expect(new Set(report.users.map((u) => u.user.toLowerCase()))).toEqual(changed);
    expect(report.users.every((u) => u.operations.length > 0 && u.operations.every((o) => o.op.startsWith('rollback/')))).toBe(true);
    expect(plan.policy_changes.length).toBeGreaterThan(0);
    expect(report.policy.length).toBeGreaterThan(0);
    expect(report.policy.every((o) => o.op.startsWith('rollback/policy/'))).toBe(true);
    expect(report.shared.every((o) => o.op.startsWith('rollback/cutover/') || o.op.startsWith('rollback/tokens/'))).toBe(true);
    // What Graph cannot undo, as the rollback found it when it started.
    expect(report.rollback.not_reversible).toEqual(back.outcome.notReversible.map((x) => ({ user: x.user ?? null, target: x.target, reason: x.reason })));
    expect(renderRunReportMarkdown(report)).toContain(`## Left in place: not reversible (${back.outcome.notReversible.length})`);
    expect(renderRunReportText(report)).toContain('Left in place (not reversible):');
  });

  it('records each resume of a run (when, who, its options): the report names them', async () => {
    const g = fakeGraph();
    const dir = join(tmp.dir, 'resumed');
    await planTo(g, join(tmp.dir, 'r.plan'));
    const first = await applyFile(g, join(tmp.dir, 'r.plan'), dir, { batchSize: 10, waves: 1 });
    const before = Date.now();
    await resumeIn(g, dir, { waves: 1 });
    await resumeIn(g, dir);
    const report = await runReport(first.outcome.runId, dir);
    expect(report.run.resumed.map((x) => x.options)).toEqual([{ waves: 1 }, {}]);
    expect(report.run.resumed.every((x) => Date.parse(x.at) >= before - 1000)).toBe(true);
    expect(renderRunReportText(report)).toMatch(/Resumed: \S+ by .+ \(waves 1\); \S+ by /);
  });
});
