import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderApplySummary } from '../../src/cli/views/apply-summary.js';
import { refusing } from '../helpers/graph-proxies.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, journalLines, planTo, resumeIn, runDirs, testDir } from '../helpers/migration.js';
import type { Snapshot } from '../helpers/tenant-checks.js';

/**
 * The promise: users are switched to Entra MFA only once their methods are there. Members a rollout
 * group holds before the plan are switched by the plan's own first step (the group attached); apply
 * writes their methods before that step, and holds it while any of them is not done.
 */
const ROLLOUT = 'MFA Staged Rollout';
const ATTACH = /\/policies\/featureRolloutPolicies\/[^/]+\/appliesTo\/\$ref$/;

const snap = (g: FakeGraph) => g.emu.snapshot() as Snapshot;
const groupOf = (g: FakeGraph, name: string) => snap(g).groups.find((x: Snapshot) => x.displayName === name);
const idOf = (g: FakeGraph, upn: string): string => snap(g).users.find((u: Snapshot) => u.userPrincipalName === upn).id;
/** Writes Graph took (the bulk token path's probe, refused by design, is none). */
const writesOf = (g: FakeGraph) => g.operations().filter((o) => o.method !== 'GET' && o.status < 300);
/** An operation's last journal record. */
const opRecord = (runDir: string, op: string) => journalLines(runDir).filter((l) => l.t === 'ops').flatMap((l) => l.ops).filter((o: Snapshot) => o.op === op).at(-1);

/** bob (no cloud method in Entra) and grace (a token to activate) in the rollout group before the plan. */
async function membersBefore(g: FakeGraph): Promise<void> {
  for (const upn of ['bob@contoso.com', 'grace@contoso.com']) {
    expect((await g.raw.post(`/v1.0/groups/${groupOf(g, ROLLOUT).id}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${idOf(g, upn)}` })).status).toBe(204);
  }
}

