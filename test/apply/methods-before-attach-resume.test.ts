import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Executor } from '../../src/apply/executor.js';
import type { Operation } from '../../src/apply/operations.js';
import { connectGraph } from '../../src/graph/connect.js';
import { refusing } from '../helpers/graph-proxies.js';
import { clearDefaultMethod, fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, journalLines, planTo, resumeIn, runDirs, testDir, planOfUntouched } from '../helpers/migration.js';
import type { Snapshot } from '../helpers/tenant-checks.js';

/**
 * A review of the methods-first order (methods-before-attach.test.ts): what a resume of a run whose
 * attach was held must check before it sends it (members' methods gone since, users who joined the
 * group since), how --waves counts while it is held, 1b in chunks, and the members' --results rows.
 */
const ROLLOUT = 'MFA Staged Rollout';
const ATTACH = /\/policies\/featureRolloutPolicies\/[^/]+\/appliesTo\/\$ref$/;
const MOBILE = '3179e48a-750b-4051-897c-87b9720928f7';
const ALT_MOBILE = 'b6332ec1-7057-4abe-9331-3d72feddfe41';

const snap = (g: FakeGraph) => g.emu.snapshot() as Snapshot;
const groupOf = (g: FakeGraph, name: string) => snap(g).groups.find((x: Snapshot) => x.displayName === name);
const idOf = (g: FakeGraph, upn: string): string => snap(g).users.find((u: Snapshot) => u.userPrincipalName === upn).id;
const writesOf = (g: FakeGraph) => g.operations().filter((o) => o.method !== 'GET' && o.status < 300);
const opRecord = (runDir: string, op: string) => journalLines(runDir).filter((l) => l.t === 'ops').flatMap((l) => l.ops).filter((o: Snapshot) => o.op === op).at(-1);

async function addTo(g: FakeGraph, upns: string[]): Promise<void> {
  for (const upn of upns) expect((await g.raw.post(`/v1.0/groups/${groupOf(g, ROLLOUT).id}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${idOf(g, upn)}` })).status).toBe(204);
}

/**
 * bob and alice in the rollout group before the plan; the first pass refuses alice's writes: bob's
 * methods are written, the attach is held for alice.
 */
async function heldForAlice(name: string, over: { batchSize?: number; waves?: number } = {}) {
  const g = fakeGraph();
  await addTo(g, ['bob@contoso.com', 'alice@contoso.com']);
  const { dir } = testDir(name);
  const stateDir = join(dir, 'state');
  await planTo(g, join(dir, 'all.plan'), { rolloutGroups: [ROLLOUT] });
  const alice = idOf(g, 'alice@contoso.com');
  const on = { refuse: true };
  const graph = refusing(g, new RegExp(`/users/${alice}/authentication/`), on);
  const first = await applyFile(g, join(dir, 'all.plan'), stateDir, { batchSize: over.batchSize ?? 10, ...(over.waves !== undefined ? { waves: over.waves } : {}), graph });
  const group = groupOf(g, ROLLOUT).id as string;
  const attachOp = `cutover/featureRolloutPolicy/appliesTo/${group}`;
  const runDir = runDirs(stateDir)[0]!;
  expect(opRecord(runDir, attachOp)).toMatchObject({ state: 'skipped', error: expect.stringMatching(/^held: 1 member\(s\) of "MFA Staged Rollout" have methods not written yet \(alice@contoso\.com\)/) });
  expect(first.results.find((r) => r.user === 'bob@contoso.com')!.outcome).toBe('done');
  return { g, dir, stateDir, runDir, group, attachOp, on, graph, first, bob: idOf(g, 'bob@contoso.com'), alice };
}

/**
 * An enabled staged rollout policy with Wave 1 attached; judy in Wave 1 and, with bob and alice, in the
 * rollout group the plan attaches; the first pass refuses alice's writes, so the attach is held.
 */
async function heldWithJudyInWave1(name: string) {
  const g = fakeGraph();
  const policy = await g.raw.post('/v1.0/policies/featureRolloutPolicies', { displayName: 'Waves', feature: 'multiFactorAuthentication', isEnabled: true, isAppliedToOrganization: false });
  const wave1 = groupOf(g, 'MFA Migration Wave 1').id as string;
  expect((await g.raw.post(`/v1.0/policies/featureRolloutPolicies/${policy.body.id}/appliesTo/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${wave1}` })).status).toBe(204);
  const judy = idOf(g, 'judy@contoso.com');
  expect((await g.raw.post(`/v1.0/groups/${wave1}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${judy}` })).status).toBe(204);
  await addTo(g, ['bob@contoso.com', 'alice@contoso.com', 'judy@contoso.com']);
  const { dir } = testDir(name);
  const stateDir = join(dir, 'state');
  await planTo(g, join(dir, 'all.plan'), { rolloutGroups: [ROLLOUT] });
  const on = { refuse: true };
  const graph = refusing(g, new RegExp(`/users/${idOf(g, 'alice@contoso.com')}/authentication/`), on);
  await applyFile(g, join(dir, 'all.plan'), stateDir, { batchSize: 10, graph });
  const attachOp = `cutover/featureRolloutPolicy/appliesTo/${groupOf(g, ROLLOUT).id as string}`;
  return { g, stateDir, runDir: runDirs(stateDir)[0]!, attachOp, on, wave1, judy, policyId: policy.body.id as string };
}

