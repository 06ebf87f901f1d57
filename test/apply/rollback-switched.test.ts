import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cutoverStatus } from '../../src/app/status.js';
import { runReport } from '../../src/app/report.js';
import { renderRollbackSummary } from '../../src/cli/views/apply-summary.js';
import { connectGraph } from '../../src/graph/connect.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, CONTOSO, journalLines, planOfUntouched, planTo, rollbackIn, testDir } from '../helpers/migration.js';
import type { Snapshot } from '../helpers/tenant-checks.js';

/**
 * Found by a black-box test: with the staged rollout policy left alone (a group attached to it since
 * the run), the rollback still took the methods of that group's users and turned SMS and voice off,
 * leaving alice, bob, carol and grace switched to Entra MFA with nothing to sign in with, unsaid.
 */
const ROLLOUT = 'MFA Staged Rollout';
const WAVE1 = 'MFA Migration Wave 1';
const CONFIGS = '/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations';
const BY_WAVE1 = `still switched to Entra MFA by the group "${WAVE1}" of the staged rollout policy`;

const groupId = (g: FakeGraph, name: string): string => (g.emu.snapshot() as Snapshot).groups.find((x: Snapshot) => x.displayName === name).id;
const userOf = (g: FakeGraph, upn: string): Snapshot => (g.emu.snapshot() as Snapshot).users.find((u: Snapshot) => u.userPrincipalName === upn);
const attach = (g: FakeGraph, policyId: string, name: string) => g.raw.post(`/v1.0/policies/featureRolloutPolicies/${policyId}/appliesTo/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${groupId(g, name)}` });
const configState = async (g: FakeGraph, id: string): Promise<string> => (await g.raw.get(`${CONFIGS}/${id}`)).body.state;
/** Users switched to Entra MFA with no cloud method they can use (`status`'s one state that locks a user out). */
const lockedOut = async (g: FakeGraph) => (await cutoverStatus({ source: CONTOSO, graph: g.client(), concurrency: 4 })).users.filter((u) => u.switched && u.blocked).map((u) => u.user);
const switchedUsers = async (g: FakeGraph) => (await cutoverStatus({ source: CONTOSO, graph: g.client(), concurrency: 4 })).users.filter((u) => u.switched).map((u) => u.user);

/** The whole Contoso export applied with --rollout-group, then an admin attaches "MFA Migration Wave 1" to the run's rollout policy. */
async function appliedThenWave1Attached(name: string) {
  const { dir } = testDir(name);
  const { g } = await planOfUntouched(join(dir, 'all.plan'), { rolloutGroups: [ROLLOUT] });
  const { outcome } = await applyFile(g, join(dir, 'all.plan'), join(dir, 'state'));
  expect(outcome.state).toBe('completed');
  const policy = (g.emu.snapshot() as Snapshot).featureRolloutPolicies[0];
  expect((await attach(g, policy.id, WAVE1)).status).toBe(204);
  return { g, stateDir: join(dir, 'state'), runId: outcome.runId, policyId: policy.id as string, usersDone: outcome.userCounts.done };
}

