import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunReport, RunReportOperation } from '../../src/report/run-report.js';
import { rechain } from '../helpers/graph-proxies.js';
import { applyFile } from '../helpers/migration.js';
import { runMain } from '../helpers/run-main.js';
import { newMobileForChen, plannedContoso, reportOf, SERIAL, uploadToZoe, ZOE } from '../helpers/stale-chen.js';

const chenOps = (r: RunReport): RunReportOperation[] => r.users.find((u) => u.user === 'chen@contoso.com')!.operations;

/**
 * An auditor's black-box round: the report (every format) said only "stale" of a user --skip-stale
 * left out, where the pre-flight without it names why.
 */
describe('report of a run with users left out as stale: why, in every format', () => {
  const t = plannedContoso('report-stale-reason');
  const { file } = t;

  it("JSON, text, Markdown and HTML say why, in the pre-flight's words", async () => {
    await uploadToZoe(t.g);
    const stateDir = file('held');
    const err = (await applyFile(t.g, t.planFile, stateDir, { tokenPath: 'bulk' }).catch((e: unknown) => e)) as Error;
    const said = /^ {2}chen@contoso\.com (hardwareOathMethods\/20010006: .+)$/m.exec(err.message)![1]!;
    expect(said).toMatch(new RegExp(`the token with serial ${SERIAL} is assigned to another user \\(${ZOE}\\)`));
    const { outcome } = await applyFile(t.g, t.planFile, stateDir, { tokenPath: 'bulk', skipStale: true });

    const json = JSON.parse(await reportOf(outcome.runId, stateDir, '--format', 'json')) as RunReport;
    expect(json.format_version).toBe('1.11');
    const ops = chenOps(json);
    expect(ops.length).toBeGreaterThan(1);
    for (const o of ops) expect(o).toMatchObject({ state: 'skipped', error: 'stale', stale_reason: said });
    expect([...json.policy, ...json.shared, ...json.users.flatMap((u) => u.operations)].filter((o) => o.stale_reason !== null).length).toBe(ops.length);
    expect(JSON.stringify(json)).not.toMatch(/JBSWY3DP/);

    const text = await reportOf(outcome.runId, stateDir);
    expect(text).toContain(`  chen@contoso.com hardwareOathMethods/${SERIAL}/assign-activate: skipped at `);
    expect(text).toContain(`: stale: ${said}\n`);
    await reportOf(outcome.runId, stateDir, '--report', file('held.md'));
    expect(readFileSync(file('held.md'), 'utf8')).toContain(`| stale: ${said} |`);
    await reportOf(outcome.runId, stateDir, '--report', file('held.html'));
    expect(readFileSync(file('held.html'), 'utf8')).toContain(`<td>stale: ${said.replace(/'/g, '&#39;')}</td>`);
  }, 60_000);

  it('a reason that names no phone number: the number chen was given since the plan is nowhere in the report', async () => {
    await newMobileForChen(t.g);
    const stateDir = file('mobile');
    const { outcome } = await applyFile(t.g, t.planFile, stateDir, { tokenPath: 'bulk', skipStale: true });
    const json = JSON.parse(await reportOf(outcome.runId, stateDir, '--format', 'json')) as RunReport;
    for (const o of chenOps(json)) expect(o).toMatchObject({ state: 'skipped', error: 'stale', stale_reason: expect.stringMatching(/^phoneMethods\/mobile: changed in the tenant since the plan$/) });
    expect(JSON.stringify(json)).not.toMatch(/0199/);
  }, 60_000);

  it('a journal written before the reason was journaled reads as before: the error stale, no reason', async () => {
    await newMobileForChen(t.g);
    const stateDir = file('older');
    const { outcome } = await applyFile(t.g, t.planFile, stateDir, { tokenPath: 'bulk', skipStale: true });
    rechain(join(outcome.runDir, 'journal.jsonl'), (op) => delete op.staleReason);
    expect((await runMain(['runs', 'verify', outcome.runId, '--state-dir', stateDir])).code).toBe(0);
    const json = JSON.parse(await reportOf(outcome.runId, stateDir, '--format', 'json')) as RunReport;
    for (const o of chenOps(json)) expect(o).toMatchObject({ state: 'skipped', error: 'stale', stale_reason: null });
    expect(await reportOf(outcome.runId, stateDir)).toMatch(/chen@contoso\.com phoneMethods\/mobile: skipped at \S+: stale\n/);
  }, 60_000);
});
