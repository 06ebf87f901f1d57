import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readRun } from '../../src/apply/journal.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, rollbackIn, tempDir } from '../helpers/migration.js';

const CHEN = '13fe1547-7700-52b0-999b-771890b24c5b';
const ZOE = 'c247f1a8-727a-5bdd-803d-979e129e2e1d';
const SERIAL = '20010006';
const DEVICES = '/beta/directory/authenticationMethodDevices/hardwareOathDevices';

/**
 * An auditor's black-box round: the bulk token create's journaled `before.present`, "what the
 * inventory held before it", listed the serial of a user left out as stale (--skip-stale), which the
 * inventory never held.
 */
describe('apply --skip-stale with tokens in bulk: what the bulk create left out for a user left out as stale', () => {
  let g: FakeGraph;
  let tmp: ReturnType<typeof tempDir>;
  let planFile: string;
  let n = 0;
  const stateDir = () => join(tmp.dir, `state-${++n}`);

  beforeAll(async () => {
    tmp = tempDir('bulk-left-out');
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

  it("the bulk create's before.present holds what the inventory held, not a stale user's serial (journaled apart, as left out); its rollback undoes exactly what it made", async () => {
    const pristine = (g.emu.snapshot() as { hardwareOathDevices: unknown[] }).hardwareOathDevices;
    await newMobileForChen();
    const dir = stateDir();
    const r = await applyFile(g, planFile, dir, { tokenPath: 'bulk', skipStale: true });
    expect(r.outcome.staleUsers.first).toEqual(['chen@contoso.com']);
    const view = await readRun(r.outcome.runDir);
    const [bulk, ...more] = [...view.ops.values()].filter((o) => /^tokens\/[0-9a-f]+$/.test(o.op));
    expect(more).toEqual([]);
    const devices = bulk!.result!.devices as Record<string, string>;
    expect(Object.keys(devices)).not.toContain(SERIAL);
    // The inventory held none of the plan's serials: chen's is left out as his user was, not "present".
    expect(bulk!.before).toEqual({ present: [], leftOut: [SERIAL] });
    const inventory = () => (g.emu.snapshot() as { hardwareOathDevices: { id: string; serialNumber: string }[] }).hardwareOathDevices;
    expect(inventory().filter((d) => d.serialNumber === SERIAL)).toEqual([]);

    const undo = await rollbackIn(g, dir, r.outcome.runId);
    expect(undo.outcome.state).toBe('completed');
    // Every token it made deleted, nothing said of chen's serial (never made, never the run's).
    expect(undo.outcome.notReversible.filter((x) => x.target.includes(SERIAL))).toEqual([]);
    const rollbackView = await readRun(join(dir, 'runs', undo.outcome.runId));
    const deleted = [...rollbackView.ops.keys()].filter((id) => id.startsWith(`rollback/${bulk!.op}/`)).map((id) => id.slice(`rollback/${bulk!.op}/`.length));
    expect(deleted.sort()).toEqual(Object.keys(devices).sort());
    expect(inventory()).toEqual(pristine);
  }, 60_000);

  it("a serial the inventory did hold (zoe's) is journaled in before.present, as before", async () => {
    await uploadToZoe();
    const r = await applyFile(g, planFile, stateDir(), { tokenPath: 'bulk', skipStale: true });
    const view = await readRun(r.outcome.runDir);
    const bulk = [...view.ops.values()].find((o) => /^tokens\/[0-9a-f]+$/.test(o.op))!;
    expect(bulk.before).toEqual({ present: [SERIAL] });
  }, 60_000);
});
