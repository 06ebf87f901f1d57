import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRun } from '../../src/apply/journal.js';
import { appliedInPart } from '../../src/apply/rollback-settle.js';
import { runReport } from '../../src/app/report.js';
import { connectGraph } from '../../src/graph/connect.js';
import { serialKey } from '../../src/model/serial.js';
import { renderRunReportMarkdown } from '../../src/report/render-run-report.js';
import { isBulkCreate, type BatchItem } from '../helpers/graph-proxies.js';
import { type FakeGraph } from '../helpers/graph.js';
import { applyFile, rollbackIn, runDirs, tempDir, planOfUntouched } from '../helpers/migration.js';
import type { Snapshot } from '../helpers/tenant-checks.js';

/**
 * A bulk token create Graph applied only in part (its answer lost mid-way), then rolled back with no
 * resume: the rollback reads back every serial it sent, credits the run with those found, and
 * deletes them. Read as the executor reads it (stopping at the first serial missing), it was
 * journaled not applied, and the rollback completed leaving the tokens made in the inventory.
 */
const tmp = tempDir('rollback-settle-bulk');
afterAll(() => tmp.cleanup());
let n = 0;


/**
 * Graph behind a proxy that forwards the batch holding the bulk create with only the first `share`
 * of its tokens (none: not forwarded), answers it 504, and refuses everything after it until heal().
 */
function lossyBulk(g: FakeGraph, share: 'half' | 'none') {
  let state: 'armed' | 'refusing' | 'healed' = 'armed';
  const sent: string[] = [];
  const made: string[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    if (state === 'refusing') return Response.json({ error: { code: 'Authorization_RequestDenied', message: 'refused by the proxy' } }, { status: 403 });
    if (state === 'armed' && url.endsWith('/$batch') && init?.body) {
      const batch = JSON.parse(String(init.body)) as { requests: BatchItem[] };
      const bulk = batch.requests.find(isBulkCreate);
      if (bulk) {
        state = 'refusing';
        const tokens = bulk.body?.value ?? [];
        sent.push(...tokens.map((d) => d.serialNumber));
        if (share === 'half') {
          bulk.body!.value = tokens.slice(0, Math.floor(tokens.length / 2));
          made.push(...bulk.body!.value.map((d) => d.serialNumber));
          await g.emu.fetch(input, { ...init, body: JSON.stringify(batch) });
        }
        return Response.json({ error: { code: 'GatewayTimeout', message: 'the proxy timed out' } }, { status: 504 });
      }
    }
    return g.emu.fetch(input, init);
  };
  return {
    graph: connectGraph({ graphUrl: g.emu.url, fetch, readOnly: false, concurrency: 4, retry: { capMs: 300 } }),
    sent,
    made,
    heal: () => {
      state = 'healed';
    },
  };
}

const inventory = (g: FakeGraph) => (g.emu.snapshot() as Snapshot).hardwareOathDevices as { id: string; serialNumber: string }[];
const devicesOf = (g: FakeGraph, serials: readonly string[]) => {
  const keys = new Set(serials.map(serialKey));
  return inventory(g).filter((d) => keys.has(serialKey(d.serialNumber)));
};

/** Applies a plan on the bulk token path whose bulk create the proxy loses (`share` of it made), then heals the proxy. */
async function lostBulkCreate(share: 'half' | 'none') {
  const dir = join(tmp.dir, `case${++n}`);
  const { g } = await planOfUntouched(`${dir}.plan`);
  const before = inventory(g).map((d) => d.id);
  const lossy = lossyBulk(g, share);
  const { outcome } = await applyFile(g, `${dir}.plan`, dir, { graph: lossy.graph, tokenPath: 'bulk' });
  lossy.heal();
  const runDir = runDirs(dir)[0]!;
  const bulk = [...(await readRun(runDir)).ops.values()].find((r) => r.op.startsWith('tokens/'))!;
  expect(bulk).toMatchObject({ state: 'failed', outcomeUnknown: true });
  expect(lossy.sent.length).toBeGreaterThan(1);
  return { g, dir, runDir, outcome, bulk, before, sent: lossy.sent, made: lossy.made };
}

describe('a rollback of a run whose bulk token create Graph applied in part, its answer lost', () => {
  it('credits the run with the tokens found, deletes them, and journals the create done, applied in part', async () => {
    const { g, dir, runDir, outcome, bulk, before, sent, made } = await lostBulkCreate('half');
    // Graph made half of them, and the run does not know it.
    const madeDevices = devicesOf(g, made);
    expect(madeDevices.map((d) => d.serialNumber).sort()).toEqual([...made].sort());
    expect(made.length).toBeGreaterThan(0);
    expect(made.length).toBeLessThan(sent.length);

    const back = await rollbackIn(g, dir, outcome.runId);
    expect(back.outcome.state).toBe('completed');
    // The half made are gone from the inventory; nothing else the inventory held was touched.
    expect(devicesOf(g, sent)).toEqual([]);
    expect(inventory(g).map((d) => d.id).sort()).toEqual([...before].sort());
    // The serials never made are not said to be left in place (they are nowhere).
    const unmade = new Set(sent.filter((s) => !made.includes(s)).map(serialKey));
    expect(back.outcome.notReversible.filter((x) => unmade.has(serialKey(x.target.split('/')[1] ?? '')))).toEqual([]);

    const record = (await readRun(runDir)).ops.get(bulk.op)!;
    expect(record).toMatchObject({ state: 'done', readBack: appliedInPart(made.length, sent.length) });
    expect(record.result?.devices).toEqual(Object.fromEntries(madeDevices.map((d) => [d.serialNumber, d.id])));
    expect([...(record.result?.notFound as string[])].sort()).toEqual(sent.filter((s) => !made.includes(s)).sort());
    // The run's report shows it done, read back in part.
    const report = await runReport(outcome.runId, dir);
    expect(report.shared.find((o) => o.op === bulk.op)).toMatchObject({ state: 'done', read_back: appliedInPart(made.length, sent.length) });
    expect(report.run.read_back).toEqual([expect.objectContaining({ applied: 1 })]);
    expect(renderRunReportMarkdown(report)).toContain(`done (read back: ${appliedInPart(made.length, sent.length)})`);
  });

  it('none made: journaled not applied, and nothing is deleted', async () => {
    const { g, dir, runDir, outcome, bulk, before, sent } = await lostBulkCreate('none');
    expect(devicesOf(g, sent)).toEqual([]);

    const back = await rollbackIn(g, dir, outcome.runId);
    expect(back.outcome.state).toBe('completed');
    expect(inventory(g).map((d) => d.id).sort()).toEqual([...before].sort());
    const record = (await readRun(runDir)).ops.get(bulk.op)!;
    expect(record).toMatchObject({ state: 'failed', error: 'read back by rollback: not applied', outcomeUnknown: false });
  });
});
