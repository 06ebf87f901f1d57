import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRun } from '../../src/apply/journal.js';
import { applyFile, rollbackIn } from '../helpers/migration.js';
import { newMobileForChen, plannedContoso, SERIAL, uploadToZoe } from '../helpers/stale-chen.js';

/**
 * An auditor's black-box round: the bulk token create's journaled `before.present`, "what the
 * inventory held before it", listed the serial of a user left out as stale (--skip-stale), which the
 * inventory never held.
 */
describe('apply --skip-stale with tokens in bulk: what the bulk create left out for a user left out as stale', () => {
  const t = plannedContoso('bulk-left-out');

  it("the bulk create's before.present holds what the inventory held, not a stale user's serial (journaled apart, as left out); its rollback undoes exactly what it made", async () => {
    const pristine = (t.g.emu.snapshot() as { hardwareOathDevices: unknown[] }).hardwareOathDevices;
    await newMobileForChen(t.g);
    const dir = t.stateDir();
    const r = await applyFile(t.g, t.planFile, dir, { tokenPath: 'bulk', skipStale: true });
    expect(r.outcome.staleUsers.first).toEqual(['chen@contoso.com']);
    const view = await readRun(r.outcome.runDir);
    const [bulk, ...more] = [...view.ops.values()].filter((o) => /^tokens\/[0-9a-f]+$/.test(o.op));
    expect(more).toEqual([]);
    const devices = bulk!.result!.devices as Record<string, string>;
    expect(Object.keys(devices)).not.toContain(SERIAL);
    // The inventory held none of the plan's serials: chen's is left out as his user was, not "present".
    expect(bulk!.before).toEqual({ present: [], leftOut: [SERIAL] });
    const inventory = () => (t.g.emu.snapshot() as { hardwareOathDevices: { id: string; serialNumber: string }[] }).hardwareOathDevices;
    expect(inventory().filter((d) => d.serialNumber === SERIAL)).toEqual([]);

    const undo = await rollbackIn(t.g, dir, r.outcome.runId);
    expect(undo.outcome.state).toBe('completed');
    // Every token it made deleted, nothing said of chen's serial (never made, never the run's).
    expect(undo.outcome.notReversible.filter((x) => x.target.includes(SERIAL))).toEqual([]);
    const rollbackView = await readRun(join(dir, 'runs', undo.outcome.runId));
    const deleted = [...rollbackView.ops.keys()].filter((id) => id.startsWith(`rollback/${bulk!.op}/`)).map((id) => id.slice(`rollback/${bulk!.op}/`.length));
    expect(deleted.sort()).toEqual(Object.keys(devices).sort());
    expect(inventory()).toEqual(pristine);
  }, 60_000);

  it("a serial the inventory did hold (zoe's) is journaled in before.present, as before", async () => {
    await uploadToZoe(t.g);
    const r = await applyFile(t.g, t.planFile, t.stateDir(), { tokenPath: 'bulk', skipStale: true });
    const view = await readRun(r.outcome.runDir);
    const bulk = [...view.ops.values()].find((o) => /^tokens\/[0-9a-f]+$/.test(o.op))!;
    expect(bulk.before).toEqual({ present: [SERIAL] });
  }, 60_000);
});
