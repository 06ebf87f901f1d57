import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRun, requireIntactJournal } from '../../src/apply/journal.js';
import { exitStatus } from '../../src/cli/apply-command.js';
import { unrecordedLeftReason } from '../../src/apply/rollback-inverses.js';
import { renderRollbackSummary } from '../../src/cli/views/apply-summary.js';
import { serialKey } from '../../src/model/serial.js';
import { rechain } from '../helpers/graph-proxies.js';
import { type FakeGraph } from '../helpers/graph.js';
import { applyFile, rollbackIn, runDirs, tempDir, planOfUntouched } from '../helpers/migration.js';
import type { Snapshot } from '../helpers/tenant-checks.js';

/**
 * A review's finding: a run whose journal lacks the device id of a token it made (journaled by a
 * version before the bulk create's resume recorded them, `devices: {}`, or a token create done with no
 * id) was rolled back "completed" with the token's deactivate and unassign journaled gone already:
 * the hardware tokens stayed assigned to their users, activated, and in the inventory. Such a journal
 * is made here from a run of this version, its records edited and its hash chain written again as the
 * journal writer chains it (a journal of an older version is chained the same way).
 */
const tmp = tempDir('rollback-no-device');
afterAll(() => tmp.cleanup());
let n = 0;

interface Device {
  id: string;
  serialNumber: string;
  status: string;
  assignedTo: { id: string } | null;
}

const devices = (g: FakeGraph) => (g.emu.snapshot() as Snapshot).hardwareOathDevices as Device[];
const ofSerials = (g: FakeGraph, serials: readonly string[]) => {
  const keys = new Set(serials.map(serialKey));
  return devices(g).filter((d) => keys.has(serialKey(d.serialNumber)));
};

/**
 * Applies the sample plan on a token path, then takes the device ids of the tokens it made out of its
 * journal (the bulk creates' `devices`, the token creates' `deviceId`), as an older version left them.
 * Gives the tokens the run made, each with the user it was assigned to.
 */
async function runWithoutDeviceIds(tokenPath: 'bulk' | 'single') {
  const dir = join(tmp.dir, `case${++n}`);
  const { g, plan } = await planOfUntouched(`${dir}.plan`);
  const before = new Set(devices(g).map((d) => d.id));
  const { outcome } = await applyFile(g, `${dir}.plan`, dir, { tokenPath });
  expect(outcome.state).toBe('completed');
  const runDir = runDirs(dir)[0]!;
  const made = devices(g).filter((d) => !before.has(d.id));
  // Every token the run made is assigned to a user of the plan and activated.
  expect(made.length).toBeGreaterThan(1);
  for (const d of made) expect(d).toMatchObject({ status: 'activated', assignedTo: { id: expect.any(String) } });
  const creates = plan.user_changes.filter((c) => c.action === 'create' && c.resource.startsWith('hardwareOathMethods/')).map((c) => c.resource.split('/')[1]!);
  expect(made.map((d) => serialKey(d.serialNumber)).sort()).toEqual(creates.map(serialKey).sort());
  let edited = 0;
  rechain(join(runDir, 'journal.jsonl'), (op) => {
    const result = op.result as Record<string, unknown> | undefined;
    if (op.state !== 'done' || !result) return;
    if (String(op.op).startsWith('tokens/') && result.devices) {
      result.devices = {};
      edited++;
    }
    if (String(op.op).endsWith('/create') && result.deviceId) {
      delete result.deviceId;
      edited++;
    }
  });
  expect(edited).toBeGreaterThan(0);
  // The chain holds: the rollback takes the journal as written.
  await requireIntactJournal(runDir, outcome.runId);
  return { g, dir, runDir, outcome, made };
}

/** The UPN of the user a device is assigned to. */
const upnOf = (g: FakeGraph, d: Device) => ((g.emu.snapshot() as Snapshot).users as { id: string; userPrincipalName: string }[]).find((u) => u.id === d.assignedTo!.id)!.userPrincipalName;

/** What the users hold of the tokens (their hardware OATH methods), as JSON. */
const heldByUsers = (g: FakeGraph) => JSON.stringify(((g.emu.snapshot() as Snapshot).users as { methods: { hardwareOath: unknown[] } }[]).flatMap((u) => u.methods.hardwareOath));

