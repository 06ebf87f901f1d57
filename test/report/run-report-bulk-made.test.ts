import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRun } from '../../src/apply/journal.js';
import type { RunReport, RunReportOperation } from '../../src/report/run-report.js';
import { rechain } from '../helpers/graph-proxies.js';
import { applyFile } from '../helpers/migration.js';
import { runMain } from '../helpers/run-main.js';
import { newMobileForChen, plannedContoso, reportOf, SERIAL, uploadToZoe } from '../helpers/stale-chen.js';

const bulkOf = (r: RunReport): RunReportOperation => r.shared.find((o) => /^tokens\/[0-9a-f]+$/.test(o.op))!;
/** Created in bulk: some serials, none of them chen's; then chen's, not created. */
const MADE_BUT_CHENS = new RegExp(`^hardware tokens created in bulk: (?:(?!${SERIAL})[^;])+; not created by this run: ${SERIAL}$`);

/**
 * An auditor's black-box round: the report's Shared operations row named, among the "hardware tokens
 * created in bulk", the serial of a user left out as stale (--skip-stale), which the run never made:
 * the label came from the plan's serials, not from what the journal says was made.
 */
describe('report: a bulk token create named by what its journal says it made', () => {
  const t = plannedContoso('report-bulk-made');
  const { file } = t;

  /** An admin gives chen a mobile phone after the plan; apply --skip-stale with tokens in bulk leaves him out. */
  async function chenLeftOut(name: string) {
    await newMobileForChen(t.g);
    const stateDir = file(name);
    const { outcome } = await applyFile(t.g, t.planFile, stateDir, { tokenPath: 'bulk', skipStale: true });
    expect(outcome.staleUsers.first).toEqual(['chen@contoso.com']);
    return { stateDir, outcome };
  }

  it('not the serial of a user left out as stale, which the tenant never held: said not created, in JSON and Markdown', async () => {
    const { stateDir, outcome } = await chenLeftOut('mobile');
    const view = await readRun(outcome.runDir);
    const bulk = [...view.ops.values()].find((o) => /^tokens\/[0-9a-f]+$/.test(o.op))!;
    const made = Object.keys(bulk.result!.devices as Record<string, string>);
    expect(made).not.toContain(SERIAL);
    const json = JSON.parse(await reportOf(outcome.runId, stateDir, '--format', 'json')) as RunReport;
    expect(bulkOf(json)).toMatchObject({ state: 'done', target: `hardware tokens created in bulk: ${made.join(', ')}; not created by this run: ${SERIAL}` });
    await reportOf(outcome.runId, stateDir, '--report', file('mobile.md'));
    expect(readFileSync(file('mobile.md'), 'utf8')).toContain(`| hardware tokens created in bulk: ${made.join(', ')}; not created by this run: ${SERIAL} | done |`);
  }, 60_000);

  it('not a serial the inventory held already (uploaded to zoe since the plan)', async () => {
    await uploadToZoe(t.g);
    const stateDir = file('held');
    const { outcome } = await applyFile(t.g, t.planFile, stateDir, { tokenPath: 'bulk', skipStale: true });
    expect(bulkOf(JSON.parse(await reportOf(outcome.runId, stateDir, '--format', 'json')) as RunReport).target).toMatch(MADE_BUT_CHENS);
  }, 60_000);

  it("a journal of an earlier version (the left-out serial in before.present) is named the same way, from its result", async () => {
    const { stateDir, outcome } = await chenLeftOut('older');
    rechain(join(outcome.runDir, 'journal.jsonl'), (op) => {
      const before = op.before as { present?: string[]; leftOut?: string[] } | undefined;
      if (!before?.leftOut) return;
      before.present = [...(before.present ?? []), ...before.leftOut].sort();
      delete before.leftOut;
    });
    expect((await runMain(['runs', 'verify', outcome.runId, '--state-dir', stateDir])).code).toBe(0);
    expect(bulkOf(JSON.parse(await reportOf(outcome.runId, stateDir, '--format', 'json')) as RunReport).target).toMatch(MADE_BUT_CHENS);
  }, 60_000);
});
