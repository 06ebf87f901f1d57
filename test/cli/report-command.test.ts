import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRun } from '../../src/apply/journal.js';
import { connectGraph } from '../../src/graph/connect.js';
import type { Plan } from '../../src/plan/plan-model.js';
import type { RunReport } from '../../src/report/run-report.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, rollbackIn, runDirs, tempDir } from '../helpers/migration.js';
import { runMain } from '../helpers/run-main.js';

/** Users whose mobile phone writes Graph refuses (an injected 400 with its own request id). */
const REFUSED = ['bob@contoso.com', 'igor@contoso.com'];

/**
 * A fetch over the fake Graph that answers the mobile phone writes of some users with Graph's
 * 400 error, as Graph answers a number it will not take: a final error, with a request id.
 */
function refusingFetch(g: FakeGraph, ids: ReadonlySet<string>): typeof fetch {
  let n = 0;
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const res = await g.emu.fetch(input, init);
    const url = String(input instanceof Request ? input.url : input);
    if (!url.endsWith('/$batch') || !init?.body) return res;
    const sent = JSON.parse(String(init.body)) as { requests: { id: string; method: string; url: string }[] };
    const body = (await res.json()) as { responses: { id: string; status: number; headers?: Record<string, string>; body?: unknown }[] };
    for (const r of body.responses) {
      const req = sent.requests.find((x) => x.id === r.id)!;
      if (req.method === 'GET' || !/phoneMethods/.test(req.url) || ![...ids].some((id) => req.url.includes(id))) continue;
      r.status = 400;
      r.headers = { 'Content-Type': 'application/json' };
      r.body = { error: { code: 'invalidRequest', message: 'The phone number is not valid.', innerError: { 'request-id': `injected-${++n}`, date: '2026-12-01T00:00:00' } } };
    }
    return new Response(JSON.stringify(body), { status: res.status, headers: res.headers });
  }) as typeof fetch;
}

describe('mfa-migrate report RUN_ID', () => {
  let g: FakeGraph;
  let tmp: ReturnType<typeof tempDir>;
  let stateDir: string;
  let runId: string;
  let plan: Plan;
  let journalHash: string | undefined;
  let report: RunReport;
  const file = (n: string) => join(tmp.dir, n);

  beforeAll(async () => {
    tmp = tempDir('run-report');
    g = fakeGraph();
    ({ plan } = await planTo(g, file('contoso.plan')));
    stateDir = file('state');
    const ids = new Set(REFUSED.map((u) => plan.users.find((x) => x.user === u)!.user_id!));
    const graph = connectGraph({ graphUrl: g.emu.url, fetch: refusingFetch(g, ids), readOnly: false, concurrency: 4, retry: { capMs: 300 } });
    const applied = await applyFile(g, file('contoso.plan'), stateDir, { graph });
    expect(applied.outcome.state).toBe('partial');
    journalHash = applied.outcome.journalHash;
    runId = runDirs(stateDir)[0]!.split('/').at(-1)!;
    const r = await runMain(['report', runId, '--state-dir', stateDir, '--format', 'json', '--report', file('run.html')]);
    expect(r.code, r.stderr).toBe(0);
    report = JSON.parse(r.stdout) as RunReport;
  }, 60_000);
  afterAll(() => tmp?.cleanup());

  it('lists every failed operation with the error and request id Graph gave, and what was skipped because of it', async () => {
    const view = await readRun(join(stateDir, 'runs', runId));
    const failedIds = [...view.ops].filter(([, r]) => r.state === 'failed').map(([id]) => id);
    expect(failedIds.length).toBe(REFUSED.length);
    const reported = report.users.flatMap((u) => u.operations.filter((o) => o.state === 'failed').map((o) => ({ user: u.user, ...o })));
    expect(reported.map((o) => o.op).sort()).toEqual(failedIds.sort());
    for (const o of reported) {
      expect(REFUSED).toContain(o.user);
      expect(o.error).toBe('400 invalidRequest: The phone number is not valid.');
      expect(o.request_id).toMatch(/^injected-\d+$/);
      expect(o.at).toMatch(/^\d{4}-\d\d-\d\dT/);
    }
    for (const u of REFUSED) expect(report.users.find((x) => x.user === u)!.outcome).toMatch(/^(failed|partial)$/);
    // The rest went through, each with the request id Graph answered it under.
    const done = report.users.flatMap((u) => u.operations.filter((o) => o.state === 'done'));
    expect(done.length).toBeGreaterThan(40);
    for (const o of done) expect(o.request_id, o.op).toMatch(/^[0-9a-f-]{36}$/);
    const html = readFileSync(file('run.html'), 'utf8');
    for (const o of reported) expect(html).toContain(`<td class="mono">${o.request_id}</td><td>400 invalidRequest: The phone number is not valid.</td>`);
    expect(html).toContain(`Failed and skipped operations (${report.users.flatMap((u) => u.operations).filter((o) => o.state === 'failed' || o.state === 'skipped').length})`);
  });

  it('accounts for every user of the plan once, and carries the plan hash and the verified final hash', () => {
    expect(report.users.map((u) => u.user)).toEqual(plan.users.map((u) => u.user));
    expect(report.users.find((u) => u.user === 'zoe@contoso.com')!.outcome).toBe('unchanged');
    expect(report.run).toMatchObject({ id: runId, kind: 'apply', state: 'partial', plan_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(report.journal).toEqual({ state: 'verified', final_hash: journalHash, lines: expect.any(Number), problem: null, edited: false, about: null });
    const html = readFileSync(file('run.html'), 'utf8');
    expect(html).toContain(`final hash ${journalHash}`);
    expect(html.match(/class="entry[^"]*" id="user-/g)).toHaveLength(plan.users.length);
  });

  it('shows the rollback of the run, and reports the rollback run itself', async () => {
    const { outcome } = await rollbackIn(g, stateDir, runId);
    const again = await runMain(['report', runId, '--state-dir', stateDir, '--format', 'json']);
    expect((JSON.parse(again.stdout) as RunReport).rollback.by).toEqual([{ id: outcome.runId, state: outcome.state, finished: expect.any(String) }]);
    const md = await runMain(['report', outcome.runId, '--state-dir', stateDir, '--report', file('rollback.md')]);
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toContain(`Rollback of: ${runId}`);
    const text = readFileSync(file('rollback.md'), 'utf8');
    expect(text).toContain(`| Rollback of | ${runId} |`);
    expect(text).toMatch(/## Users \(\d+\)/);
  });
});
