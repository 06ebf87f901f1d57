import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRun } from '../../src/apply/journal.js';
import { runReport } from '../../src/app/report.js';
import { renderRollbackSummary } from '../../src/cli/views/apply-summary.js';
import { updatePhoneMethod } from '../../src/graph/calls/user-methods.js';
import { renderRunReportMarkdown, renderRunReportText } from '../../src/report/render-run-report.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, rollbackIn, testDir } from '../helpers/migration.js';
import { writes, type Snapshot } from '../helpers/tenant-checks.js';

const IGOR = 'igor@contoso.com';

/**
 * The Contoso plan with its cutover (staged rollout, then the federation), applied from state folder
 * `s1`, and a copy of that folder as `s2`: two journals of one run's writes, as two operators' applies
 * of one plan leave them (each its own lock).
 */
async function appliedTwice(g: FakeGraph) {
  const { dir } = testDir('rollback-already');
  const users = join(dir, 'switchable.txt');
  writeFileSync(users, ((g.emu.snapshot() as Snapshot).users as { userPrincipalName: string }[]).map((u) => u.userPrincipalName).filter((u) => !/^(judy|zoe)@/.test(u)).join('\n'));
  await planTo(g, join(dir, 'p.plan'), { users, rolloutGroups: ['MFA Staged Rollout'], federatedMfa: 'reject', forceFederation: true });
  const s1 = join(dir, 's1');
  const { outcome } = await applyFile(g, join(dir, 'p.plan'), s1);
  expect(outcome.state).toBe('completed');
  const s2 = join(dir, 's2');
  cpSync(s1, s2, { recursive: true });
  return { s1, s2, runId: outcome.runId };
}

const phoneOf = (g: FakeGraph, upn: string, type: string) => ((g.emu.snapshot() as Snapshot).users.find((u: Snapshot) => u.userPrincipalName === upn).methods.phone as { phoneType: string; phoneNumber: string }[]).find((p) => p.phoneType === type)?.phoneNumber;

describe('a rollback of objects already put back as the run found them (found by a black-box review)', () => {
  it("counts them done, already as before the run, sends nothing, and completes: no '--force' for objects another run's rollback restored", async () => {
    const g = fakeGraph();
    const { s1, s2, runId } = await appliedTwice(g);
    const start = g.emu.snapshot() as Snapshot;
    // The other folder's rollback puts the whole tenant back.
    const other = await rollbackIn(g, s2, runId);
    expect(other.outcome.state).toBe('completed');
    const restored = g.emu.snapshot() as Snapshot;
    expect(restored.authenticationMethodsPolicy).not.toEqual(start.authenticationMethodsPolicy);
    g.emu.clearRequests();
    const back = await rollbackIn(g, s1, runId);
    expect(back.outcome.changedSince).toEqual([]);
    expect(back.outcome.state).toBe('completed');
    expect(back.outcome.resumable).toBe(false);
    // Nothing sent: not the policy, the phone, the federation, nor a token delete answered 404.
    expect(writes(g.emu.requests())).toEqual([]);
    expect((g.emu.snapshot() as Snapshot).authenticationMethodsPolicy).toEqual(restored.authenticationMethodsPolicy);
    const asBefore = back.outcome.alreadyAsBefore.map((x) => `${x.user ?? 'policy'} ${x.target}`);
    expect(asBefore).toEqual(expect.arrayContaining([`${IGOR} phoneMethods/mobile`, 'policy domains/contoso.com/federationConfiguration', 'policy authenticationMethodsPolicy', 'policy authenticationMethodConfigurations/Sms', 'policy authenticationMethodConfigurations/Voice', 'policy authenticationMethodConfigurations/HardwareOath']));
    // The staged rollout policy the run created and the group it attached are gone (removed by the other rollback).
    expect(back.outcome.goneAlready.map((x) => x.target)).toEqual(expect.arrayContaining(['featureRolloutPolicies/multiFactorAuthentication', expect.stringMatching(/^featureRolloutPolicies\/multiFactorAuthentication\/appliesTo\//)]));
    expect(back.outcome.cutoverUndone).toEqual([]);
    // Journaled done, said apart from the undos sent, in the summary and the report.
    const view = await readRun(join(s1, 'runs', back.outcome.runId));
    const igorPhone = [...view.ops.values()].find((r) => r.op.endsWith('/phoneMethods/mobile') && r.result?.alreadyAsBefore === true);
    expect(igorPhone).toMatchObject({ state: 'done', result: { alreadyAsBefore: true } });
    const summary = renderRollbackSummary(back.outcome, s1, undefined, undefined, `mfa-migrate rollback ${back.outcome.runId} --force`);
    expect(summary).toMatch(new RegExp(`operations: \\d+ done \\(\\d+ gone already: removed outside this tool; ${asBefore.length} already as before the run: put back outside this rollback\\), 0 failed, 0 skipped`));
    expect(summary).toContain(`  already as before the run (put back outside this rollback; nothing to undo): ${IGOR} phoneMethods/mobile\n`);
    expect(summary).not.toContain('--force');
    const report = await runReport(back.outcome.runId, s1);
    expect(report.format_version).toBe('1.11');
    const ops = [...report.policy, ...report.shared, ...report.users.flatMap((u) => u.operations)];
    expect(ops.filter((o) => o.already_as_before)).toHaveLength(asBefore.length);
    expect(report.users.find((u) => u.user === IGOR)!.operations.find((o) => o.target === 'phoneMethods/mobile')).toMatchObject({ state: 'done', already_as_before: true, gone_already: false });
    expect(renderRunReportText(report)).toContain(`Already as before the run (put back outside this rollback; nothing to undo, counted done):\n`);
    expect(renderRunReportMarkdown(report)).toContain('| phoneMethods/mobile | done (already as before the run: put back outside this rollback) |');
  });

  it('finishing a rollback that left an object alone as changed completes once the object is back as the run found it, with nothing sent', async () => {
    const g = fakeGraph();
    const { s1, s2, runId } = await appliedTwice(g);
    const migrated = phoneOf(g, IGOR, 'mobile');
    // Before the other rollback puts it back, an admin gives igor a third number: this rollback leaves it alone.
    const igorId = (g.emu.snapshot() as Snapshot).users.find((u: Snapshot) => u.userPrincipalName === IGOR).id as string;
    await g.client().request(updatePhoneMethod(igorId, { phoneNumber: '+1 2065550777', phoneType: 'mobile' }));
    const first = await rollbackIn(g, s1, runId);
    expect(first.outcome.state).toBe('partial');
    expect(first.outcome.changedSince.map((x) => `${x.user} ${x.target}`)).toEqual([`${IGOR} phoneMethods/mobile`]);
    // Then the other folder's rollback puts igor's phone back as that run found it (the rest is gone or as before already).
    const other = await rollbackIn(g, s2, runId, { force: true });
    expect(other.outcome.failures).toEqual([]);
    expect(phoneOf(g, IGOR, 'mobile')).not.toBe(migrated);
    g.emu.clearRequests();
    const finished = await rollbackIn(g, s1, first.outcome.runId);
    expect(finished.outcome.changedSince).toEqual([]);
    expect(finished.outcome.state).toBe('completed');
    expect(finished.outcome.alreadyAsBefore).toContainEqual({ user: IGOR, target: 'phoneMethods/mobile' });
    expect(writes(g.emu.requests())).toEqual([]);
  });
});
