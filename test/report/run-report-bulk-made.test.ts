import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRun } from '../../src/apply/journal.js';
import type { RunReport, RunReportOperation } from '../../src/report/run-report.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { rechain } from '../helpers/graph-proxies.js';
import { applyFile, planTo, tempDir } from '../helpers/migration.js';
import { runMain } from '../helpers/run-main.js';

const CHEN = '13fe1547-7700-52b0-999b-771890b24c5b';
const ZOE = 'c247f1a8-727a-5bdd-803d-979e129e2e1d';
const SERIAL = '20010006';
const DEVICES = '/beta/directory/authenticationMethodDevices/hardwareOathDevices';

const bulkOf = (r: RunReport): RunReportOperation => r.shared.find((o) => /^tokens\/[0-9a-f]+$/.test(o.op))!;
/** Created in bulk: some serials, none of them chen's; then chen's, not created. */
const MADE_BUT_CHENS = new RegExp(`^hardware tokens created in bulk: (?:(?!${SERIAL})[^;])+; not created by this run: ${SERIAL}$`);

/**
 * An auditor's black-box round: the report's Shared operations row named, among the "hardware tokens
 * created in bulk", the serial of a user left out as stale (--skip-stale), which the run never made:
 * the label came from the plan's serials, not from what the journal says was made.
 */
describe('report: a bulk token create named by what its journal says it made', () => {
  let g: FakeGraph;
  let tmp: ReturnType<typeof tempDir>;
  let planFile: string;
  const file = (n: string) => join(tmp.dir, n);

  beforeAll(async () => {
    tmp = tempDir('report-bulk-made');
    g = fakeGraph();
    planFile = file('contoso.plan');
    await planTo(g, planFile);
  }, 60_000);
  afterAll(() => tmp?.cleanup());

  async function report(runId: string, stateDir: string, ...more: string[]) {
    const r = await runMain(['report', runId, '--state-dir', stateDir, ...more]);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  }

  /** An admin gives chen a mobile phone after the plan; apply --skip-stale with tokens in bulk leaves him out. */
  async function chenLeftOut(name: string) {
    g.emu.reset();
    expect((await g.raw.post(`/v1.0/users/${CHEN}/authentication/phoneMethods`, { phoneNumber: '+1 4255550199', phoneType: 'mobile' })).status).toBe(201);
    const stateDir = file(name);
    const { outcome } = await applyFile(g, planFile, stateDir, { tokenPath: 'bulk', skipStale: true });
    expect(outcome.staleUsers.first).toEqual(['chen@contoso.com']);
    return { stateDir, outcome };
  }

  it('not the serial of a user left out as stale, which the tenant never held: said not created, in JSON and Markdown', async () => {
    const { stateDir, outcome } = await chenLeftOut('mobile');
    const view = await readRun(outcome.runDir);
    const bulk = [...view.ops.values()].find((o) => /^tokens\/[0-9a-f]+$/.test(o.op))!;
    const made = Object.keys(bulk.result!.devices as Record<string, string>);
    expect(made).not.toContain(SERIAL);
    const json = JSON.parse(await report(outcome.runId, stateDir, '--format', 'json')) as RunReport;
    expect(bulkOf(json)).toMatchObject({ state: 'done', target: `hardware tokens created in bulk: ${made.join(', ')}; not created by this run: ${SERIAL}` });
    await report(outcome.runId, stateDir, '--report', file('mobile.md'));
    expect(readFileSync(file('mobile.md'), 'utf8')).toContain(`| hardware tokens created in bulk: ${made.join(', ')}; not created by this run: ${SERIAL} | done |`);
  }, 60_000);

  it('not a serial the inventory held already (uploaded to zoe since the plan)', async () => {
    g.emu.reset();
    expect((await g.raw.post(DEVICES, { serialNumber: SERIAL, secretKey: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', timeIntervalInSeconds: 30, hashFunction: 'hmacsha1', manufacturer: 'Contoso', model: 'T', assignTo: { id: ZOE } })).status).toBe(201);
    const stateDir = file('held');
    const { outcome } = await applyFile(g, planFile, stateDir, { tokenPath: 'bulk', skipStale: true });
    expect(bulkOf(JSON.parse(await report(outcome.runId, stateDir, '--format', 'json')) as RunReport).target).toMatch(MADE_BUT_CHENS);
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
    expect(bulkOf(JSON.parse(await report(outcome.runId, stateDir, '--format', 'json')) as RunReport).target).toMatch(MADE_BUT_CHENS);
  }, 60_000);
});
