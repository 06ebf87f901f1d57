import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRun } from '../../src/apply/journal.js';
import { bulkLeftReason } from '../../src/apply/rollback-inverses.js';
import { connectGraph } from '../../src/graph/connect.js';
import { renderRollbackSummary } from '../../src/cli/views/apply-summary.js';
import { devicesOf, isBulkCreate, type BatchItem } from '../helpers/graph-proxies.js';
import { type FakeGraph } from '../helpers/graph.js';
import { applyFile, resumeIn, rollbackIn, runDirs, tempDir, planOfUntouched } from '../helpers/migration.js';

/**
 * A review's finding: a bulk token create an earlier pass left `failed` was credited on resume with
 * every token found beyond its journaled `before.present`, also when Graph had refused its send
 * outright (a 400: nothing made). An admin who uploaded the same tokens to the inventory meanwhile
 * then had them in the run's result, and the rollback deleted them. Only a create an earlier send of
 * which may have made tokens is credited: left started, failed with its outcome unknown, or failed
 * after such a send (a lost answer, then a re-send refused: journaled `earlierSendMayHaveMade`).
 */
const tmp = tempDir('bulk-refused-resume');
afterAll(() => tmp.cleanup());
let n = 0;

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const refused = (id: string) => ({ id, status: 400, headers: {}, body: { error: { code: 'badRequest', message: 'refused' } } });

/**
 * Graph behind a proxy that meets the bulk create's sends with `answers`, one per send, in order
 * (after them, forwarded): `refuse`, its $batch item answered 400 and not forwarded; `lose`, half of
 * its tokens forwarded (Graph makes them) and its $batch answered 504 (the answer lost).
 */
function proxied(g: FakeGraph, answers: ('refuse' | 'lose')[]) {
  /** Each send's tokens as sent (their seeds included: what an admin holding the same tokens uploads). */
  const sent: Record<string, unknown>[][] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    const batch = url.endsWith('/$batch') && init?.body ? (JSON.parse(String(init.body)) as { requests: BatchItem[] }) : undefined;
    const bulk = batch?.requests.find(isBulkCreate);
    const answer = bulk ? answers.shift() : undefined;
    if (!bulk || !answer) return g.emu.fetch(input, init);
    const tokens = (bulk.body?.value ?? []) as unknown as Record<string, unknown>[];
    sent.push(tokens);
    if (answer === 'lose') {
      const half = { ...bulk, body: { ...bulk.body, value: tokens.slice(0, Math.ceil(tokens.length / 2)) } };
      await g.emu.fetch(input, { ...init, body: JSON.stringify({ requests: batch!.requests.map((r) => (r === bulk ? half : r)) }) });
      return json({ error: { code: 'GatewayTimeout', message: 'the proxy timed out' } }, 504);
    }
    const rest = batch!.requests.filter((r) => r !== bulk);
    const forwarded = rest.length > 0 ? ((await (await g.emu.fetch(input, { ...init, body: JSON.stringify({ requests: rest }) })).json()) as { responses: unknown[] }).responses : [];
    return json({ responses: [...forwarded, refused(bulk.id)] });
  };
  return { graph: connectGraph({ graphUrl: g.emu.url, fetch, readOnly: false, concurrency: 4, retry: { capMs: 300 } }), sent };
}


async function planned() {
  const dir = join(tmp.dir, `case${++n}`);
  const { g } = await planOfUntouched(`${dir}.plan`);
  return { g, dir };
}