describe('a resume sends a held attach only once every member it switches is checked again', () => {
  it("holds it while a member done in an earlier pass has had their methods deleted since (a review: bob was switched with none); sends it once they are back", async () => {
    const { g, stateDir, runDir, attachOp, on, bob } = await heldForAlice('mba-gone');
    // An admin removes bob's default and both phones the first pass wrote.
    clearDefaultMethod(g.emu, bob);
    expect((await g.raw.delete(`/v1.0/users/${bob}/authentication/phoneMethods/${ALT_MOBILE}`)).status).toBe(204);
    expect((await g.raw.delete(`/v1.0/users/${bob}/authentication/phoneMethods/${MOBILE}`)).status).toBe(204);
    on.refuse = false;
    g.emu.clearRequests();
    const again = await resumeIn(g, stateDir);
    expect(writesOf(g).filter((o) => ATTACH.test(o.path))).toEqual([]);
    expect(snap(g).featureRolloutPolicies[0].appliesTo).toEqual([]);
    const rec = opRecord(runDir, attachOp);
    expect(rec.state).toBe('skipped');
    expect(rec.error).toBe(
      'held: 1 member(s) of "MFA Staged Rollout" have methods their switch rests on that are gone since: bob@contoso.com (phoneMethods/mobile, which the run wrote in an earlier pass, is no longer in the tenant; phoneMethods/alternateMobile, which the run wrote in an earlier pass, is no longer in the tenant). Attaching "MFA Staged Rollout" would switch them to Entra MFA without them: put them back and resume (it is sent once they are there), or take them out of the group, or roll the run back and make a new plan',
    );
    expect(again.outcome).toMatchObject({ state: 'partial', resumable: true });
    expect(again.outcome.switchesHeld).toEqual([expect.objectContaining({ op: attachOp, forGood: false })]);
    // alice's writes are done now; her row and bob's say they are not switched yet.
    expect(again.results.find((r) => r.user === 'alice@contoso.com')!.outcome).toBe('done');
    expect(again.results.find((r) => r.user === 'bob@contoso.com')!.first_error).toMatch(/^not switched to Entra MFA yet: attaching "MFA Staged Rollout" was not sent: held: /);

    // The phones back: the next resume attaches.
    expect((await g.raw.post(`/v1.0/users/${bob}/authentication/phoneMethods`, { phoneNumber: '+1 2065550100', phoneType: 'mobile' })).status).toBe(201);
    expect((await g.raw.post(`/v1.0/users/${bob}/authentication/phoneMethods`, { phoneNumber: '+1 2065550101', phoneType: 'alternateMobile' })).status).toBe(201);
    const third = await resumeIn(g, stateDir);
    expect(opRecord(runDir, attachOp)).toMatchObject({ state: 'done' });
    expect(third.outcome.state).toBe('completed');
  });

  it('holds it while a user who joined the group since the plan is in it (a review: judy was switched, unsaid), naming them; sends it once they are out', async () => {
    const { g, stateDir, runDir, group, attachOp, on } = await heldForAlice('mba-joined');
    await addTo(g, ['judy@contoso.com']);
    on.refuse = false;
    g.emu.clearRequests();
    const again = await resumeIn(g, stateDir);
    expect(writesOf(g).filter((o) => ATTACH.test(o.path))).toEqual([]);
    expect(snap(g).featureRolloutPolicies[0].appliesTo).toEqual([]);
    expect(opRecord(runDir, attachOp)).toMatchObject({
      state: 'skipped',
      error: expect.stringMatching(/^held: 1 user\(s\) joined "MFA Staged Rollout" since the plan \(judy@contoso\.com\): attaching "MFA Staged Rollout" would switch them to Entra MFA without the plan having checked that they have a method to sign in with: take them out of the group and resume, or make a new plan/),
    });
    expect(again.outcome).toMatchObject({ state: 'partial', resumable: true });

    expect((await g.raw.delete(`/v1.0/groups/${group}/members/${idOf(g, 'judy@contoso.com')}/$ref`)).status).toBe(204);
    const third = await resumeIn(g, stateDir);
    expect(opRecord(runDir, attachOp)).toMatchObject({ state: 'done' });
    expect(third.outcome.state).toBe('completed');
    expect(groupOf(g, ROLLOUT).members).not.toContain(idOf(g, 'judy@contoso.com'));
  });

  it('holds it while a member the plan took as switched already by another attached group (Wave 1) is no longer (a review: judy was switched with nothing); sends it once she is back', async () => {
    const { g, stateDir, runDir, attachOp, on, wave1, judy } = await heldWithJudyInWave1('mba-unswitched');
    expect(opRecord(runDir, attachOp)).toMatchObject({ state: 'skipped', error: expect.stringMatching(/^held: 1 member\(s\) of "MFA Staged Rollout" have methods not written yet \(alice@contoso\.com\)/) });
    // judy taken out of Wave 1: the attach would switch her itself.
    expect((await g.raw.delete(`/v1.0/groups/${wave1}/members/${judy}/$ref`)).status).toBe(204);
    on.refuse = false;
    g.emu.clearRequests();
    const again = await resumeIn(g, stateDir);
    expect(writesOf(g).filter((o) => ATTACH.test(o.path))).toEqual([]);
    expect(opRecord(runDir, attachOp)).toMatchObject({
      state: 'skipped',
      error:
        'held: 1 user(s) the plan took as switched to Entra MFA already are no longer switched by "MFA Migration Wave 1" since the plan (judy@contoso.com): attaching "MFA Staged Rollout" would switch them itself, and the plan did not refuse one of them with no cloud MFA method, who would have nothing to sign in with: put them back in that group, or take them out of this one, and resume, or make a new plan',
    });
    expect(again.outcome).toMatchObject({ state: 'partial', resumable: true });
    // Back in Wave 1: the next resume attaches.
    expect((await g.raw.post(`/v1.0/groups/${wave1}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${judy}` })).status).toBe(204);
    const third = await resumeIn(g, stateDir);
    expect(opRecord(runDir, attachOp)).toMatchObject({ state: 'done' });
    expect(third.outcome.state).toBe('completed');
  });

  it('the other remedy the hold names works too: taken out of the group the plan attaches, she is no one it switches, and the resume attaches (a review: it stayed held)', async () => {
    const { g, stateDir, runDir, attachOp, on, wave1, judy, policyId } = await heldWithJudyInWave1('mba-unswitched-out');
    const rollout = groupOf(g, ROLLOUT).id as string;
    expect(opRecord(runDir, attachOp)).toMatchObject({ state: 'skipped' });
    // judy taken out of Wave 1 and out of the group the plan attaches.
    expect((await g.raw.delete(`/v1.0/groups/${wave1}/members/${judy}/$ref`)).status).toBe(204);
    expect((await g.raw.delete(`/v1.0/groups/${rollout}/members/${judy}/$ref`)).status).toBe(204);
    on.refuse = false;
    const again = await resumeIn(g, stateDir);
    expect(opRecord(runDir, attachOp)).toMatchObject({ state: 'done' });
    expect(again.outcome.state).not.toBe('interrupted');
    expect(snap(g).featureRolloutPolicies.find((p: Snapshot) => p.id === policyId).appliesTo).toContain(rollout);
  });

  it("the pre-flight's refusal names who joined", async () => {
    const { dir } = testDir('mba-joined-preflight');
    const { g } = await planOfUntouched(join(dir, 'all.plan'), { rolloutGroups: [ROLLOUT] });
    await addTo(g, ['judy@contoso.com', 'zoe@contoso.com']);
    await expect(applyFile(g, join(dir, 'all.plan'), join(dir, 'state'))).rejects.toThrow(/2 user\(s\) joined "MFA Staged Rollout" since the plan \((judy|zoe)@contoso\.com, (judy|zoe)@contoso\.com\): attaching the group would switch them/);
  });
});

