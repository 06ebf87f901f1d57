import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectGraph } from '../../src/graph/connect.js';
import { readRun } from '../../src/apply/journal.js';
import { runReport } from '../../src/app/report.js';
import { renderRunReportText } from '../../src/report/render-run-report.js';
import { rechain, rewriteJournal } from '../helpers/graph-proxies.js';
import { type FakeGraph } from '../helpers/graph.js';
import { applyFile, crashAfterStarted, rollbackIn, runDirs, tempDir, planOfUntouched } from '../helpers/migration.js';
import { writes, type Snapshot } from '../helpers/tenant-checks.js';

const ROLLOUT = 'MFA Staged Rollout';
const tmp = tempDir('rollback-unknown');
afterAll(() => tmp.cleanup());
let n = 0;
const fresh = () => join(tmp.dir, `case${++n}`);

interface BatchItem {
  id: string;
  method: string;
  url: string;
  body?: unknown;
}

/**
 * A proxy as a fault-injection tester put it in front of Graph: the first write `$batch` holding an
 * item `hit` picks is forwarded (Graph applies it, unless `forward` is false) and answered 504; from
 * then on every request is refused with 403 (the reads that would tell what happened included), until
 * `heal()`.
 */
function lossyGraph(g: FakeGraph, hit: (item: BatchItem) => boolean, forward = true) {
  let state: 'armed' | 'refusing' | 'healed' = 'armed';
  const sent: BatchItem[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    if (state === 'refusing') return Response.json({ error: { code: 'Authorization_RequestDenied', message: 'refused by the proxy' } }, { status: 403 });
    if (state === 'armed' && url.endsWith('/$batch') && init?.body) {
      const items = (JSON.parse(String(init.body)) as { requests: BatchItem[] }).requests;
      if (items.some((i) => i.method !== 'GET' && hit(i))) {
        state = 'refusing';
        sent.push(...items);
        if (forward) await g.emu.fetch(input, init);
        return Response.json({ error: { code: 'GatewayTimeout', message: 'the proxy timed out' } }, { status: 504 });
      }
    }
    return g.emu.fetch(input, init);
  };
  return {
    graph: connectGraph({ graphUrl: g.emu.url, fetch, readOnly: false, concurrency: 4, retry: { capMs: 300 } }),
    /** The items of the batch answered 504. */
    sent,
    heal: () => {
      state = 'healed';
    },
  };
}

/** Writes that change the tenant (a membership check is a POST that changes nothing). */
const changes = (g: FakeGraph) => writes(g.emu.requests()).filter((w) => !/\/(checkMemberGroups|getMemberGroups)$/.test(w.path));
/** The methods policy, but for when it was last changed (a put back is a change). */
const policyOf = (g: FakeGraph) => withoutTime((g.emu.snapshot() as Snapshot).authenticationMethodsPolicy);
const withoutTime = ({ lastModifiedDateTime: _t, ...policy }: Snapshot) => policy;
const isPolicyWrite = (i: BatchItem) => /authenticationMethodsPolicy/.test(i.url);

/** A plan applied through the lossy proxy: the batch `hit` picks is lost (answered 504, perhaps applied), and the run stops with it failed, outcome unknown. */
async function lossyApply(hit: (item: BatchItem) => boolean, opts: { forward?: boolean; rollout?: boolean } = {}) {
  const dir = fresh();
  const { g, plan } = await planOfUntouched(`${dir}.plan`, opts.rollout ? { rolloutGroups: [ROLLOUT] } : {});
  const before = structuredClone(g.emu.snapshot() as Snapshot);
  const lossy = lossyGraph(g, hit, opts.forward ?? true);
  const { outcome } = await applyFile(g, `${dir}.plan`, dir, { graph: lossy.graph });
  lossy.heal();
  const runDir = runDirs(dir)[0]!;
  return { g, dir, plan, before, outcome, runDir, journal: join(runDir, 'journal.jsonl'), lost: lossy.sent };
}