describe('a bulk token create Graph refused outright, resumed and rolled back', () => {
  it("refused (400), then an admin uploads the same tokens: the resume does not credit them to the run, and the rollback leaves them in the inventory, saying nothing of deleting them", async () => {
    const { g, dir } = await planned();
    const proxy = proxied(g, ['refuse']);
    const { outcome } = await applyFile(g, `${dir}.plan`, dir, { graph: proxy.graph, tokenPath: 'bulk' });
    const runDir = runDirs(dir)[0]!;
    const bulk = [...(await readRun(runDir)).ops.values()].find((r) => r.op.startsWith('tokens/'))!;
    // As the reviewer's journal: a definite refusal, nothing in the inventory before it, no earlier send that may have made any.
    expect(bulk).toMatchObject({ state: 'failed', before: { present: [] }, error: expect.stringMatching(/^400 badRequest: refused/) });
    expect(bulk.outcomeUnknown).toBeUndefined();
    expect(bulk.earlierSendMayHaveMade).toBeUndefined();
    const tokens = proxy.sent[0]!;
    const serials = tokens.map((t) => String(t.serialNumber));
    expect(serials.length).toBeGreaterThan(1);
    expect(devicesOf(g, serials)).toEqual([]);

    // An admin uploads the same tokens to the inventory.
    for (const t of tokens) expect((await g.raw.post('/beta/directory/authenticationMethodDevices/hardwareOathDevices', t)).status).toBe(201);
    const theirs = devicesOf(g, serials).map((d) => d.id).sort();
    expect(theirs).toHaveLength(serials.length);

    const resumed = await resumeIn(g, dir, { runId: outcome.runId });
    expect(resumed.outcome.state).toBe('completed');
    const record = (await readRun(runDir)).ops.get(bulk.op)!;
    // Done, none of them the run's: not "made by an earlier attempt", no device ids; said found, not made.
    expect(record.state).toBe('done');
    expect(record.readBack).toBeUndefined();
    expect(record.result?.devices).toEqual({});
    expect([...(record.result?.foundNotMade as string[])].sort()).toEqual([...serials].sort());

    const back = await rollbackIn(g, dir, outcome.runId);
    expect(back.outcome.failures).toEqual([]);
    expect(back.outcome.state).toBe('completed');
    // The admin's tokens stay in the inventory (the run's assignment and activation of them taken back).
    expect(devicesOf(g, serials).map((d) => [d.id, d.assignedTo]).sort()).toEqual(theirs.map((id) => [id, null]));
    // Said as someone else's, staying: nothing of deleting them.
    const said = back.outcome.notReversible.filter((x) => serials.some((s) => x.target === `hardwareOathMethods/${s}`));
    expect(said.map((x) => x.reason)).toEqual(serials.map(() => bulkLeftReason('found')));
    const summary = renderRollbackSummary(back.outcome, dir, undefined);
    for (const line of summary.split('\n').filter((l) => serials.some((s) => l.includes(s)))) expect(line).not.toMatch(/delet/i);
    const view = await readRun(join(dir, 'runs', back.outcome.runId));
    expect([...view.ops.keys()].filter((id) => id.startsWith('rollback/tokens/'))).toEqual([]);
  });

  it('its answer lost (half made), then sent again and refused within the pass: journaled so, the resume credits the run with what the lost send made, and the rollback deletes them', async () => {
    const { g, dir } = await planned();
    const proxy = proxied(g, ['lose', 'refuse']);
    const { outcome } = await applyFile(g, `${dir}.plan`, dir, { graph: proxy.graph, tokenPath: 'bulk' });
    const runDir = runDirs(dir)[0]!;
    const bulk = [...(await readRun(runDir)).ops.values()].find((r) => r.op.startsWith('tokens/'))!;
    // Sent twice: the second send (the rest of its serials, looked up again) refused outright.
    expect(proxy.sent).toHaveLength(2);
    const serials = proxy.sent[0]!.map((t) => String(t.serialNumber));
    const madeByLost = devicesOf(g, serials);
    expect(madeByLost.length).toBe(Math.ceil(serials.length / 2));
    expect(proxy.sent[1]!.map((t) => String(t.serialNumber)).sort()).toEqual(serials.filter((s) => !madeByLost.some((d) => d.serialNumber === s)).sort());
    // A definite refusal, yet the lost send made tokens: said in the journal.
    expect(bulk).toMatchObject({ state: 'failed', before: { present: [] }, error: expect.stringMatching(/^400 badRequest: refused/), earlierSendMayHaveMade: true });
    expect(bulk.outcomeUnknown).toBeUndefined();

    const resumed = await resumeIn(g, dir, { runId: outcome.runId });
    expect(resumed.outcome.state).toBe('completed');
    const record = (await readRun(runDir)).ops.get(bulk.op)!;
    expect(record.state).toBe('done');
    expect(record.earlierSendMayHaveMade).toBeUndefined();
    // Every serial once, each the run's: what the lost send made and what the resume's send made.
    const all = devicesOf(g, serials);
    expect(all).toHaveLength(serials.length);
    expect(record.result?.devices).toEqual(Object.fromEntries(all.map((d) => [d.serialNumber, d.id])));
    for (const d of madeByLost) expect((record.result?.devices as Record<string, string>)[d.serialNumber]).toBe(d.id);

    const back = await rollbackIn(g, dir, outcome.runId);
    expect(back.outcome.state).toBe('completed');
    expect(devicesOf(g, serials)).toEqual([]);
  });
  it("refused (400), an admin uploads one of its tokens, then the resume's own send is lost (half made): the resume credits only what it made, and the rollback leaves the admin's token (a review)", async () => {
    const { g, dir } = await planned();
    const proxy = proxied(g, ['refuse', 'lose']);
    const { outcome } = await applyFile(g, `${dir}.plan`, dir, { graph: proxy.graph, tokenPath: 'bulk' });
    const runDir = runDirs(dir)[0]!;
    const bulk = [...(await readRun(runDir)).ops.values()].find((r) => r.op.startsWith('tokens/'))!;
    expect(bulk).toMatchObject({ state: 'failed', before: { present: [] } });
    const tokens = proxy.sent[0]!;
    const serials = tokens.map((t) => String(t.serialNumber));
    // An admin uploads the last of them (not in the half the lost send makes).
    const upload = tokens.at(-1)!;
    expect((await g.raw.post('/beta/directory/authenticationMethodDevices/hardwareOathDevices', upload)).status).toBe(201);
    const [theirs] = devicesOf(g, [String(upload.serialNumber)]);

    const resumed = await resumeIn(g, dir, { runId: outcome.runId, connect: () => proxy.graph });
    // The resume's send left the admin's serial out, and its answer was lost.
    expect(proxy.sent).toHaveLength(2);
    expect(proxy.sent[1]!.map((t) => String(t.serialNumber))).not.toContain(String(upload.serialNumber));
    const record = (await readRun(runDir)).ops.get(bulk.op)!;
    const credited = (record.result?.devices ?? {}) as Record<string, string>;
    expect(Object.values(credited)).not.toContain(theirs!.id);
    expect(Object.keys(credited).length).toBeGreaterThan(0);
    expect(resumed.outcome.state).not.toBe('interrupted');

    await rollbackIn(g, dir, outcome.runId);
    // The admin's token stays in the inventory; what the run made is gone.
    expect(devicesOf(g, serials).map((d) => d.id)).toEqual([theirs!.id]);
  });
});
