import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fakeGraph } from '../helpers/graph.js';
import { applyFile, planTo, rollbackIn, tempDir, planOfUntouched } from '../helpers/migration.js';
import type { Snapshot } from '../helpers/tenant-checks.js';
import type { PlanRequest } from '../../src/app/plan.js';

/**
 * Runs are undone newest first (a black-box test of the cutover): rolling back a first wave under a
 * later run deleted the staged rollout policy and turned off the methods the later run's users were
 * switched to Entra with, exit 0 and no word of it.
 */
describe('rollback order', () => {
  const tmp = tempDir('rollback-order');
  afterAll(() => tmp.cleanup());
  const ROLLOUT = 'MFA Staged Rollout';
  const FEDERATION = '/v1.0/domains/contoso.com/federationConfiguration/1a72dea7-5ea5-52f2-b6fe-45661bf854b3';

  /** A fresh fake Graph, and a first wave (the scope group) applied to it from state folder `name`, completed. */
  async function firstWave(name: string, over: Partial<PlanRequest> = {}) {
    const dir = join(tmp.dir, name);
    const { g } = await planOfUntouched(`${dir}-wave1.plan`, { group: 'MFA Migration Wave 1', ...over });
    const first = await applyFile(g, `${dir}-wave1.plan`, dir);
    expect(first.outcome.state).toBe('completed');
    return { g, dir, first };
  }

  it('a run with a later apply run still in effect is refused, naming it; --out-of-order rolls it back anyway; once the later run is rolled back, it goes ahead', async () => {
    const { g, dir, first } = await firstWave('state', { rolloutGroups: [ROLLOUT] });
    await planTo(g, join(tmp.dir, 'all.plan'), { rolloutGroups: [ROLLOUT] });
    const second = await applyFile(g, join(tmp.dir, 'all.plan'), dir);
    expect(second.outcome.state).toBe('completed');
    expect(second.outcome.counts.done).toBeGreaterThan(0);

    const before = JSON.stringify(g.emu.snapshot());
    g.emu.clearRequests();
    await expect(rollbackIn(g, dir, first.outcome.runId)).rejects.toThrow(
      new RegExp(`run ${first.outcome.runId} is not the newest run in effect on this tenant: a run made after it is not rolled back: ${second.outcome.runId} \\(started .*, \\d+ operation\\(s\\) done\\)\\..*roll back newest first: mfa-migrate rollback ${second.outcome.runId} --state-dir .*; to roll back run ${first.outcome.runId} anyway, add --out-of-order`),
    );
    // Refused before anything was sent.
    expect(g.emu.requests().filter((r) => r.method !== 'GET')).toEqual([]);
    expect(JSON.stringify(g.emu.snapshot())).toBe(before);

    // Newest first: the later run, then the first.
    expect((await rollbackIn(g, dir, second.outcome.runId)).outcome.state).toBe('completed');
    expect((await rollbackIn(g, dir, first.outcome.runId)).outcome.state).toBe('completed');
    const s = g.emu.snapshot() as Snapshot;
    expect(s.featureRolloutPolicies).toHaveLength(0);
  });

  it('--out-of-order rolls a run back under a later one still in effect', async () => {
    const { g, dir, first } = await firstWave('state-2');
    await planTo(g, join(tmp.dir, 'rest.plan'));
    const second = await applyFile(g, join(tmp.dir, 'rest.plan'), dir);
    expect(second.outcome.counts.done).toBeGreaterThan(0);
    const back = await rollbackIn(g, dir, first.outcome.runId, { outOfOrder: true });
    expect(back.outcome.rollbackOf).toBe(first.outcome.runId);
    expect(back.outcome.counts.done).toBeGreaterThan(0);
  });

  it("users added by hand to the run's rollout group since the run keep the staged rollout policy the run created: its delete is left alone as changed since, the run's own members are removed", async () => {
    const { g, dir, first: run } = await firstWave('state-3', { rolloutGroups: [ROLLOUT] });
    let s = g.emu.snapshot() as Snapshot;
    const group = s.groups.find((x: Snapshot) => x.displayName === ROLLOUT);
    const byRun = [...group.members];
    expect(byRun.length).toBeGreaterThan(0);
    // An admin switches one more user by hand.
    const other = s.users.find((u: Snapshot) => !group.members.includes(u.id));
    expect((await g.raw.post(`/v1.0/groups/${group.id}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${other.id}` })).status).toBe(204);

    const back = await rollbackIn(g, dir, run.outcome.runId);
    // Neither the group's detach nor the policy's delete: either would switch that user back.
    const reason = `1 user(s) were added to "${ROLLOUT}" since the run (it holds ${byRun.length + 1}, the run left ${byRun.length}): they would be switched back to MFA Server`;
    expect(back.outcome.changedSince.map((c) => [c.target, c.reason])).toEqual([
      [`featureRolloutPolicies/multiFactorAuthentication/appliesTo/${group.id}`, reason],
      ['featureRolloutPolicies/multiFactorAuthentication', reason],
    ]);
    s = g.emu.snapshot() as Snapshot;
    expect(s.featureRolloutPolicies).toHaveLength(1);
    expect(s.featureRolloutPolicies[0].appliesTo).toEqual([group.id]);
    expect(s.groups.find((x: Snapshot) => x.id === group.id).members).toEqual([other.id]);
  });

  it('a later run whose journal cannot be read counts (it may be this tenant\'s), and finishing an interrupted rollback under a later run is refused too, unless it was started --out-of-order (a review)', async () => {
    const { g, dir, first } = await firstWave('state-4');
    const stopped = new AbortController();
    stopped.abort();
    const interrupted = await rollbackIn(g, dir, first.outcome.runId, { signal: stopped.signal });
    expect(interrupted.outcome.state).toBe('interrupted');
    await planTo(g, join(tmp.dir, 'rest-4.plan'));
    const second = await applyFile(g, join(tmp.dir, 'rest-4.plan'), dir);
    expect(second.outcome.counts.done).toBeGreaterThan(0);
    await expect(rollbackIn(g, dir, interrupted.outcome.runId)).rejects.toThrow(new RegExp(`run ${first.outcome.runId} is not the newest run in effect on this tenant: a run made after it is not rolled back: ${second.outcome.runId} `));

    // A folder of another name under runs/ (an admin's archive) is no later run (a review: it sorted after every date).
    mkdirSync(join(dir, 'runs', 'archive'));
    await expect(rollbackIn(g, dir, interrupted.outcome.runId)).rejects.toThrow(new RegExp(`a run made after it is not rolled back: ${second.outcome.runId} \\(started [^;]*\\)\\. `));
    // The later run's journal unreadable: it still counts, by its id.
    writeFileSync(join(dir, 'runs', second.outcome.runId, 'journal.jsonl'), '');
    await expect(rollbackIn(g, dir, interrupted.outcome.runId)).rejects.toThrow(new RegExp(`${second.outcome.runId} \\(its journal cannot be read: .*check run ${second.outcome.runId} first \\(mfa-migrate runs verify ${second.outcome.runId} --state-dir `));

    // Started out of order, it is finished as it was started.
    const { g: g2, dir: dir2, first: first2 } = await firstWave('state-5');
    const outOfOrder = await rollbackIn(g2, dir2, first2.outcome.runId, { signal: stopped.signal, outOfOrder: true });
    await planTo(g2, join(tmp.dir, 'rest-5.plan'));
    expect((await applyFile(g2, join(tmp.dir, 'rest-5.plan'), dir2)).outcome.counts.done).toBeGreaterThan(0);
    expect((await rollbackIn(g2, dir2, outOfOrder.outcome.runId)).outcome.state).toBe('completed');
  });

  it('a user added to the rollout group between the plan and the apply counts as the run found the group, not as added since (a review: the rollback left the policy alone, and so blocked every earlier run)', async () => {
    const dir = join(tmp.dir, 'state-6');
    const { g } = await planOfUntouched(`${dir}.plan`, { group: 'MFA Migration Wave 1', rolloutGroups: [ROLLOUT] });
    const s = g.emu.snapshot() as Snapshot;
    const group = s.groups.find((x: Snapshot) => x.displayName === ROLLOUT);
    // One with a cloud method: a member with none is refused by the plan since the staged rollout would switch them with nothing.
    const wave1 = s.groups.find((x: Snapshot) => x.displayName === 'MFA Migration Wave 1');
    const other = s.users.find((u: Snapshot) => !group.members.includes(u.id) && !wave1.members.includes(u.id) && (u.methods?.phone?.length ?? 0) > 0);
    expect(other).toBeDefined();
    expect((await g.raw.post(`/v1.0/groups/${group.id}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${other.id}` })).status).toBe(204);
    // Since saved plan 2.6 a member who joined a group the plan attaches is for a new plan to judge.
    await expect(applyFile(g, `${dir}.plan`, dir)).rejects.toThrow(/1 user\(s\) joined "MFA Staged Rollout" since the plan/);
    await planTo(g, `${dir}.plan`, { group: 'MFA Migration Wave 1', rolloutGroups: [ROLLOUT] });
    const run = await applyFile(g, `${dir}.plan`, dir);
    expect(run.outcome.state).toBe('completed');
    const back = await rollbackIn(g, dir, run.outcome.runId);
    expect(back.outcome.changedSince).toEqual([]);
    expect(back.outcome.state).toBe('completed');
    expect((g.emu.snapshot() as Snapshot).featureRolloutPolicies).toHaveLength(0);
  });

  it('a plan applied and then completely rolled back is not said to be "applied already" when it reads as stale (a review)', async () => {
    const { g, dir, first } = await firstWave('state-7');
    expect((await rollbackIn(g, dir, first.outcome.runId)).outcome.state).toBe('completed');
    // What Graph cannot undo (a default method set where there was none) stays: the plan reads as stale.
    const err = (await applyFile(g, `${dir}-wave1.plan`, dir).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/the plan is stale/);
    expect(err.message).not.toMatch(/applied already/);
  });

  it("is refused while a domain of the run's users rejects the federated IdP's MFA by another's doing (another folder's run, an admin), naming it, and so is finishing an interrupted rollback; --leave-switched-without-method rolls back anyway, --out-of-order does not (a black-box test of two operators: the users were left with no method under Entra MFA)", async () => {
    const { g, dir, first } = await firstWave('state-8', { rolloutGroups: [ROLLOUT] });
    const stopped = new AbortController();
    stopped.abort();
    const interrupted = await rollbackIn(g, dir, first.outcome.runId, { signal: stopped.signal });
    // Another operator, from another state folder, flips the federation of contoso.com.
    expect((await g.raw.patch(FEDERATION, { federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp' })).status).toBe(204);
    g.emu.clearRequests();
    const refused = /^contoso\.com \(\d+ user\(s\): .*\): the domain's federation rejects the federated IdP's MFA now, which neither this run nor its plan's read of the tenant did .*or add --leave-switched-without-method to roll back anyway, leaving those users with nothing to sign in with \(--out-of-order does not: it lifts the newest-first rule alone\)$/;
    await expect(rollbackIn(g, dir, interrupted.outcome.runId)).rejects.toThrow(refused);
    // --force is not the way past it: that would also overwrite what others changed since the run.
    await expect(rollbackIn(g, dir, interrupted.outcome.runId, { force: true })).rejects.toThrow(refused);
    // Nor is --out-of-order: the newest-first rule is all it lifts.
    await expect(rollbackIn(g, dir, interrupted.outcome.runId, { outOfOrder: true })).rejects.toThrow(refused);
    expect(g.emu.requests().filter((r) => r.method !== 'GET')).toEqual([]);
    expect((await rollbackIn(g, dir, interrupted.outcome.runId, { leaveSwitchedWithoutMethod: true })).outcome.state).toBe('completed');
  });

  it('is not refused for a domain that rejected the IdP\'s MFA already when the plan read the tenant: the rollback goes on, and holds what the users it still switches need (a review)', async () => {
    const g = fakeGraph();
    const dir = join(tmp.dir, 'state-9');
    expect((await g.raw.patch(FEDERATION, { federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp' })).status).toBe(204);
    await planTo(g, `${dir}.plan`, { group: 'MFA Migration Wave 1', rolloutGroups: [ROLLOUT] });
    const run = await applyFile(g, `${dir}.plan`, dir);
    expect(run.outcome.state).toBe('completed');
    const o = (await rollbackIn(g, dir, run.outcome.runId)).outcome;
    // Sent, not refused; what the domain's users sign in with stays (rollback-federation-lockout.test.ts).
    expect(o.counts.done).toBeGreaterThan(0);
    expect(o.state).toBe('partial');
    expect(o.stillSwitched.length).toBeGreaterThan(0);
    expect(o.stillSwitched.every((x) => x.reason.includes('by the federation of contoso.com'))).toBe(true);
  });
});