describe('while a hold stands', () => {
  it('resume --waves 1 goes on to the next wave: a wave left with only adds waiting for the held attach does not count (a review: it never got past wave 1)', async () => {
    const { g, stateDir, runDir, on, graph } = await heldForAlice('mba-waves', { batchSize: 1, waves: 1 });
    const started = () => journalLines(runDir).filter((l) => l.t === 'wave' && l.state === 'started').map((l) => l.wave as number);
    expect(started()).toEqual([1]);
    expect(on.refuse).toBe(true);
    await resumeIn(g, stateDir, { waves: 1, connect: () => graph });
    expect(started()).toEqual([1, 2]);
    await resumeIn(g, stateDir, { waves: 1, connect: () => graph });
    expect(started()).toEqual([1, 2, 3]);
  });

  it("the members' --results rows say they are not switched yet, with the hold's reason", async () => {
    const { first } = await heldForAlice('mba-results');
    const bob = first.results.find((r) => r.user === 'bob@contoso.com')!;
    expect(bob.outcome).toBe('done');
    expect(bob.first_error).toBe(`not switched to Entra MFA yet: attaching "${ROLLOUT}" was not sent: held: 1 member(s) of "${ROLLOUT}" have methods not written yet (alice@contoso.com): resume sends it once they are`);
    // A user outside the hold keeps an empty note.
    const others = first.results.filter((r) => r.outcome === 'done' && r.user !== 'bob@contoso.com');
    expect(others.every((r) => r.first_error === '')).toBe(true);
  });
});