describe("rollback of a run whose journal lacks a token's device id: the token is looked up by its serial, and never deleted from the inventory", () => {
  for (const tokenPath of ['bulk', 'single'] as const) {
    it(`${tokenPath} token path: deactivates and unassigns the tokens the run made, found by serial; leaves them in the inventory, said with their serials; completes`, async () => {
      const { g, dir, outcome, made } = await runWithoutDeviceIds(tokenPath);
      const users = new Map(made.map((d) => [d.serialNumber, upnOf(g, d)]));
      const back = await rollbackIn(g, dir, outcome.runId);
      expect(back.outcome.goneAlready).toEqual([]);
      expect(back.outcome.failures).toEqual([]);
      expect(back.outcome.changedSince).toEqual([]);
      expect(back.outcome.state).toBe('completed');
      expect(exitStatus(back.outcome, undefined)).toBe(0);
      // Not assigned, not activated: still in the inventory, where an admin deletes them if they are the run's.
      expect(ofSerials(g, made.map((d) => d.serialNumber)).map((d) => [d.id, d.assignedTo, d.status]).sort()).toEqual(made.map((d) => [d.id, null, 'available']).sort());
      expect(heldByUsers(g)).not.toMatch(new RegExp(made.map((d) => d.id).join('|')));
      // Said, each with its serial (a bulk create's with no user: the inventory's; a token create's with its user).
      const by = tokenPath === 'bulk' ? 'bulk create' : 'token create';
      expect(back.outcome.notReversible.filter((x) => x.reason === unrecordedLeftReason(x.target.split('/')[1]!, by)).map((x) => [x.user, x.target]).sort()).toEqual(
        made.map((d) => [tokenPath === 'bulk' ? undefined : users.get(d.serialNumber), `hardwareOathMethods/${d.serialNumber}`]).sort(),
      );
      const summary = renderRollbackSummary(back.outcome, dir, undefined);
      // (Past 20 lines, grouped by reason: each serial's reason names it.)
      for (const d of made) expect(summary).toContain(`the run's journal (written by an earlier version) does not record the id of the token of serial ${d.serialNumber} its ${by} made`);
      // No delete was sent; the id each undo was sent with is journaled with it, and says it was looked up.
      const view = await readRun(join(dir, 'runs', back.outcome.runId));
      const sent = [...view.ops.values()].filter((r) => made.some((d) => r.op.includes(`hardwareOathMethods/${d.serialNumber}/`) || r.op.endsWith(`/${d.serialNumber}`)));
      expect(sent.length).toBeGreaterThanOrEqual(made.length);
      expect(sent.filter((r) => r.op.endsWith('/delete') || r.op.startsWith('rollback/tokens/'))).toEqual([]);
      for (const r of sent) expect(r, r.op).toMatchObject({ state: 'done', before: { deviceLookup: 'found', deviceId: expect.any(String) } });
    });
  }

  it('a serial the tenant holds twice is not guessed: the undo is reported failed naming the serial and user, nothing of that serial is touched, exit 3; once the other is gone, the rollback finishes it', async () => {
    const { g, dir, outcome, made } = await runWithoutDeviceIds('bulk');
    const run = made[0]!;
    const user = upnOf(g, run);
    // Someone uploads a second token of that serial (Graph takes one serial twice).
    const res = await g.raw.post('/beta/directory/authenticationMethodDevices/hardwareOathDevices', { serialNumber: run.serialNumber, secretKey: 'IQXDAR3LZFFAIXFFSARVWEMANLLHJNFF', timeIntervalInSeconds: 30, hashFunction: 'hmacsha1', manufacturer: 'Contoso Tokens', model: 'CT-100' });
    expect(res.status).toBe(201);
    const theirs = (res.body as { id: string }).id;

    const back = await rollbackIn(g, dir, outcome.runId);
    expect(back.outcome.state).toBe('partial');
    expect(exitStatus(back.outcome, undefined)).toBe(3);
    expect(back.outcome.goneAlready).toEqual([]);
    const ids = `(${run.id}, ${theirs}|${theirs}, ${run.id})`;
    expect(back.outcome.failures).toEqual([
      {
        user,
        target: `hardwareOathMethods/${run.serialNumber}`,
        reason: expect.stringMatching(new RegExp(`^not undone: the run's journal does not record the id of the token of serial ${run.serialNumber} it assigned for ${user.replace(/\./g, '\\.')}, and the tenant holds 2 tokens of that serial \\(${ids}\\): the rollback does not guess, and touches none\\. `)),
      },
    ]);
    const summary = renderRollbackSummary(back.outcome, dir, undefined);
    expect(summary).toContain(`\n  failed: ${user} hardwareOathMethods/${run.serialNumber}: not undone: `);
    // An inventory delete's (no user) is the inventory's, not the policy's.
    expect(renderRollbackSummary({ ...back.outcome, failures: [{ target: 'hardwareOathMethods/X1', reason: 'r' }] }, dir, undefined)).toContain('\n  failed: inventory hardwareOathMethods/X1: r\n');
    // Both tokens of the serial as they were: the run's still assigned and activated, the other in the inventory.
    expect(ofSerials(g, [run.serialNumber]).map((d) => [d.id, d.status, d.assignedTo?.id ?? null]).sort()).toEqual(
      [
        [run.id, 'activated', run.assignedTo!.id],
        [theirs, 'available', null],
      ].sort(),
    );
    // The run's other tokens are taken back from their users, and left in the inventory.
    expect(ofSerials(g, made.slice(1).map((d) => d.serialNumber)).map((d) => [d.assignedTo, d.status])).toEqual(made.slice(1).map(() => [null, 'available']));
    // Offered to finish: once the other token is gone, the run's is found and taken back from its user (not deleted).
    expect(back.outcome.resumable).toBe(true);
    expect((await g.raw.delete(`/beta/directory/authenticationMethodDevices/hardwareOathDevices/${theirs}`)).status).toBe(204);
    const again = await rollbackIn(g, dir, back.outcome.runId);
    expect(again.outcome.failures).toEqual([]);
    expect(again.outcome.state).toBe('completed');
    expect(ofSerials(g, [run.serialNumber]).map((d) => [d.id, d.assignedTo, d.status])).toEqual([[run.id, null, 'available']]);
  });

  for (const tokenPath of ['bulk', 'single'] as const) {
    /**
     * A lead: a token of the serial deleted since the run was journaled gone already, yet still listed
     * `not reversible` with "it stays in the inventory ...; delete it there if it is the run's".
     */
    it(`${tokenPath} token path: a token of the serial found gone (deleted since the run) is gone already, not sent, and not listed as staying in the inventory`, async () => {
      const { g, dir, outcome, made } = await runWithoutDeviceIds(tokenPath);
      const run = made[0]!;
      const user = upnOf(g, run);
      expect((await g.raw.delete(`/beta/users/${run.assignedTo!.id}/authentication/hardwareOathMethods/${run.id}`)).status).toBe(204);
      expect((await g.raw.delete(`/beta/directory/authenticationMethodDevices/hardwareOathDevices/${run.id}`)).status).toBe(204);
      const back = await rollbackIn(g, dir, outcome.runId);
      expect(back.outcome.state).toBe('completed');
      const target = `hardwareOathMethods/${run.serialNumber}`;
      expect(back.outcome.goneAlready.map((x) => x.target)).toEqual(expect.arrayContaining([target]));
      expect(ofSerials(g, [run.serialNumber])).toEqual([]);
      expect(heldByUsers(g)).not.toMatch(new RegExp(made.map((d) => d.id).join('|')));
      // Gone, so not left in the inventory: said gone already (not reversible, found gone), as a deleted phone is.
      expect(back.outcome.notReversible.filter((x) => x.target === target)).toEqual([]);
      expect(back.outcome.goneAlready).toContainEqual({ ...(tokenPath === 'single' ? { user } : {}), target, notReversible: true });
      expect(renderRollbackSummary(back.outcome, dir, undefined)).not.toContain(`serial ${run.serialNumber} its`);
      // The run's other tokens, still there, are still said to stay.
      expect(back.outcome.notReversible.filter((x) => x.target.startsWith('hardwareOathMethods/')).map((x) => x.target).sort()).toEqual(made.slice(1).map((d) => `hardwareOathMethods/${d.serialNumber}`).sort());
      // Recorded so: the rollback's journal, and its report, hold it found gone.
      const { header } = await readRun(join(dir, 'runs', back.outcome.runId));
      expect(header.notReversible?.some((x) => x.target === target)).toBe(false);
      expect(header.notReversibleGone).toContainEqual({ ...(tokenPath === 'single' ? { user } : {}), target });
    });
  }

  it("a token of the run's serial an admin took from its user since (not known to be the run's) is left alone, --force or not: listed as left alone, not failed, exit 3", async () => {
    for (const force of [false, true]) {
      const { g, dir, outcome, made } = await runWithoutDeviceIds('bulk');
      const run = made[0]!;
      const user = upnOf(g, run);
      // The admin unassigns it (and may hand it to someone, or delete it): the rollback cannot tell it is still the run's.
      expect((await g.raw.delete(`/beta/users/${run.assignedTo!.id}/authentication/hardwareOathMethods/${run.id}`)).status).toBe(204);
      const back = await rollbackIn(g, dir, outcome.runId, { force });
      expect(back.outcome.failures, `force ${force}`).toEqual([]);
      expect(back.outcome.state).toBe('partial');
      expect(exitStatus(back.outcome, undefined)).toBe(3);
      expect(back.outcome.changedSince).toEqual([
        { user, target: `hardwareOathMethods/${run.serialNumber}`, reason: expect.stringMatching(/^the token is no longer assigned to the user: .* assigned to no one, .*not known to be the run's, left alone$/) },
        { user, target: `hardwareOathMethods/${run.serialNumber}`, reason: expect.stringMatching(/not known to be the run's, left alone$/) },
      ]);
      const summary = renderRollbackSummary(back.outcome, dir, undefined);
      expect(summary).toContain(`\n  left alone (changed since the run): ${user} hardwareOathMethods/${run.serialNumber}: the token is no longer assigned to the user`);
      expect(summary).not.toContain('failed:');
      // Untouched: in the inventory as the admin left it.
      expect(ofSerials(g, [run.serialNumber]).map((d) => [d.id, d.assignedTo])).toEqual([[run.id, null]]);
      // A second pass under --force leaves it alone again.
      if (force) {
        const again = await rollbackIn(g, dir, back.outcome.runId, { force: true });
        expect(again.outcome.failures).toEqual([]);
        expect(again.outcome.changedSince.map((x) => x.target)).toEqual([`hardwareOathMethods/${run.serialNumber}`, `hardwareOathMethods/${run.serialNumber}`]);
        expect(exitStatus(again.outcome, undefined)).toBe(3);
      }
    }
  });
});
