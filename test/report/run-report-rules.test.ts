import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReport } from '../../src/app/report.js';
import { OPERATIONS_LEGEND, renderRunReportHtml, renderRunReportMarkdown } from '../../src/report/render-run-report.js';
import { escHtml, escMarkdown } from '../../src/report/escape.js';
import { applyFile, rollbackIn, testDir, planOfUntouched } from '../helpers/migration.js';

/**
 * Found by an auditor: a run report could not answer "by which rule" (an operation had its state,
 * time, request id and error only), and a user whose token was not migrated (judy: an 8-digit token)
 * showed only as "nothing to do", the plan's finding nowhere in the run's evidence.
 */
describe('the run report says by which rule, and what the plan found of each user', () => {
  async function applied(name: string) {
    const { dir } = testDir(name);
    const stateDir = join(dir, 'state');
    const { g, plan } = await planOfUntouched(join(dir, 'p.plan'), { rolloutGroups: ['MFA Staged Rollout'] });
    const { outcome } = await applyFile(g, join(dir, 'p.plan'), stateDir);
    return { g, stateDir, plan, runId: outcome.runId };
  }

  it("gives each operation the plan's rule and reason, and each user the plan's findings, in JSON, Markdown and HTML", async () => {
    const { stateDir, plan, runId } = await applied('rules-apply');
    const report = await runReport(runId, stateDir);
    expect(report.format_version).toBe('1.11');
    // Every user operation carries the rule and reason of the plan change it makes (a token's create and activate alike).
    const byChange = new Map(plan.user_changes.map((c) => [`${c.user_id} ${c.resource}`, c]));
    const ops = report.users.flatMap((u) => u.operations.map((o) => ({ u, o })));
    expect(ops.length).toBeGreaterThan(50);
    for (const { u, o } of ops) {
      const resource = o.target.replace(/\/(create|activate|assign|assign-activate|delete)$/, '');
      const change = byChange.get(`${u.user_id} ${resource}`);
      expect(change, o.op).toBeDefined();
      expect({ rule: o.rule, because: o.because }, o.op).toEqual({ rule: change!.rule, because: change!.because });
    }
    // The policy step and the staged rollout: their own rules (several properties of one target: joined).
    // The campaign is written by a PATCH of the policy itself (`policy/authenticationMethodsPolicy`); every other target by its own.
    const opOf = (target: string) => (target === 'registrationEnforcement/authenticationMethodsRegistrationCampaign' ? 'policy/authenticationMethodsPolicy' : `policy/${target}`);
    expect(report.policy.length).toBeGreaterThan(3);
    for (const o of report.policy) {
      const changes = plan.policy_changes.filter((c) => opOf(c.target) === o.op);
      expect(changes.length, o.op).toBeGreaterThan(0);
      expect(o.rule, o.op).toBe([...new Set(changes.map((c) => c.rule))].join(', '));
      expect(o.because, o.op).toBe([...new Set(changes.map((c) => c.because))].join('; '));
    }
    const rollout = report.shared.find((o) => o.op === 'cutover/featureRolloutPolicy')!;
    expect(rollout.rule).toBe('CUTOVER-STAGED-ROLLOUT');
    // A bulk token create is no one change's.
    expect(report.shared.filter((o) => o.op.startsWith('tokens/')).every((o) => o.rule === null && o.because === null)).toBe(true);

    // judy: her 8-digit token is not migrated, and the report says so under her, with the rule.
    const judy = report.users.find((u) => u.user === 'judy@contoso.com')!;
    const finding = plan.findings.find((f) => f.user === 'judy@contoso.com' && f.code === 'token-unsupported')!;
    expect(finding).toBeDefined();
    expect(judy.findings).toContainEqual({ severity: finding.severity, code: 'token-unsupported', rule: finding.rule, message: finding.message });
    expect(judy.findings.map((f) => f.code).sort()).toEqual(plan.findings.filter((f) => f.user === 'judy@contoso.com').map((f) => f.code).sort());
    // Users the plan found nothing of have none.
    const quiet = report.users.filter((u) => !plan.findings.some((f) => f.user?.toLowerCase() === u.user.toLowerCase()));
    expect(quiet.length).toBeGreaterThan(0);
    for (const u of quiet) expect(u.findings, u.user).toEqual([]);

    const md = renderRunReportMarkdown(report);
    expect(md).toContain('| Operation | State | Time | Request id | Error | Rule | Because |');
    const phone = ops.find(({ o }) => o.target === 'phoneMethods/mobile')!.o;
    expect(md).toContain(`| phoneMethods/mobile | done | ${phone.at} | ${phone.request_id} |  | ${escMarkdown(phone.rule!)} | ${escMarkdown(phone.because!)} |`);
    expect(md).toMatch(new RegExp(`### <a id="user-judy-contoso-com"></a>judy@contoso\\.com: [^\\n]+\\n\\n(\\|[^\\n]*\\n)*\\| Plan finding \\| Code \\| Rule \\| What the plan says \\|`));
    expect(md).toContain(`| ${finding.severity} | token-unsupported | ${escMarkdown(finding.rule)} | ${escMarkdown(finding.message)} |`);
    // The legend: a request id is the $batch request's, shared by the operations it carried.
    expect(OPERATIONS_LEGEND).toContain("The request id is the $batch request's, shared by every operation that request carried");
    expect(md).toContain(escMarkdown(OPERATIONS_LEGEND));
    const html = renderRunReportHtml(report);
    expect(html).toContain(`<p class="intro">${escHtml(OPERATIONS_LEGEND)}</p>`);
    expect(html).toContain('<th>Rule</th><th>Because</th>');
    expect(html).toContain(`<td>token-unsupported</td><td class="mono">${escHtml(finding.rule)}</td><td>${escHtml(finding.message)}</td>`);
  });

  it("gives a rollback's undo the rule and reason of the change it undoes", async () => {
    const { g, stateDir, plan, runId } = await applied('rules-rollback');
    const back = await rollbackIn(g, stateDir, runId);
    const report = await runReport(back.outcome.runId, stateDir);
    const byChange = new Map(plan.user_changes.map((c) => [`${c.user_id} ${c.resource}`, c]));
    const ops = report.users.flatMap((u) => u.operations.map((o) => ({ u, o })));
    expect(ops.length).toBeGreaterThan(0);
    for (const { u, o } of ops) {
      const change = byChange.get(`${u.user_id} ${o.target.replace(/\/(create|activate|assign|assign-activate|delete)$/, '')}`);
      if (change) expect(o.rule, o.op).toBe(change.rule);
    }
    expect(ops.filter(({ o }) => o.rule !== null).length).toBe(ops.length);
    expect(report.policy.every((o) => o.rule !== null && o.rule.startsWith('POL-'))).toBe(true);
  });
});