describe('the members written before the attach (1b) go in chunks of --batch-size', () => {
  afterEach(() => vi.restoreAllMocks());

  it('each executor run holds the operations of one chunk of members', async () => {
    const g = fakeGraph();
    await addTo(g, ['bob@contoso.com', 'grace@contoso.com']);
    const { dir } = testDir('mba-chunks');
    await planTo(g, join(dir, 'all.plan'), { rolloutGroups: [ROLLOUT] });
    const users = [idOf(g, 'bob@contoso.com'), idOf(g, 'grace@contoso.com')];
    const runs: string[][] = [];
    const run = Executor.prototype.run;
    vi.spyOn(Executor.prototype, 'run').mockImplementation(function (this: Executor, ops: readonly Operation[], ...rest: unknown[]) {
      runs.push([...new Set(ops.map((o) => o.userId).filter((u): u is string => u !== undefined && users.includes(u)))]);
      return (run as (...a: unknown[]) => ReturnType<Executor['run']>).call(this, ops, ...rest);
    });
    const { outcome } = await applyFile(g, join(dir, 'all.plan'), join(dir, 'state'), { batchSize: 1 });
    expect(outcome.state).toBe('completed');
    const members = runs.filter((r) => r.length > 0);
    expect(members).toEqual([[users[0]], [users[1]]]);
    expect(snap(g).featureRolloutPolicies[0].appliesTo).toEqual([groupOf(g, ROLLOUT).id]);
  });
});

describe('a member whose write no resume mends (a token another user holds)', () => {
  it('makes the hold final: the attach is held for good and no resume is offered for it (a review: it said "resume sends it once they are")', async () => {
    const g = fakeGraph();
    await addTo(g, ['bob@contoso.com', 'chen@contoso.com']);
    const { dir } = testDir('mba-replan');
    const stateDir = join(dir, 'state');
    await planTo(g, join(dir, 'all.plan'), { rolloutGroups: [ROLLOUT] });
    const chen = idOf(g, 'chen@contoso.com');
    // Chen's token writes refused as Graph refuses a token another user holds (the emulator's words).
    const elsewhere = { error: { code: 'badRequest', message: 'The hardware OATH token is assigned to another user; a token can be assigned to one user only.' } };
    const mine = new RegExp(`/users/${chen}/authentication/hardwareOath|hardwareOathDevices/[^/]+/(assign|activate)`);
    const fetch: typeof g.emu.fetch = async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (init?.method === 'POST' && url.endsWith('/$batch')) {
        const body = JSON.parse(String(init.body)) as { requests: { id: string; method: string; url: string; body?: unknown }[] };
        const refused = body.requests.filter((r) => r.method !== 'GET' && (mine.test(r.url) && (r.url.includes(chen) || JSON.stringify(r.body ?? '').includes(chen))));
        if (refused.length > 0) {
          const rest = body.requests.filter((r) => !refused.includes(r));
          const res = rest.length > 0 ? ((await (await g.emu.fetch(input, { ...init, body: JSON.stringify({ requests: rest }) })).json()) as { responses: unknown[] }) : { responses: [] };
          return new Response(JSON.stringify({ responses: [...res.responses, ...refused.map((r) => ({ id: r.id, status: 400, headers: { 'content-type': 'application/json' }, body: elsewhere }))] }), { status: 200, headers: { 'content-type': 'application/json' } });
        }
      }
      return g.emu.fetch(input, init);
    };
    const graph = connectGraph({ graphUrl: g.emu.url, fetch, readOnly: false, concurrency: 4, retry: { capMs: 300 } });
    const applied = await applyFile(g, join(dir, 'all.plan'), stateDir, { batchSize: 10, graph });
    const chenRow = applied.results.find((r) => r.user === 'chen@contoso.com')!;
    expect(chenRow.first_error).toMatch(/no resume mends this: plan again/);
    const attachOp = `cutover/featureRolloutPolicy/appliesTo/${groupOf(g, ROLLOUT).id as string}`;
    expect(applied.outcome.switchesHeld).toEqual([expect.objectContaining({ op: attachOp, forGood: true, error: expect.stringMatching(/1 with a write no resume mends\): chen@contoso\.com/) })]);
    expect(snap(g).featureRolloutPolicies[0]?.appliesTo ?? []).toEqual([]);
    expect(applied.outcome.resumable).toBe(false);
  });
});