describe("members a rollout group holds before the plan get their methods before the plan's attach switches them", () => {
  it('the methods policy, then their writes, then the staged rollout policy and the attach, then the waves', async () => {
    const g = fakeGraph();
    await membersBefore(g);
    const { dir } = testDir('methods-first-order');
    const { plan } = await planTo(g, join(dir, 'all.plan'), { rolloutGroups: [ROLLOUT] });
    expect(plan.findings.filter((f) => f.code === 'switched-before-methods').map((f) => [f.user, f.severity])).toEqual([
      ['bob@contoso.com', 'warning'],
      ['grace@contoso.com', 'warning'],
    ]);
    expect(plan.findings.find((f) => f.code === 'switched-before-methods')!.message).toMatch(/apply writes their methods first and holds the attach until they are done/);
    g.emu.clearRequests();
    const { outcome } = await applyFile(g, join(dir, 'all.plan'), join(dir, 'state'), { batchSize: 10 });
    expect(outcome.state).toBe('completed');

    const log = writesOf(g);
    const where = (test: (o: { method: string; path: string }) => boolean) => log.flatMap((o, i) => (test(o) ? [i] : []));
    const policy = where((o) => o.path.includes('/authenticationMethodsPolicy'));
    const bob = idOf(g, 'bob@contoso.com');
    const grace = idOf(g, 'grace@contoso.com');
    const members = where((o) => o.path.includes(bob) || o.path.includes(grace));
    const created = where((o) => o.method === 'POST' && /\/policies\/featureRolloutPolicies$/.test(o.path));
    const attached = where((o) => o.method === 'POST' && ATTACH.test(o.path));
    const others = where((o) => o.path.includes(idOf(g, 'alice@contoso.com')) || o.path.includes(idOf(g, 'carol@contoso.com')));
    // bob's phones and default, grace's token: every write of theirs.
    expect(members.length).toBeGreaterThanOrEqual(3);
    expect([policy.length, created.length, attached.length]).toEqual([expect.any(Number), 1, 1]);
    expect(Math.max(...policy)).toBeLessThan(Math.min(...members));
    expect(Math.max(...members)).toBeLessThan(created[0]!);
    expect(created[0]!).toBeLessThan(attached[0]!);
    expect(Math.min(...others)).toBeGreaterThan(attached[0]!);
    // Their methods are there, and they are switched.
    const s = snap(g);
    expect(s.users.find((u: Snapshot) => u.id === bob).methods.phone.length).toBeGreaterThan(0);
    expect(s.featureRolloutPolicies[0].appliesTo).toEqual([groupOf(g, ROLLOUT).id]);
  });

  it('the same for a disabled policy the plan enables, whose group holds them: their writes, then the enable', async () => {
    const g = fakeGraph();
    const policy = await g.raw.post('/v1.0/policies/featureRolloutPolicies', { displayName: 'Earlier pilot', feature: 'multiFactorAuthentication', isEnabled: false, isAppliedToOrganization: false });
    expect((await g.raw.post(`/v1.0/policies/featureRolloutPolicies/${policy.body.id}/appliesTo/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${groupOf(g, ROLLOUT).id}` })).status).toBe(204);
    await membersBefore(g);
    const { dir } = testDir('methods-first-enable');
    const { plan } = await planTo(g, join(dir, 'all.plan'), { rolloutGroups: [ROLLOUT] });
    expect(plan.cutover_changes.map((c) => c.action)).toEqual(['update']);
    g.emu.clearRequests();
    const { outcome } = await applyFile(g, join(dir, 'all.plan'), join(dir, 'state'), { batchSize: 10 });
    expect(outcome.state).toBe('completed');
    const log = writesOf(g);
    const bob = idOf(g, 'bob@contoso.com');
    const grace = idOf(g, 'grace@contoso.com');
    const members = log.flatMap((o, i) => (o.path.includes(bob) || o.path.includes(grace) ? [i] : []));
    const enabled = log.findIndex((o) => o.method === 'PATCH' && o.path.endsWith(`/featureRolloutPolicies/${policy.body.id}`));
    const adds = log.flatMap((o, i) => (o.method === 'POST' && o.path.endsWith(`/groups/${groupOf(g, ROLLOUT).id}/members/$ref`) ? [i] : []));
    expect(enabled).toBeGreaterThan(Math.max(...members));
    expect(Math.min(...adds)).toBeGreaterThan(enabled);
  });

  it("one member's write failing holds the attach: the others' waves go on (their switches wait), the run is partial; resume writes it, then attaches, then adds", async () => {
    const g = fakeGraph();
    await membersBefore(g);
    const { dir } = testDir('methods-first-failed');
    const stateDir = join(dir, 'state');
    await planTo(g, join(dir, 'all.plan'), { rolloutGroups: [ROLLOUT] });
    const bob = idOf(g, 'bob@contoso.com');
    const on = { refuse: true };
    const { outcome } = await applyFile(g, join(dir, 'all.plan'), stateDir, { batchSize: 10, graph: refusing(g, new RegExp(`/users/${bob}/authentication/phoneMethods`), on) });
    expect(outcome.state).toBe('partial');
    expect(outcome.resumable).toBe(true);
    const group = groupOf(g, ROLLOUT).id;
    const attachOp = `cutover/featureRolloutPolicy/appliesTo/${group}`;
    const held = `held: 1 member(s) of "${ROLLOUT}" have methods not written yet (bob@contoso.com): resume sends it once they are`;
    const runDir = runDirs(stateDir)[0]!;
    expect(opRecord(runDir, attachOp)).toMatchObject({ state: 'skipped', error: held });
    expect(outcome.switchesHeld).toEqual([{ op: attachOp, doing: `attaching "${ROLLOUT}"`, error: held, forGood: false }]);
    expect(renderApplySummary(outcome, stateDir, undefined)).toContain(`\n  staged rollout (shared, no user's): attaching "${ROLLOUT}": not sent: ${held}\n`);
    // Never attached: nobody switched; bob keeps no method of the plan's.
    expect(writesOf(g).filter((o) => ATTACH.test(o.path))).toEqual([]);
    expect(snap(g).featureRolloutPolicies[0].appliesTo).toEqual([]);
    // grace's token is there; the others' methods were written, their switches skipped as depending on the attach.
    const users = new Map(outcome.users.map((u) => [u.upn, u]));
    expect(users.get('grace@contoso.com')!.outcome).toBe('done');
    expect(users.get('bob@contoso.com')!.outcome).toMatch(/failed|partial/);
    const alice = idOf(g, 'alice@contoso.com');
    expect(users.get('alice@contoso.com')).toMatchObject({ outcome: 'partial', skipped: 1, failed: 0 });
    expect(opRecord(runDir, `${alice}/rolloutGroup/${group}`)).toMatchObject({ state: 'skipped', error: `skipped: ${attachOp} did not succeed` });
    expect(snap(g).users.find((u: Snapshot) => u.id === alice).methods.phone.length).toBeGreaterThan(0);
    expect(groupOf(g, ROLLOUT).members.sort()).toEqual([bob, idOf(g, 'grace@contoso.com')].sort());

    // Healed: the resume writes bob's phones first, then attaches, then adds the rest.
    on.refuse = false;
    g.emu.clearRequests();
    const resumed = await resumeIn(g, stateDir);
    expect(resumed.outcome.state).toBe('completed');
    const log = writesOf(g);
    const bobWrites = log.flatMap((o, i) => (o.path.includes(bob) ? [i] : []));
    const attachAt = log.findIndex((o) => o.method === 'POST' && ATTACH.test(o.path));
    const addsAt = log.flatMap((o, i) => (o.method === 'POST' && o.path.endsWith(`/groups/${group}/members/$ref`) ? [i] : []));
    expect(bobWrites.length).toBeGreaterThan(0);
    expect(Math.max(...bobWrites)).toBeLessThan(attachAt);
    expect(Math.min(...addsAt)).toBeGreaterThan(attachAt);
    expect(snap(g).featureRolloutPolicies[0].appliesTo).toEqual([group]);
    expect(groupOf(g, ROLLOUT).members).toContain(alice);
    expect(opRecord(runDir, attachOp)).toMatchObject({ state: 'done' });
  });

  it('a selection that leaves such a member out holds the attach for good, naming whom to select; the rest goes on', async () => {
    const g = fakeGraph();
    await membersBefore(g);
    const { dir } = testDir('methods-first-selection');
    const stateDir = join(dir, 'state');
    await planTo(g, join(dir, 'all.plan'), { rolloutGroups: [ROLLOUT] });
    g.emu.clearRequests();
    const { outcome } = await applyFile(g, join(dir, 'all.plan'), stateDir, { users: ['grace@contoso.com', 'alice@contoso.com'] });
    expect(outcome.state).toBe('partial');
    // No resume can write bob's methods (not selected): none is offered.
    expect(outcome.resumable).toBe(false);
    const group = groupOf(g, ROLLOUT).id;
    const attachOp = `cutover/featureRolloutPolicy/appliesTo/${group}`;
    const error = `held: 1 member(s) of "${ROLLOUT}" whose methods this run does not write (1 not selected by this run): bob@contoso.com. Attaching "${ROLLOUT}" would switch them to Entra MFA without them, so no resume of this run sends it, nor the switches waiting for it: make a new plan of this plan's whole scope (with them selected too, or once they are out of the group or what changed is settled; what this run wrote shows as done in it) and apply that`;
    expect(opRecord(runDirs(stateDir)[0]!, attachOp)).toMatchObject({ state: 'skipped', error });
    expect(outcome.switchesHeld).toEqual([expect.objectContaining({ op: attachOp, forGood: true, error })]);
    expect(writesOf(g).filter((o) => ATTACH.test(o.path))).toEqual([]);
    expect(snap(g).featureRolloutPolicies[0].appliesTo).toEqual([]);
    // grace's token written; alice's methods written, her switch waits for the attach.
    const users = new Map(outcome.users.map((u) => [u.upn, u]));
    expect(users.get('grace@contoso.com')!.outcome).toBe('done');
    expect(users.get('alice@contoso.com')).toMatchObject({ outcome: 'partial', skipped: 1 });
    expect(groupOf(g, ROLLOUT).members).not.toContain(idOf(g, 'alice@contoso.com'));
  });
});
