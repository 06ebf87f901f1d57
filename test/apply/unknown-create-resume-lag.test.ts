import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRun } from '../../src/apply/journal.js';
import { connectGraph } from '../../src/graph/connect.js';
import { serialKey } from '../../src/model/serial.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, resumeIn, runDirs, tempDir } from '../helpers/migration.js';
import type { Snapshot } from '../helpers/tenant-checks.js';

/**
 * A lead from the review of a bulk create left failed with its outcome unknown: a resume soon after
 * a token create whose answer was lost must not look its serials up (and create what it does not
 * find) while Graph may still hide the tokens that create made. Graph here hides new tokens for
 * 5 s (50 s time-scaled by 10); the client's consistency window is 6 s. The run's first token
 * create is applied and answered 504, and every request after it is refused (its read-back
 * included: it is journaled failed with its outcome unknown); the resume starts at once, well
 * within the lag. Left `started` (a crash) it is read back until the window is over; left `failed`
 * with its outcome unknown it must be held alike, on the bulk path and the single one.
 */
const tmp = tempDir('unknown-create-resume-lag');
afterAll(() => tmp.cleanup());
const WINDOW = { capMs: 300, consistencyMs: 6_000 };
let n = 0;

interface BatchItem {
  id: string;
  method: string;
  url: string;
  body?: { serialNumber?: string; value?: { serialNumber: string }[] };
}

const isTokenCreate = (i: BatchItem) => (i.method === 'PATCH' || i.method === 'POST') && /hardwareOathDevices$/.test(i.url);

/** Graph behind a proxy that forwards the first batch holding a token create, answers it 504, and refuses everything after it until heal(). */
function lossyCreate(g: FakeGraph) {
  let state: 'armed' | 'refusing' | 'healed' = 'armed';
  const serials: string[] = [];
  let madeAt = 0;
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    if (state === 'refusing') return Response.json({ error: { code: 'Authorization_RequestDenied', message: 'refused by the proxy' } }, { status: 403 });
    if (state === 'armed' && url.endsWith('/$batch') && init?.body) {
      const creates = (JSON.parse(String(init.body)) as { requests: BatchItem[] }).requests.filter(isTokenCreate);
      if (creates.length > 0) {
        state = 'refusing';
        for (const c of creates) serials.push(...(c.body?.value ?? [c.body ?? {}]).map((d) => String(d.serialNumber)));
        await g.emu.fetch(input, init);
        madeAt = performance.now();
        return Response.json({ error: { code: 'GatewayTimeout', message: 'the proxy timed out' } }, { status: 504 });
      }
    }
    return g.emu.fetch(input, init);
  };
  return {
    graph: connectGraph({ graphUrl: g.emu.url, fetch, readOnly: false, concurrency: 4, retry: WINDOW }),
    serials,
    madeAt: () => madeAt,
    heal: () => {
      state = 'healed';
    },
  };
}

/** The inventory's tokens of `serials`, hidden ones included (the emulator's whole state). */
const devicesOf = (g: FakeGraph, serials: readonly string[]) => {
  const keys = new Set(serials.map(serialKey));
  return ((g.emu.snapshot() as Snapshot).hardwareOathDevices as { id: string; serialNumber: string }[]).filter((d) => keys.has(serialKey(d.serialNumber)));
};

async function lostCreateThenResume(tokenPath: 'bulk' | 'single', leftStarted: boolean) {
  const g = fakeGraph({ behaviour: { replicationLagSeconds: 50 }, timeScale: 10 });
  const dir = join(tmp.dir, `case${++n}`);
  await planTo(g, `${dir}.plan`);
  const lossy = lossyCreate(g);
  const { outcome } = await applyFile(g, `${dir}.plan`, dir, { graph: lossy.graph, tokenPath });
  lossy.heal();
  const runDir = runDirs(dir)[0]!;
  const ops = [...(await readRun(runDir)).ops.values()];
  const lost = ops.filter((r) => (r.op.startsWith('tokens/') || r.op.endsWith('/create')) && r.outcomeUnknown);
  expect(lossy.serials.length).toBeGreaterThan(0);
  expect(lost.length).toBeGreaterThan(0);
  for (const r of lost) expect(r).toMatchObject({ state: 'failed', outcomeUnknown: true });
  if (leftStarted) {
    // As a kill leaves it: the journal ends after the create's `started` line.
    const journal = join(runDir, 'journal.jsonl');
    const lines = readFileSync(journal, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.includes(`"op":"${lost[0]!.op}","state":"started"`));
    expect(at).toBeGreaterThan(0);
    writeFileSync(journal, `${lines.slice(0, at + 1).join('\n')}\n`);
  }
  // Graph made them, and still hides them from the inventory: the resume starts within the lag.
  expect(devicesOf(g, lossy.serials)).toHaveLength(lossy.serials.length);
  const listed = await g.raw.get('/beta/directory/authenticationMethodDevices/hardwareOathDevices');
  expect(listed.status).toBe(200);
  const keys = new Set(lossy.serials.map(serialKey));
  expect((listed.body.value as { serialNumber: string }[]).filter((d) => keys.has(serialKey(d.serialNumber)))).toEqual([]);
  const resumedAfter = performance.now() - lossy.madeAt();
  expect(resumedAfter).toBeLessThan(4_000);
  const resumed = await resumeIn(g, dir, { runId: outcome.runId, connect: () => g.client({ retry: WINDOW }) });
  return { g, runDir, lost, resumed, serials: lossy.serials };
}

describe.concurrent('a token create whose answer was lost, resumed while Graph still hides what it made', () => {
  for (const tokenPath of ['bulk', 'single'] as const) {
    for (const leftStarted of [false, true]) {
      it(`${tokenPath} path, left ${leftStarted ? 'started (a crash)' : 'failed with its outcome unknown'}: no serial is created twice, and the run is credited with what it made`, async () => {
        const { g, runDir, lost, resumed, serials } = await lostCreateThenResume(tokenPath, leftStarted);
        // One token of each serial: the resume found what the lost create made, it did not make it again.
        for (const s of serials) expect(devicesOf(g, [s]), `tokens of serial ${s}`).toHaveLength(1);
        expect(resumed.outcome.state).toBe('completed');
        const run = await readRun(runDir);
        for (const r of lost) expect(run.ops.get(r.op)?.state).toBe('done');
        if (tokenPath === 'bulk') {
          const devices = run.ops.get(lost[0]!.op)?.result?.devices as Record<string, string>;
          expect(Object.keys(devices).sort()).toEqual([...serials].sort());
        }
      }, 60_000);
    }
  }
});
