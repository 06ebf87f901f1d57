import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { cutoverStatus } from '../../src/app/status.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, CONTOSO, journalLines, planTo, resumeIn, runDirs, tempDir } from '../helpers/migration.js';
import { writes, type Snapshot } from '../helpers/tenant-checks.js';
import { connectGraph } from '../../src/graph/connect.js';

/**
 * Found by a black-box test: a plan that only adds users to rollout groups (the policy enabled and the
 * group attached when planned, so it changes neither) was applied after the policy was disabled or
 * the group detached: "users: 3 done", and none of them switched.
 */
const ROLLOUT = 'MFA Staged Rollout';
const POLICY = '/v1.0/policies/featureRolloutPolicies';
const tmp = tempDir('rollout-recheck');
afterAll(() => tmp.cleanup());
let n = 0;

const groupOf = (s: Snapshot, name: string) => s.groups.find((g: Snapshot) => g.displayName === name);
const idOf = (s: Snapshot, upn: string) => s.users.find((u: Snapshot) => u.userPrincipalName.toLowerCase() === upn.toLowerCase())?.id;

/**
 * A tenant where an earlier run created the staged rollout policy and attached the rollout group, and
 * a second plan, of every user, that only adds the ones that run left out to the group.
 */
async function addsOnlyPlan(leftOut = /^(judy|zoe|bob|carol|dave)@/) {
  const g = fakeGraph();
  const dir = join(tmp.dir, `t${++n}`);
  const users = join(tmp.dir, `first${n}.txt`);
  const before = g.emu.snapshot() as Snapshot;
  writeFileSync(users, (before.users as Snapshot[]).map((u) => u.userPrincipalName as string).filter((u) => !leftOut.test(u)).join('\n'));
  await planTo(g, `${dir}-first.plan`, { users, rolloutGroups: [ROLLOUT] });
  expect((await applyFile(g, `${dir}-first.plan`, `${dir}-first`)).outcome.state).toBe('completed');
  const { plan } = await planTo(g, `${dir}.plan`, { rolloutGroups: [ROLLOUT] });
  // The premise: the plan changes nothing of the policy, only adds users to its group.
  expect(plan.cutover_changes).toEqual([]);
  const adds = plan.user_changes.filter((c) => c.resource.startsWith('rolloutGroup/') && c.action === 'create').map((c) => c.user);
  expect(adds.length).toBeGreaterThan(1);
  const s = g.emu.snapshot() as Snapshot;
  const policy = s.featureRolloutPolicies[0];
  expect(policy).toMatchObject({ isEnabled: true, appliesTo: [groupOf(s, ROLLOUT).id] });
  return { g, dir, adds, policyId: policy.id as string, groupId: groupOf(s, ROLLOUT).id as string };
}

/** The error a promise is refused with (a test failure when it is not). */
const refusal = (p: Promise<unknown>): Promise<Error> =>
  p.then(
    () => expect.unreachable('not refused'),
    (e: unknown) => e as Error,
  );
const setEnabled = (g: FakeGraph, id: string, isEnabled: boolean) => g.raw.patch(`${POLICY}/${id}`, { isEnabled });
const detach = (g: FakeGraph, id: string, group: string) => g.raw.delete(`${POLICY}/${id}/appliesTo/${group}/$ref`);
const attach = (g: FakeGraph, id: string, group: string) => g.raw.post(`${POLICY}/${id}/appliesTo/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${group}` });

