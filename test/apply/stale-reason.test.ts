import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readRun } from '../../src/apply/journal.js';
import { renderApplySummary } from '../../src/cli/views/apply-summary.js';
import { renderResultsCsv, resultsRun } from '../../src/cli/views/results-csv.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, resumeIn, tempDir } from '../helpers/migration.js';
import { parseCsv } from '../helpers/tenant-checks.js';

const CHEN = '13fe1547-7700-52b0-999b-771890b24c5b';
const ZOE = 'c247f1a8-727a-5bdd-803d-979e129e2e1d';
const SERIAL = '20010006';
const DEVICES = '/beta/directory/authenticationMethodDevices/hardwareOathDevices';

/**
 * An auditor's black-box round: with --skip-stale, why a user was left out was lost (stdout, the
 * journal and --results said only "stale", where the pre-flight without it names the reason).
 */
describe('apply --skip-stale: why each user was left out, in the run\'s evidence', () => {
  let g: FakeGraph;
  let tmp: ReturnType<typeof tempDir>;
  let planFile: string;
  let n = 0;
  const stateDir = () => join(tmp.dir, `state-${++n}`);

  beforeAll(async () => {
    tmp = tempDir('stale-reason');
    g = fakeGraph();
    planFile = join(tmp.dir, 'contoso.plan');
    await planTo(g, planFile);
  }, 60_000);
  afterAll(() => tmp?.cleanup());
  beforeEach(() => g.emu.reset());

  /** An admin uploads chen's serial to zoe after the plan. */
  async function uploadToZoe(): Promise<void> {
    const res = await g.raw.post(DEVICES, { serialNumber: SERIAL, secretKey: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', timeIntervalInSeconds: 30, hashFunction: 'hmacsha1', manufacturer: 'Contoso', model: 'T', assignTo: { id: ZOE } });
    expect(res.status).toBe(201);
  }

  /** An admin gives chen a mobile phone after the plan (the plan saw none). */
  async function newMobileForChen(): Promise<void> {
    expect((await g.raw.post(`/v1.0/users/${CHEN}/authentication/phoneMethods`, { phoneNumber: '+1 4255550199', phoneType: 'mobile' })).status).toBe(201);
  }

  /** What the pre-flight says of chen without --skip-stale: `<target>: <reason>` for each of his objects. */
  async function preflightSays(dir: string): Promise<string[]> {
    const err = (await applyFile(g, planFile, dir, { tokenPath: 'bulk' }).catch((e: unknown) => e)) as Error;
    const said = [...err.message.matchAll(/^ {2}chen@contoso\.com (.+)$/gm)].map((m) => m[1]!);
    expect(said.length).toBeGreaterThan(0);
    return said;
  }

  it("journals, with each of the user's skipped operations, the pre-flight's reason; --results, the summary and the outcome carry it", async () => {
    await uploadToZoe();
    const dir = stateDir();
    const said = await preflightSays(dir);
    expect(said).toEqual([expect.stringMatching(new RegExp(`^hardwareOathMethods/${SERIAL}: the token with serial ${SERIAL} is assigned to another user \\(${ZOE}\\)`))]);

    const r = await applyFile(g, planFile, dir, { tokenPath: 'bulk', skipStale: true });
    const view = await readRun(r.outcome.runDir);
    const chens = [...view.ops.values()].filter((o) => o.op.startsWith(`${CHEN}/`));
    expect(chens.length).toBeGreaterThan(1);
    // The error stays `stale` (resume, runs and report key on it); the reason is beside it.
    for (const o of chens) expect(o).toMatchObject({ state: 'skipped', error: 'stale', staleReason: said.join('; ') });
    expect([...view.ops.values()].filter((o) => o.staleReason !== undefined).every((o) => o.op.startsWith(`${CHEN}/`))).toBe(true);

    expect(r.outcome.users.find((u) => u.upn === 'chen@contoso.com')).toMatchObject({ outcome: 'skipped', error: 'stale', staleReason: said.join('; ') });
    const rows = parseCsv(renderResultsCsv(r.results, resultsRun(r.outcome)));
    expect(rows.find((x) => x.user === 'chen@contoso.com')).toMatchObject({ outcome: 'skipped', first_error: 'stale', stale_reason: said.join('; ') });
    expect(rows.filter((x) => x.user !== 'chen@contoso.com').every((x) => x.stale_reason === '')).toBe(true);
    expect(renderApplySummary(r.outcome, dir, undefined)).toContain(`\n  stale (left out): chen@contoso.com ${said[0]}\n`);
    // Never a secret: the seed uploaded to zoe is nowhere in it.
    expect(JSON.stringify(chens)).not.toMatch(/JBSWY3DP/);
  }, 60_000);

  it('a user left out by a later pass (a wave read again on resume) journals why too', async () => {
    const dir = stateDir();
    const first = await applyFile(g, planFile, dir, { tokenPath: 'bulk', batchSize: 5, waves: 1 });
    expect(first.outcome.state).toBe('stopped');
    await newMobileForChen();
    const r = await resumeIn(g, dir);
    expect(r.outcome.stale).toEqual([expect.objectContaining({ user: 'chen@contoso.com', target: 'phoneMethods/mobile' })]);
    const reason = `phoneMethods/mobile: ${r.outcome.stale[0]!.reason}`;
    const view = await readRun(r.outcome.runDir);
    const chens = [...view.ops.values()].filter((o) => o.op.startsWith(`${CHEN}/`));
    expect(chens.length).toBeGreaterThan(1);
    for (const o of chens) expect(o).toMatchObject({ state: 'skipped', error: 'stale', staleReason: reason });
    expect(r.results.find((x) => x.user === 'chen@contoso.com')).toMatchObject({ outcome: 'skipped', first_error: 'stale', stale_reason: reason });
  }, 60_000);

});