describe('rollback with users still switched to Entra MFA by a staged rollout it leaves in place', () => {
  it('leaves their methods, and the SMS and voice they need, in place, naming them in the summary and the report; other users are rolled back', async () => {
    const { g, stateDir, runId } = await appliedThenWave1Attached('switched-left-alone');
    const gracePhones = userOf(g, 'grace@contoso.com').methods.phone.length;
    expect(gracePhones).toBeGreaterThan(0);
    expect(userOf(g, 'heidi@contoso.com').methods.hardwareOath).toHaveLength(1);
    const back = await rollbackIn(g, stateDir, runId);
    const o = back.outcome;
    expect(o.state).toBe('partial');
    // The policy is left alone as changed since the run, as before; the run's own group is detached.
    expect(o.changedSince.map((c) => c.target)).toEqual(['featureRolloutPolicies/multiFactorAuthentication']);
    expect(o.cutoverUndone.map((c) => c.kind)).toEqual(['rollout-detach']);

    // Nobody is left switched with nothing to sign in with; Wave 1's users are still switched.
    expect(await lockedOut(g)).toEqual([]);
    expect((await switchedUsers(g)).sort()).toEqual(['alice@contoso.com', 'bob@contoso.com', 'carol@contoso.com', 'grace@contoso.com', 'niaj@contoso.com']);
    expect(userOf(g, 'grace@contoso.com').methods.phone).toHaveLength(gracePhones);
    expect(userOf(g, 'grace@contoso.com').methods.hardwareOath).toHaveLength(1);
    expect(userOf(g, 'bob@contoso.com').methods.phone.map((p: Snapshot) => p.phoneType).sort()).toEqual(['alternateMobile', 'mobile']);
    for (const id of ['Sms', 'Voice', 'HardwareOath']) expect(await configState(g, id), id).toBe('enabled');
    // Users outside Wave 1 are rolled back: heidi's token the run created is gone, and so is the TAP policy it enabled.
    expect(userOf(g, 'heidi@contoso.com').methods.hardwareOath).toEqual([]);
    expect(await configState(g, 'TemporaryAccessPass')).toBe('disabled');

    // Said, user by user, with the reason; journaled skipped with it.
    expect(o.stillSwitchedUsers.map((u) => u.user)).toEqual(['alice@contoso.com', 'bob@contoso.com', 'carol@contoso.com', 'grace@contoso.com', 'niaj@contoso.com']);
    expect(new Set(o.stillSwitchedUsers.map((u) => u.by))).toEqual(new Set([`the group "${WAVE1}" of the staged rollout policy`]));
    expect(o.stillSwitched).toContainEqual({ user: 'grace@contoso.com', target: 'hardwareOathMethods/20010001', reason: BY_WAVE1 });
    expect(o.stillSwitched).toContainEqual({ user: 'bob@contoso.com', target: 'phoneMethods/alternateMobile', reason: BY_WAVE1 });
    expect(o.stillSwitched).toContainEqual({ target: 'authenticationMethodConfigurations/Voice', reason: `${BY_WAVE1}: 5 user(s) hold a method it enables (alice@contoso.com, bob@contoso.com, carol@contoso.com, niaj@contoso.com, grace@contoso.com)` });
    // Not what they do not need: Temporary Access Pass, nor Authenticator's OATH codes (niaj's Authenticator pushes need neither).
    expect(o.stillSwitched.map((x) => x.target)).not.toContain('authenticationMethodConfigurations/TemporaryAccessPass');
    expect(o.stillSwitched.map((x) => x.target)).not.toContain('authenticationMethodConfigurations/MicrosoftAuthenticator');
    // What a plain rollback of it would do again makes no progress while they are switched: not offered as a resume.
    expect(o.resumable).toBe(false);
    const skipped = journalLines(join(stateDir, 'runs', o.runId)).flatMap((l) => l.ops ?? []).filter((r: Snapshot) => r.state === 'skipped' && String(r.error).startsWith('still switched'));
    expect(skipped.length).toBeGreaterThanOrEqual(o.stillSwitched.length);

    const summary = renderRollbackSummary(o, stateDir, undefined, undefined, undefined, { again: `mfa-migrate rollback ${o.runId}`, leave: `mfa-migrate rollback ${o.runId} --leave-switched-without-method` });
    expect(summary).toContain(`  left alone (user still switched to Entra MFA): grace@contoso.com hardwareOathMethods/20010001: ${BY_WAVE1}\n`);
    expect(summary).toContain(
      `Left in place: 5 user(s) of the run are still switched to Entra MFA by the group "${WAVE1}" of the staged rollout policy: alice@contoso.com, bob@contoso.com, carol@contoso.com, grace@contoso.com, niaj@contoso.com.`,
    );
    expect(summary).toContain(`finish with: mfa-migrate rollback ${o.runId}; to take them all the same, leaving them with nothing to sign in with (--leave-switched-without-method; --out-of-order does not): mfa-migrate rollback ${o.runId} --leave-switched-without-method\n`);

    const report = await runReport(o.runId, stateDir);
    const grace = report.users.find((u) => u.user === 'grace@contoso.com')!;
    expect(grace.outcome).toBe('partly-undone');
    expect(grace.left_in_place).toContainEqual({ target: 'hardwareOathMethods/20010001/assign-activate/deactivate', reason: `${BY_WAVE1}: left in place while they are (rollback ${o.runId} sends it once they are not; with --leave-switched-without-method, all the same)` });
    expect(report.policy.find((p) => p.target === 'authenticationMethodConfigurations/Sms')).toMatchObject({ state: 'skipped', error: expect.stringMatching(/^still switched to Entra MFA by .*alice@contoso\.com/) });
  });

  it('sends what it left once the users are no longer switched (an admin detached the group), on the next rollback of the rollback', async () => {
    const { g, stateDir, runId, policyId } = await appliedThenWave1Attached('switched-later');
    const first = await rollbackIn(g, stateDir, runId);
    expect(first.outcome.stillSwitched.length).toBeGreaterThan(0);
    expect((await g.raw.delete(`/v1.0/policies/featureRolloutPolicies/${policyId}/appliesTo/${groupId(g, WAVE1)}/$ref`)).status).toBe(204);
    const again = await rollbackIn(g, stateDir, first.outcome.runId);
    expect(again.outcome.stillSwitched).toEqual([]);
    expect(userOf(g, 'grace@contoso.com').methods.hardwareOath).toEqual([]);
    expect(userOf(g, 'bob@contoso.com').methods.phone.map((p: Snapshot) => p.phoneType)).toEqual(['mobile']);
    for (const id of ['Sms', 'Voice', 'HardwareOath']) expect(await configState(g, id), id).toBe('disabled');
    // The policy it left alone as changed since stays so (only --force deletes it).
    expect(again.outcome.changedSince.map((c) => c.target)).toEqual(['featureRolloutPolicies/multiFactorAuthentication']);
  });

  it('--leave-switched-without-method takes them all the same, said on stderr and in the outcome; --force deletes the policy (its users go back to MFA Server), and then takes them', async () => {
    const a = await appliedThenWave1Attached('switched-out-of-order');
    const said: string[] = [];
    const forced = await rollbackIn(a.g, a.stateDir, a.runId, { leaveSwitchedWithoutMethod: true, log: (l) => said.push(l) });
    expect(forced.outcome.stillSwitched).toEqual([]);
    expect(forced.outcome.leftWithoutMethod?.users.map((u) => u.user)).toContain('grace@contoso.com');
    expect(said).toContainEqual(expect.stringMatching(/^Warning: --leave-switched-without-method: 5 user\(s\) of the run still switched to Entra MFA lose the methods this rollback takes.*grace@contoso\.com \(by the group "MFA Migration Wave 1" of the staged rollout policy\)/));
    expect(userOf(a.g, 'grace@contoso.com').methods.hardwareOath).toEqual([]);
    expect(await lockedOut(a.g)).toContain('grace@contoso.com');

    const b = await appliedThenWave1Attached('switched-force');
    const back = await rollbackIn(b.g, b.stateDir, b.runId, { force: true });
    expect(back.outcome.state).toBe('completed');
    expect(back.outcome.stillSwitched).toEqual([]);
    expect((b.g.emu.snapshot() as Snapshot).featureRolloutPolicies).toEqual([]);
    expect(await switchedUsers(b.g)).toEqual([]);
  });

  it('a policy made to apply to the whole organisation since the run keeps every user of the run switched, and what they have', async () => {
    const { dir } = testDir('switched-organisation');
    const { g } = await planOfUntouched(join(dir, 'all.plan'), { rolloutGroups: [ROLLOUT] });
    const { outcome } = await applyFile(g, join(dir, 'all.plan'), join(dir, 'state'));
    const policy = (g.emu.snapshot() as Snapshot).featureRolloutPolicies[0];
    expect((await g.raw.patch(`/v1.0/policies/featureRolloutPolicies/${policy.id}`, { isAppliedToOrganization: true })).status).toBeLessThan(300);
    // Users the run gave nothing (no cloud method to migrate) are locked out by the admin's change already; the rollback adds none.
    const lockedBefore = await lockedOut(g);
    const back = await rollbackIn(g, join(dir, 'state'), outcome.runId);
    expect(back.outcome.changedSince.map((c) => c.reason)).toEqual(['the staged rollout policy applies to the whole organisation since the run']);
    const by = 'the staged rollout policy (it applies to the whole organisation)';
    expect(back.outcome.stillSwitched).toContainEqual({ user: 'heidi@contoso.com', target: 'hardwareOathMethods/20010002', reason: `still switched to Entra MFA by ${by}` });
    expect(userOf(g, 'heidi@contoso.com').methods.hardwareOath).toHaveLength(1);
    expect(await lockedOut(g)).toEqual(lockedBefore);
  });

  it('a policy that was enabled before the run (nothing of it to undo): a group attached since keeps its users switched, and their methods', async () => {
    const g = fakeGraph();
    const { dir } = testDir('switched-enabled-before');
    const pilot = await g.raw.post('/v1.0/policies/featureRolloutPolicies', { displayName: 'Earlier pilot', feature: 'multiFactorAuthentication', isEnabled: true, isAppliedToOrganization: false });
    await planTo(g, join(dir, 'all.plan'), { rolloutGroups: [ROLLOUT] });
    const { outcome } = await applyFile(g, join(dir, 'all.plan'), join(dir, 'state'));
    expect(outcome.state).toBe('completed');
    expect((await attach(g, pilot.body.id, WAVE1)).status).toBe(204);
    const back = await rollbackIn(g, join(dir, 'state'), outcome.runId);
    // Nothing of the cutover was left alone: only the staged rollout read after its undo tells.
    expect(back.outcome.changedSince).toEqual([]);
    expect(back.outcome.state).toBe('partial');
    expect(back.outcome.stillSwitchedUsers.map((u) => u.user)).toContain('grace@contoso.com');
    expect(await lockedOut(g)).toEqual([]);
  });

  it("the cutover's undo failing (the group's detach refused) keeps the methods of the users the group still switches; the rollback is resumable", async () => {
    const g = fakeGraph();
    const { dir } = testDir('switched-detach-failed');
    // Grace is in the rollout group before the plan: the run switches her by attaching it, and adds her methods (a token, a phone).
    const rollout = groupId(g, ROLLOUT);
    const grace = userOf(g, 'grace@contoso.com').id;
    expect((await g.raw.post(`/v1.0/groups/${rollout}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${grace}` })).status).toBe(204);
    await planTo(g, join(dir, 'all.plan'), { rolloutGroups: [ROLLOUT] });
    const { outcome } = await applyFile(g, join(dir, 'all.plan'), join(dir, 'state'));
    expect(outcome.state).toBe('completed');
    expect(userOf(g, 'grace@contoso.com').methods.hardwareOath).toHaveLength(1);
    // Graph refuses the detach (a directory error, not retried).
    const detach = new RegExp(`featureRolloutPolicies/[^/]+/appliesTo/${rollout}/\\$ref$`);
    let refuse = true;
    const fetch: typeof g.emu.fetch = async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (refuse && init?.method === 'DELETE' && detach.test(url)) return new Response(JSON.stringify({ error: { code: 'Request_BadRequest', message: 'Refused by test' } }), { status: 400, headers: { 'content-type': 'application/json' } });
      if (refuse && init?.method === 'POST' && url.endsWith('/$batch')) {
        const body = JSON.parse(String(init.body)) as { requests: { id: string; method: string; url: string }[] };
        const refused = body.requests.filter((r) => r.method === 'DELETE' && detach.test(r.url));
        if (refused.length > 0) {
          const rest = body.requests.filter((r) => !refused.includes(r));
          const res = rest.length > 0 ? ((await (await g.emu.fetch(input, { ...init, body: JSON.stringify({ requests: rest }) })).json()) as { responses: unknown[] }) : { responses: [] };
          const no = refused.map((r) => ({ id: r.id, status: 400, headers: { 'content-type': 'application/json' }, body: { error: { code: 'Request_BadRequest', message: 'Refused by test' } } }));
          return new Response(JSON.stringify({ responses: [...res.responses, ...no] }), { status: 200, headers: { 'content-type': 'application/json' } });
        }
      }
      return g.emu.fetch(input, init);
    };
    const connect = () => connectGraph({ graphUrl: g.emu.url, fetch, readOnly: false, concurrency: 4, retry: { capMs: 300 } });
    const back = await rollbackIn(g, join(dir, 'state'), outcome.runId, { connect });
    expect(back.outcome.failures.map((f) => f.target)).toEqual([`featureRolloutPolicies/multiFactorAuthentication/appliesTo/${rollout}`]);
    expect(back.outcome.stillSwitchedUsers).toEqual([{ user: 'grace@contoso.com', by: `the group "${ROLLOUT}" of the staged rollout policy` }]);
    expect(back.outcome.stillSwitched).toContainEqual({ user: 'grace@contoso.com', target: 'hardwareOathMethods/20010001', reason: `still switched to Entra MFA by the group "${ROLLOUT}" of the staged rollout policy` });
    expect(userOf(g, 'grace@contoso.com').methods.hardwareOath).toHaveLength(1);
    for (const id of ['Sms', 'Voice', 'HardwareOath']) expect(await configState(g, id), id).toBe('enabled');
    expect(await lockedOut(g)).toEqual([]);
    expect(back.outcome.resumable).toBe(true);
    // Graph takes the detach again: the rollback is finished, grace is back on MFA Server, and what she was left goes.
    refuse = false;
    const done = await rollbackIn(g, join(dir, 'state'), back.outcome.runId);
    expect(done.outcome.stillSwitched).toEqual([]);
    expect(done.outcome.state).toBe('completed');
    expect(await switchedUsers(g)).toEqual([]);
    expect(userOf(g, 'grace@contoso.com').methods.hardwareOath).toEqual([]);
    for (const id of ['Sms', 'Voice', 'HardwareOath']) expect(await configState(g, id), id).toBe('disabled');
  });

  it('a read of who is still switched that fails stops the rollback after the cutover\'s undo, before any method is touched; rollback of it finishes', async () => {
    const { g, stateDir, runId } = await appliedThenWave1Attached('switched-read-fails');
    const fetch: typeof g.emu.fetch = async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (url.includes('/transitiveMembers')) return new Response(JSON.stringify({ error: { code: 'Authorization_RequestDenied', message: 'Refused by test' } }), { status: 403, headers: { 'content-type': 'application/json' } });
      return g.emu.fetch(input, init);
    };
    const connect = () => connectGraph({ graphUrl: g.emu.url, fetch, readOnly: false, concurrency: 4, retry: { capMs: 300 } });
    const before = userOf(g, 'heidi@contoso.com').methods;
    expect(before.hardwareOath).toHaveLength(1);
    g.emu.clearRequests();
    await expect(rollbackIn(g, stateDir, runId, { connect })).rejects.toThrow(/listing the members of group/);
    // The cutover went first (the run's group is detached); nothing of any user was sent.
    expect((g.emu.snapshot() as Snapshot).featureRolloutPolicies[0].appliesTo).toEqual([groupId(g, WAVE1)]);
    expect(userOf(g, 'heidi@contoso.com').methods).toEqual(before);
    expect(g.operations().filter((r) => r.method !== 'GET' && !r.path.includes('featureRolloutPolicies'))).toEqual([]);
    const rollbackRun = readdirSync(join(stateDir, 'runs')).find((id) => id !== runId)!;
    // With --leave-switched-without-method, which takes them all the same, an unreadable staged rollout does not stop it: said.
    const said: string[] = [];
    const { g: g2, stateDir: stateDir2, runId: runId2 } = await appliedThenWave1Attached('switched-read-fails-2');
    const fetch2: typeof g2.emu.fetch = async (input, init) => (String(input instanceof Request ? input.url : input).includes('/transitiveMembers') ? new Response('{"error":{"code":"Authorization_RequestDenied","message":"no"}}', { status: 403, headers: { 'content-type': 'application/json' } }) : g2.emu.fetch(input, init));
    const forced = await rollbackIn(g2, stateDir2, runId2, { leaveSwitchedWithoutMethod: true, log: (l) => said.push(l), connect: () => connectGraph({ graphUrl: g2.emu.url, fetch: fetch2, readOnly: false, concurrency: 4, retry: { capMs: 300 } }) });
    expect(said).toContainEqual(expect.stringMatching(/^Warning: --leave-switched-without-method: which users of the run the staged rollout still switches to Entra MFA could not be read \(.*\): their methods are taken all the same$/));
    expect(userOf(g2, 'grace@contoso.com').methods.hardwareOath).toEqual([]);
    expect(forced.outcome.stillSwitched).toEqual([]);
    const done = await rollbackIn(g, stateDir, rollbackRun);
    expect(done.outcome.stillSwitchedUsers.map((u) => u.user)).toContain('grace@contoso.com');
    expect(userOf(g, 'heidi@contoso.com').methods.hardwareOath).toEqual([]);
    expect(await lockedOut(g)).toEqual([]);
  });
  it("tells its read of who the staged rollout still switches as a step of the progress (a large group's members are read a page at a time); a run without a cutover tells no such step", async () => {
    const { g, stateDir, runId, usersDone } = await appliedThenWave1Attached('switched-step');
    const told: string[] = [];
    // The members read made slow (past the rollback's one-second frames): no operations frame draws over the step meanwhile.
    const frames: string[] = [];
    let membersRead = false;
    const fetch: typeof g.emu.fetch = async (input, init) => {
      if (String(input instanceof Request ? input.url : input).includes('/transitiveMembers')) {
        await new Promise((r) => setTimeout(r, 1600));
        membersRead = true;
      }
      return g.emu.fetch(input, init);
    };
    const connect = () => connectGraph({ graphUrl: g.emu.url, fetch, readOnly: false, concurrency: 4 });
    const back = await rollbackIn(g, stateDir, runId, {
      connect,
      onProgress: (e) => {
        if (e.phase === 'reading') told.push(e.reading!.what);
        frames.push(e.phase === 'reading' ? `step ${e.reading!.what}` : membersRead ? `${e.phase} after` : e.phase);
      },
    });
    expect(back.outcome.state).toBe('partial');
    const stepAt = frames.findIndex((f) => f.startsWith('step reading which of'));
    expect(stepAt).toBeGreaterThan(-1);
    expect(frames.slice(stepAt + 1).filter((f) => f === 'running')).toEqual([]);
    expect(usersDone).toBeGreaterThan(1);
    expect(told).toContain(`reading which of the run's ${usersDone} user(s) the staged rollout still switches to Entra MFA (Graph)`);

    const { dir } = testDir('switched-step-plain');
    const { g: plain } = await planOfUntouched(join(dir, 'all.plan'));
    const { outcome } = await applyFile(plain, join(dir, 'all.plan'), join(dir, 'state'));
    const toldPlain: string[] = [];
    await rollbackIn(plain, join(dir, 'state'), outcome.runId, { onProgress: (e) => void (e.phase === 'reading' && toldPlain.push(e.reading!.what)) });
    expect(toldPlain.length).toBeGreaterThan(0);
    expect(toldPlain.some((w) => w.includes('staged rollout'))).toBe(false);
  }, 60_000);
});
