import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRun } from '../../src/apply/journal.js';
import { connectGraph } from '../../src/graph/connect.js';
import { serialKey } from '../../src/model/serial.js';
import { devicesOf, isBulkCreate, type BatchItem } from '../helpers/graph-proxies.js';
import { type FakeGraph } from '../helpers/graph.js';
import { applyFile, resumeIn, rollbackIn, runDirs, tempDir, planOfUntouched } from '../helpers/migration.js';
import type { Snapshot } from '../helpers/tenant-checks.js';

/**
 * A review's lead: a bulk token create that Graph applied but whose answer was lost, journaled
 * failed with its outcome unknown, was settled by the resume's lookup of its serials (all found)
 * with no device ids: the rollback then had none to delete, and left the run's tokens in the
 * inventory. Here the run's bulk create is applied and answered 504, and every request after it is
 * refused (its read-back included) until the proxy is healed; then the run is resumed and rolled back.
 */
const tmp = tempDir('bulk-unknown-resume');
afterAll(() => tmp.cleanup());
let n = 0;


/** Graph behind a proxy that forwards the batch holding the bulk create, answers it 504, and refuses everything after it until heal(). */
function lossyBulk(g: FakeGraph) {
  let state: 'armed' | 'refusing' | 'healed' = 'armed';
  const serials: string[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    if (state === 'refusing') return Response.json({ error: { code: 'Authorization_RequestDenied', message: 'refused by the proxy' } }, { status: 403 });
    if (state === 'armed' && url.endsWith('/$batch') && init?.body) {
      const bulk = (JSON.parse(String(init.body)) as { requests: BatchItem[] }).requests.find(isBulkCreate);
      if (bulk) {
        state = 'refusing';
        serials.push(...(bulk.body?.value ?? []).map((d) => d.serialNumber));
        await g.emu.fetch(input, init);
        return Response.json({ error: { code: 'GatewayTimeout', message: 'the proxy timed out' } }, { status: 504 });
      }
    }
    return g.emu.fetch(input, init);
  };
  return {
    graph: connectGraph({ graphUrl: g.emu.url, fetch, readOnly: false, concurrency: 4, retry: { capMs: 300 } }),
    /** The serials the bulk create answered 504 made. */
    serials,
    heal: () => {
      state = 'healed';
    },
  };
}


/**
 * Applies a plan on the bulk token path whose bulk create is applied, its answer lost and its
 * read-back refused. `change` changes the tenant after the plan is made, before the apply.
 */
async function lostBulkCreate(change?: (g: FakeGraph, creates: string[]) => Promise<void>) {
  const dir = join(tmp.dir, `case${++n}`);
  const { g, plan } = await planOfUntouched(`${dir}.plan`);
  const creates = plan.user_changes.filter((c) => c.action === 'create' && c.resource.startsWith('hardwareOathMethods/')).map((c) => c.resource.split('/')[1]!);
  await change?.(g, creates);
  const before = new Set(((g.emu.snapshot() as Snapshot).hardwareOathDevices as { id: string }[]).map((d) => d.id));
  const lossy = lossyBulk(g);
  // What the hook changed is stale: its user is left out, the others written.
  const { outcome } = await applyFile(g, `${dir}.plan`, dir, { graph: lossy.graph, tokenPath: 'bulk', skipStale: change !== undefined });
  lossy.heal();
  const runDir = runDirs(dir)[0]!;
  const bulk = [...(await readRun(runDir)).ops.values()].find((r) => r.op.startsWith('tokens/'))!;
  // Graph made them, and the run does not know it.
  expect(lossy.serials.length).toBeGreaterThan(0);
  const made = devicesOf(g, lossy.serials).filter((d) => !before.has(d.id));
  expect(made.map((d) => d.serialNumber).sort()).toEqual([...lossy.serials].sort());
  return { g, dir, runDir, outcome, bulk, serials: lossy.serials, made };
}