describe('a plan whose switches rest on the staged rollout as it read it', () => {
  it('is refused, even with --skip-stale, when the policy was disabled since; nothing is written; enabled again, it applies and its users are switched', async () => {
    const { g, dir, adds, policyId } = await addsOnlyPlan();
    expect((await setEnabled(g, policyId, false)).status).toBe(204);
    g.emu.clearRequests();
    const disabled = /policy featureRolloutPolicies\/multiFactorAuthentication: the staged rollout policy was disabled since the plan: the \d+ user\(s\) the plan adds to rollout groups would not be switched to Entra MFA/;
    for (const skipStale of [false, true]) {
      const err = await refusal(applyFile(g, `${dir}.plan`, join(dir, `s${skipStale}`), { skipStale }));
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toMatch(disabled);
      expect(err.message).toMatch(/--skip-stale leaves out users, not these/);
    }
    expect(writes(g.emu.requests())).toEqual([]);

    expect((await setEnabled(g, policyId, true)).status).toBe(204);
    const { outcome } = await applyFile(g, `${dir}.plan`, join(dir, 'again'));
    expect(outcome.state).toBe('completed');
    const status = await cutoverStatus({ source: CONTOSO, graph: g.client({ readOnly: true }), concurrency: 4 });
    for (const upn of adds) expect(status.users.find((r) => r.user.toLowerCase() === upn.toLowerCase())).toMatchObject({ switched: true });
  });

  it('is refused when the group was detached since, naming it; and when the policy was deleted', async () => {
    const { g, dir, policyId, groupId } = await addsOnlyPlan();
    expect((await detach(g, policyId, groupId)).status).toBe(204);
    g.emu.clearRequests();
    await expect(applyFile(g, `${dir}.plan`, join(dir, 'a'), { skipStale: true })).rejects.toThrow(
      new RegExp(`policy featureRolloutPolicies/multiFactorAuthentication/appliesTo/${groupId}: "${ROLLOUT}" was detached from the staged rollout policy since the plan: the \\d+ user\\(s\\) the plan adds to it would not be switched to Entra MFA`),
    );
    expect(writes(g.emu.requests())).toEqual([]);

    expect((await g.raw.delete(`${POLICY}/${policyId}`)).status).toBe(204);
    g.emu.clearRequests();
    const err = await refusal(applyFile(g, `${dir}.plan`, join(dir, 'b')));
    expect(err.message).toMatch(/policy featureRolloutPolicies\/multiFactorAuthentication: the staged rollout policy was deleted since the plan/);
    // Gone with its policy, the group's detachment is not said a second time.
    expect(err.message).not.toMatch(/detached/);
    expect(writes(g.emu.requests())).toEqual([]);
  });

  it('resume reads it again before it writes: refused while the policy is disabled, the run finished once it is enabled again', async () => {
    const { g, dir, adds, policyId } = await addsOnlyPlan(/^(judy|zoe|bob|carol|dave|erin|frank|grace)@/);
    const first = await applyFile(g, `${dir}.plan`, dir, { batchSize: 1, waves: 1 });
    expect(first.outcome.state).toBe('stopped');
    expect((await setEnabled(g, policyId, false)).status).toBe(204);
    g.emu.clearRequests();
    await expect(resumeIn(g, dir)).rejects.toThrow(/the staged rollout policy was disabled since the plan: the \d+ user\(s\) the plan adds to rollout groups would not be switched/);
    expect(writes(g.emu.requests())).toEqual([]);
    // Refused before the run was taken up: its journal has no second pass.
    expect(journalLines(runDirs(dir)[0]!).filter((l) => l.t === 'resume')).toEqual([]);

    expect((await setEnabled(g, policyId, true)).status).toBe(204);
    const resumed = await resumeIn(g, dir);
    expect(resumed.outcome.state).toBe('completed');
    const s = g.emu.snapshot() as Snapshot;
    expect(groupOf(s, ROLLOUT).members).toEqual(expect.arrayContaining(adds.map((u) => idOf(s, u))));
  });

  it('a resume with the policy step still to do is not refused for what that step sets (the policy enabled, the group attached)', async () => {
    const g = fakeGraph();
    expect((await g.raw.post(POLICY, { displayName: 'Earlier pilot', feature: 'multiFactorAuthentication', isEnabled: false, isAppliedToOrganization: false })).status).toBe(201);
    const dir = join(tmp.dir, `t${++n}`);
    const { plan } = await planTo(g, `${dir}.plan`, { rolloutGroups: [ROLLOUT] });
    expect(plan.cutover_changes.map((c) => c.action)).toEqual(['update', 'create']);
    // Interrupted as the policy step begins: nothing sent.
    const stop = new AbortController();
    const first = await applyFile(g, `${dir}.plan`, dir, { signal: stop.signal, onProgress: (e) => e.phase === 'policy' && stop.abort() });
    expect(first.outcome.state).toBe('interrupted');
    expect((g.emu.snapshot() as Snapshot).featureRolloutPolicies[0]).toMatchObject({ isEnabled: false, appliesTo: [] });
    const resumed = await resumeIn(g, dir);
    expect(resumed.outcome.state).toBe('completed');
    const s = g.emu.snapshot() as Snapshot;
    expect(s.featureRolloutPolicies[0]).toMatchObject({ isEnabled: true, appliesTo: [groupOf(s, ROLLOUT).id] });
    expect(groupOf(s, ROLLOUT).members).toHaveLength(plan.user_changes.filter((c) => c.resource.startsWith('rolloutGroup/') && c.action === 'create').length);
  });

  it('a group detached between the waves of a long run stops it before the next wave is written; resume refuses until it is attached again', async () => {
    const { g, dir, adds, policyId, groupId } = await addsOnlyPlan(/^(judy|zoe|bob|carol|dave|erin|frank|grace)@/);
    const membersOf = () => (g.emu.snapshot() as Snapshot).groups.find((x: Snapshot) => x.id === groupId).members.length as number;
    const before = membersOf();
    // Once two users are added (two waves of one), the group is detached, and the clock moves on (the pre-flight minutes old).
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    try {
      let detached = false;
      const fetch: typeof g.emu.fetch = async (input, init) => {
        const res = await g.emu.fetch(input, init);
        if (!detached && membersOf() === before + 2) {
          detached = true;
          await detach(g, policyId, groupId);
          vi.setSystemTime(Date.now() + 5 * 60_000);
        }
        return res;
      };
      const graph = connectGraph({ graphUrl: g.emu.url, fetch, readOnly: false, concurrency: 4, retry: { capMs: 300 } });
      const err = await refusal(applyFile(g, `${dir}.plan`, dir, { graph, batchSize: 1 }));
      expect(detached).toBe(true);
      expect(err.message).toMatch(new RegExp(`appliesTo/${groupId}: "${ROLLOUT}" was detached from the staged rollout policy since the plan`));
    } finally {
      vi.useRealTimers();
    }
    // The run stopped before the third wave: two switches written, the rest not.
    expect(membersOf()).toBe(before + 2);
    expect(runDirs(dir)).toHaveLength(1);
    g.emu.clearRequests();
    await expect(resumeIn(g, dir)).rejects.toThrow(/was detached from the staged rollout policy since the plan/);
    expect(writes(g.emu.requests())).toEqual([]);
    expect((await attach(g, policyId, groupId)).status).toBe(204);
    expect((await resumeIn(g, dir)).outcome.state).toBe('completed');
    expect(membersOf()).toBe(before + adds.length);
  });
});