describe('rollback settles writes of unknown outcome itself, read-only', () => {
  it('a policy write applied but journaled failed, outcome unknown, is read back and put back', async () => {
    const { g, dir, before, outcome, runDir, lost } = await lossyApply(isPolicyWrite);
    expect(outcome.state).toBe('partial');
    // The policy step failed with the outcome unknown (the read-back was refused), though Graph applied it.
    const view = await readRun(runDir);
    const lostPolicy = lost.filter(isPolicyWrite);
    expect(lostPolicy.length).toBeGreaterThan(0);
    const lostIds = [...view.ops.values()].filter((r) => r.state === 'failed');
    expect(lostIds.length).toBeGreaterThan(0);
    for (const r of lostIds) expect(r).toMatchObject({ outcomeUnknown: true, error: expect.stringMatching(/; outcome unknown: /) });
    expect(policyOf(g)).not.toEqual(withoutTime(before.authenticationMethodsPolicy));

    const back = await rollbackIn(g, dir, outcome.runId);
    expect(back.outcome.state).toBe('completed');
    expect(policyOf(g)).toEqual(withoutTime(before.authenticationMethodsPolicy));
    // The findings are the apply run's own journal's: a second look sees them done.
    const after = await readRun(runDir);
    for (const r of lostIds) expect(after.ops.get(r.op)).toMatchObject({ state: 'done' });
    expect(after.ops.get(lostIds[0]!.op)!.outcomeUnknown).toBeUndefined();
    // Said in the apply run's journal, before the records it explains (a review: done records after the run's end, unexplained).
    const lines = readFileSync(join(runDir, 'journal.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { t: string; options?: unknown; identity?: unknown });
    const settle = lines.findIndex((l) => l.t === 'settle');
    expect(lines[settle]).toMatchObject({ options: { readBackByRollback: true, applied: lostIds.length, notApplied: 0 }, identity: expect.any(Object) });
    expect(lines.findIndex((l) => l.t === 'end')).toBeLessThan(settle);
    expect(lines[settle + 1]!.t).toBe('ops');
    // Said apart from the run's later passes (a review saw it under "Resumed").
    expect(after.resumes).toEqual([]);
    expect(after.readBacks).toEqual([expect.objectContaining({ options: { readBackByRollback: true, applied: lostIds.length, notApplied: 0 } })]);
    const report = await runReport(outcome.runId, dir);
    expect([report.run.resumed, report.run.read_back]).toEqual([[], [expect.objectContaining({ applied: lostIds.length, not_applied: 0 })]]);
    expect(renderRunReportText(report)).toMatch(new RegExp(`Read back by a rollback: \\S+ by .*: ${lostIds.length} write\\(s\\) of unknown outcome found applied, 0 not`));
  });

  /**
   * A black-box round: the disk filled between a rollback's `settle` line and the records it read back
   * (two appends then); the next rollback read them back again, and `report` listed two read-backs,
   * twice the writes found applied. A read-back counts only with its records after it.
   */
  it('a settle line with no records after it (cut off by a full disk) is not listed: the later read-back is the only one', async () => {
    const { g, dir, outcome, runDir, journal } = await lossyApply(isPolicyWrite);
    await rollbackIn(g, dir, outcome.runId);
    const whole = await readRun(runDir);
    expect(whole.readBacks).toHaveLength(1);
    const found = whole.readBacks[0]!.options;
    // As an earlier version left it: a first settle line whole, its records never written, then the next rollback's (the chain computed anew).
    const lines = readFileSync(journal, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const at = lines.findIndex((l) => l.t === 'settle');
    const cutOff = { ...lines[at]!, at: '2026-01-01T00:00:00.000Z' };
    writeFileSync(journal, `${[...lines.slice(0, at), cutOff, ...lines.slice(at)].map((b) => JSON.stringify(b)).join('\n')}\n`);
    rewriteJournal(journal, (line) => line);
    const view = await readRun(runDir);
    expect(view.readBacks).toEqual([expect.objectContaining({ options: found })]);
    expect(view.readBacks[0]!.at).not.toBe('2026-01-01T00:00:00.000Z');
    const report = await runReport(outcome.runId, dir);
    expect(report.run.read_back).toEqual([expect.objectContaining({ applied: found.applied, not_applied: 0 })]);
    // The one append the rollback makes now holds both lines, the settle and its records, one after the other.
    const now = readFileSync(journal, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { t: string; at: string });
    const last = now.findLastIndex((l) => l.t === 'settle');
    expect(now[last + 1]).toMatchObject({ t: 'ops', at: now[last]!.at });
  });

  it('journals written before the mark: a failure worded "; outcome unknown: " is read back too', async () => {
    const { g, dir, before, outcome, journal } = await lossyApply(isPolicyWrite);
    // As an earlier version wrote it: the wording, no mark (its hash chain whole).
    rechain(journal, (op) => {
      delete op.outcomeUnknown;
    });
    expect(readFileSync(journal, 'utf8')).not.toContain('outcomeUnknown');
    const back = await rollbackIn(g, dir, outcome.runId);
    expect(back.outcome.state).toBe('completed');
    expect(policyOf(g)).toEqual(withoutTime(before.authenticationMethodsPolicy));
  });

  it('a rollout add applied but journaled failed, outcome unknown: the user leaves the group and the policy the run created is deleted', async () => {
    const isRolloutAdd = (i: BatchItem) => i.method === 'POST' && /\/groups\/[^/]+\/members\/\$ref$/.test(i.url);
    const { g, dir, outcome, lost } = await lossyApply(isRolloutAdd, { rollout: true });
    const s = g.emu.snapshot() as Snapshot;
    const group = s.groups.find((x: Snapshot) => x.displayName === ROLLOUT);
    const added = lost.filter(isRolloutAdd).filter((i) => i.url.includes(group.id));
    expect(added.length).toBeGreaterThan(0);
    // Graph applied them: the users are in the group, the policy the run created is enabled.
    expect(group.members.length).toBe(added.length);
    expect(s.featureRolloutPolicies).toEqual([expect.objectContaining({ isEnabled: true, appliesTo: [group.id] })]);

    const back = await rollbackIn(g, dir, outcome.runId);
    // Not "users were added to the group since the run": the run added them.
    expect(back.outcome.changedSince).toEqual([]);
    const now = g.emu.snapshot() as Snapshot;
    expect(now.groups.find((x: Snapshot) => x.displayName === ROLLOUT).members).toEqual([]);
    expect(now.featureRolloutPolicies).toEqual([]);
  });

  it('a run killed while its policy step was in flight: what was applied is undone, and no user operation of the plan is written', async () => {
    const { g, dir, before, outcome, journal, runDir } = await lossyApply(isPolicyWrite, { rollout: true });
    // As a kill leaves it: the journal ends after the lost batch's `started` line.
    crashAfterStarted(journal, 0);
    const started = [...(await readRun(runDir)).ops.values()].filter((r) => r.state === 'started');
    expect(started.length).toBeGreaterThan(0);
    expect(started.every((r) => r.op.startsWith('policy/') || r.op.startsWith('cutover/'))).toBe(true);
    // The lost batch created the staged rollout policy too.
    expect((g.emu.snapshot() as Snapshot).featureRolloutPolicies).toHaveLength(before.featureRolloutPolicies.length + 1);
    expect(policyOf(g)).not.toEqual(withoutTime(before.authenticationMethodsPolicy));
    g.emu.clearRequests();

    const back = await rollbackIn(g, dir, outcome.runId);
    expect(back.outcome.state).toBe('completed');
    expect(policyOf(g)).toEqual(withoutTime(before.authenticationMethodsPolicy));
    const now = g.emu.snapshot() as Snapshot;
    expect(now.featureRolloutPolicies).toEqual(before.featureRolloutPolicies);
    // Only the policy and the staged rollout were written: no user's methods, no group membership.
    const sent = changes(g);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.filter((w) => !/authenticationMethodsPolicy|featureRolloutPolicies/.test(w.path))).toEqual([]);
    // Every started operation is settled in the apply run's journal.
    const after = await readRun(runDir);
    for (const r of started) expect(after.ops.get(r.op)?.state).toMatch(/^(done|failed)$/);
  });

  it('a started write that was not applied: read back, journaled not applied, and nothing is sent for it', async () => {
    const { g, dir, before, outcome, journal, runDir } = await lossyApply(isPolicyWrite, { forward: false });
    crashAfterStarted(journal, 0);
    const started = [...(await readRun(runDir)).ops.values()].filter((r) => r.state === 'started');
    expect(started.length).toBeGreaterThan(0);
    expect(policyOf(g)).toEqual(withoutTime(before.authenticationMethodsPolicy));
    g.emu.clearRequests();

    const logged: string[] = [];
    const back = await rollbackIn(g, dir, outcome.runId, { log: (l) => logged.push(l) });
    expect(back.outcome.state).toBe('completed');
    expect(logged).toContain(`Read back ${started.length} operation(s) of run ${outcome.runId} whose outcome was unknown: 0 applied (undone with the rest), ${started.length} not applied; journaled in that run.`);
    expect(changes(g)).toEqual([]);
    expect(policyOf(g)).toEqual(withoutTime(before.authenticationMethodsPolicy));
    const after = await readRun(runDir);
    for (const r of started) expect(after.ops.get(r.op)).toMatchObject({ state: 'failed', error: 'read back by rollback: not applied', outcomeUnknown: false });
    // A second look finds nothing of unknown outcome: nothing is read back again.
    expect(after.doneOrder).toEqual([]);
  });

  it('a read-back that fails refuses the rollback, saying to try again; nothing is sent or journaled', async () => {
    const { g, dir, outcome, journal } = await lossyApply(isPolicyWrite);
    const journalBefore = readFileSync(journal, 'utf8');
    const runsBefore = readdirSync(join(dir, 'runs'));
    g.emu.clearRequests();
    // Graph refuses the reads now.
    const refusing: typeof globalThis.fetch = async (input, init) => (String(input instanceof Request ? input.url : input).endsWith('/$batch') ? Response.json({ error: { code: 'Forbidden', message: 'no' } }, { status: 403 }) : g.emu.fetch(input, init));
    const connect = () => connectGraph({ graphUrl: g.emu.url, fetch: refusing, readOnly: false, concurrency: 4, retry: { capMs: 300 } });
    await expect(rollbackIn(g, dir, outcome.runId, { connect })).rejects.toThrow(
      new RegExp(`run ${outcome.runId} has \\d+ operation\\(s\\) whose outcome is unknown .*, and reading them back failed \\(.*403.*\\): nothing was sent or journaled; try the rollback again$`),
    );
    expect(changes(g)).toEqual([]);
    expect(readFileSync(journal, 'utf8')).toBe(journalBefore);
    expect(readdirSync(join(dir, 'runs'))).toEqual(runsBefore);
    expect(existsSync(journal)).toBe(true);
  });
});