describe('a bulk token create Graph applied whose answer was lost, then resumed and rolled back', () => {
  it('journaled failed with its outcome unknown: the resume credits the run with the devices it made, and the rollback deletes them', async () => {
    const { g, dir, runDir, outcome, bulk, serials, made } = await lostBulkCreate();
    expect(bulk).toMatchObject({ state: 'failed', outcomeUnknown: true });

    const resumed = await resumeIn(g, dir, { runId: outcome.runId });
    expect(resumed.outcome.state).toBe('completed');
    const record = (await readRun(runDir)).ops.get(bulk.op)!;
    // Read back first, as one left started is (test/apply/unknown-create-resume-lag.test.ts: not looked up and sent at once).
    expect(record).toMatchObject({ state: 'done', readBack: 'sent by an earlier run, its outcome unknown' });
    // Every device the lost send made, by its serial: none twice, none another's.
    expect(record.result?.devices).toEqual(Object.fromEntries(made.map((d) => [d.serialNumber, d.id])));
    expect(devicesOf(g, serials)).toHaveLength(serials.length);

    const back = await rollbackIn(g, dir, outcome.runId);
    expect(back.outcome.state).toBe('completed');
    expect(devicesOf(g, serials)).toEqual([]);
  });

  it('left started by a crash: the resume reads it back, credits the run with its devices, and the rollback deletes them', async () => {
    const { g, dir, runDir, outcome, bulk, serials, made } = await lostBulkCreate();
    // As a kill leaves it: the journal ends after the bulk create's `started` line.
    const journal = join(runDir, 'journal.jsonl');
    const lines = readFileSync(journal, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.includes(`"op":"${bulk.op}","state":"started"`));
    expect(at).toBeGreaterThan(0);
    writeFileSync(journal, `${lines.slice(0, at + 1).join('\n')}\n`);
    expect((await readRun(runDir)).ops.get(bulk.op)?.state).toBe('started');

    const resumed = await resumeIn(g, dir, { runId: outcome.runId });
    expect(resumed.outcome.state).toBe('completed');
    const record = (await readRun(runDir)).ops.get(bulk.op)!;
    expect(record).toMatchObject({ state: 'done', readBack: 'left started by an earlier run' });
    expect(record.result?.devices).toEqual(Object.fromEntries(made.map((d) => [d.serialNumber, d.id])));

    const back = await rollbackIn(g, dir, outcome.runId);
    expect(back.outcome.state).toBe('completed');
    expect(devicesOf(g, serials)).toEqual([]);
  });

  it('a token of one of its serials put in the inventory after the plan is not the run\'s: not credited, and not deleted by the rollback', async () => {
    let theirs = '';
    let serial = '';
    const { g, dir, runDir, outcome, bulk, serials, made } = await lostBulkCreate(async (g, creates) => {
      serial = creates[0]!;
      const res = await g.raw.post('/beta/directory/authenticationMethodDevices/hardwareOathDevices', { serialNumber: serial, secretKey: 'IQXDAR3LZFFAIXFFSARVWEMANLLHJNFF', timeIntervalInSeconds: 30, hashFunction: 'hmacsha1', manufacturer: 'Contoso Tokens', model: 'CT-100' });
      expect(res.status).toBe(201);
      theirs = (res.body as { id: string }).id;
    });
    expect(bulk).toMatchObject({ state: 'failed', outcomeUnknown: true, before: { present: expect.arrayContaining([serialKey(serial)]) } });
    // The bulk create left it out.
    expect(serials).not.toContain(serial);

    await resumeIn(g, dir, { runId: outcome.runId });
    const record = (await readRun(runDir)).ops.get(bulk.op)!;
    expect(record.state).toBe('done');
    expect(record.result?.devices).toEqual(Object.fromEntries(made.map((d) => [d.serialNumber, d.id])));
    expect(Object.values(record.result?.devices as Record<string, string>)).not.toContain(theirs);

    await rollbackIn(g, dir, outcome.runId);
    expect(devicesOf(g, serials)).toEqual([]);
    expect(devicesOf(g, [serial]).map((d) => d.id)).toEqual([theirs]);
  });
});
