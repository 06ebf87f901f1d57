import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cutoverStatus } from '../../src/app/status.js';
import { runReport } from '../../src/app/report.js';
import { renderRollbackSummary } from '../../src/cli/views/apply-summary.js';
import { type FakeGraph } from '../helpers/graph.js';
import { applyFile, CONTOSO, journalLines, rollbackIn, testDir, planOfUntouched } from '../helpers/migration.js';
import type { Snapshot } from '../helpers/tenant-checks.js';

/**
 * Found by a black-box test: a run of bob alone created the staged rollout policy and enabled SMS and
 * voice; an admin then added alice (a mobile phone, nothing else; not one of the run's users) to the
 * rollout group. The rollback left the policy and the group alone (a user added since) but still put
 * the methods policy back, turning SMS and voice off: alice stayed switched to Entra MFA with no
 * method she could use, unnamed.
 */
const ROLLOUT = 'MFA Staged Rollout';
const CONFIGS = '/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations';
const BY_ROLLOUT = `still switched to Entra MFA by the group "${ROLLOUT}" of the staged rollout policy`;

const groupId = (g: FakeGraph, name: string): string => (g.emu.snapshot() as Snapshot).groups.find((x: Snapshot) => x.displayName === name).id;
const userOf = (g: FakeGraph, upn: string): Snapshot => (g.emu.snapshot() as Snapshot).users.find((u: Snapshot) => u.userPrincipalName === upn);
const configState = async (g: FakeGraph, id: string): Promise<string> => (await g.raw.get(`${CONFIGS}/${id}`)).body.state;
const addMember = (g: FakeGraph, upn: string) => g.raw.post(`/v1.0/groups/${groupId(g, ROLLOUT)}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${userOf(g, upn).id}` });
const status = async (g: FakeGraph) => (await cutoverStatus({ source: CONTOSO, graph: g.client(), concurrency: 4 })).users;
const lockedOut = async (g: FakeGraph) => (await status(g)).filter((u) => u.switched && u.blocked).map((u) => u.user);

/** The Contoso plan with a rollout group, applied to bob alone; then an admin adds `others` to the rollout group. */
async function bobAppliedThenAdded(name: string, others: string[]) {
  const { dir } = testDir(name);
  const { g } = await planOfUntouched(join(dir, 'all.plan'), { rolloutGroups: [ROLLOUT] });
  const { outcome } = await applyFile(g, join(dir, 'all.plan'), join(dir, 'state'), { users: ['bob@contoso.com'] });
  expect(outcome.state).toBe('completed');
  expect((g.emu.snapshot() as Snapshot).featureRolloutPolicies[0].isEnabled).toBe(true);
  for (const id of ['Sms', 'Voice']) expect(await configState(g, id), id).toBe('enabled');
  for (const upn of others) expect((await addMember(g, upn)).status).toBe(204);
  return { g, stateDir: join(dir, 'state'), runId: outcome.runId };
}

describe("rollback's undo of the methods policy with users outside the run still switched to Entra MFA", () => {
  it('holds the undo that would leave a member outside the run with no method she can use, and names her', async () => {
    const { g, stateDir, runId } = await bobAppliedThenAdded('lockout-alice', ['alice@contoso.com']);
    expect(userOf(g, 'alice@contoso.com').methods.phone.map((p: Snapshot) => p.phoneType)).toEqual(['mobile']);
    expect(await lockedOut(g)).toEqual([]);
    const back = await rollbackIn(g, stateDir, runId);
    const o = back.outcome;
    expect(o.state).toBe('partial');
    // The policy and the group are left alone (a user added since), as before.
    expect(o.changedSince.map((c) => c.target)).toEqual(['featureRolloutPolicies/multiFactorAuthentication/appliesTo/' + groupId(g, ROLLOUT), 'featureRolloutPolicies/multiFactorAuthentication']);
    // alice is still switched, and can still use her mobile phone; bob (the run's) is back on MFA Server, his methods gone
    // (but the mobile phone behind the default the run set, which Graph cannot unset).
    expect((await status(g)).find((u) => u.user === 'alice@contoso.com')).toMatchObject({ switched: true, blocked: null, methods: ['mobile'] });
    expect(await lockedOut(g)).toEqual([]);
    expect((await status(g)).find((u) => u.user === 'bob@contoso.com')).toMatchObject({ switched: false });
    expect(userOf(g, 'bob@contoso.com').methods.phone.map((p: Snapshot) => p.phoneType)).toEqual(['mobile']);
    for (const id of ['Sms', 'Voice']) expect(await configState(g, id), id).toBe('enabled');
    // Held, journaled skipped with who it is left for; named in the summary and the report.
    const reason = `${BY_ROLLOUT}: 1 user(s) outside the run would have no method they can use once the rollback's policy undos are sent, this one among them (alice@contoso.com)`;
    expect(o.stillSwitched).toContainEqual({ target: 'authenticationMethodConfigurations/Sms', reason });
    expect(o.stillSwitched).toContainEqual({ target: 'authenticationMethodConfigurations/Voice', reason });
    expect(o.stillSwitchedUsers).toEqual([]);
    expect(o.stillSwitchedOthers).toEqual({ count: 1, first: ['alice@contoso.com'], by: [`the group "${ROLLOUT}" of the staged rollout policy`], unread: 0 });
    const skipped = journalLines(join(stateDir, 'runs', o.runId)).flatMap((l) => l.ops ?? []).filter((r: Snapshot) => r.state === 'skipped' && String(r.error).startsWith('still switched'));
    expect(skipped.map((r: Snapshot) => r.error)).toEqual([reason, reason]);
    const summary = renderRollbackSummary(o, stateDir, undefined, undefined, undefined, { again: `mfa-migrate rollback ${o.runId}`, leave: `mfa-migrate rollback ${o.runId} --leave-switched-without-method` });
    expect(summary).toContain(`Left in place: 1 user(s) outside the run is still switched to Entra MFA by the group "${ROLLOUT}" of the staged rollout policy and would have no method they can use: alice@contoso.com. What this rollback would take from them (the methods policy's parts they need) stays, 2 object(s)`);
    const report = await runReport(o.runId, stateDir);
    expect(report.policy.find((p) => p.target === 'authenticationMethodConfigurations/Sms')).toMatchObject({ state: 'skipped', error: reason });
  });

  it('sends no hold for a member outside the run who has another method she can use (Authenticator)', async () => {
    const { g, stateDir, runId } = await bobAppliedThenAdded('lockout-other-method', ['niaj@contoso.com']);
    // niaj: Authenticator, and a mobile phone an admin added.
    expect((await g.raw.post(`/v1.0/users/niaj@contoso.com/authentication/phoneMethods`, { phoneType: 'mobile', phoneNumber: '+1 4255550177' })).status).toBe(201);
    const told: string[] = [];
    const back = await rollbackIn(g, stateDir, runId, { onProgress: (e) => void (e.phase === 'reading' && told.push(e.reading!.what)) });
    // Her methods were read (a step of the progress), and she keeps one she can use: nothing is held for her.
    expect(told).toContain("reading the methods of the 1 user(s) outside the run the staged rollout still switches to Entra MFA, whom the methods policy's undo may leave with none they can use (Graph)");
    expect(back.outcome.stillSwitched).toEqual([]);
    expect(back.outcome.stillSwitchedOthers).toBeUndefined();
    for (const id of ['Sms', 'Voice']) expect(await configState(g, id), id).toBe('disabled');
    expect((await status(g)).find((u) => u.user === 'niaj@contoso.com')).toMatchObject({ switched: true, blocked: null, methods: ['authenticator'] });
  });

  it('sends the held undo on a later rollback of the rollback once she left the group', async () => {
    const { g, stateDir, runId } = await bobAppliedThenAdded('lockout-later', ['alice@contoso.com']);
    const first = await rollbackIn(g, stateDir, runId);
    expect(first.outcome.stillSwitched.map((x) => x.target).sort()).toEqual(['authenticationMethodConfigurations/Sms', 'authenticationMethodConfigurations/Voice']);
    expect(first.outcome.resumable).toBe(false);
    // Still in the group: left again.
    const again = await rollbackIn(g, stateDir, first.outcome.runId);
    expect(again.outcome.stillSwitchedOthers?.first).toEqual(['alice@contoso.com']);
    for (const id of ['Sms', 'Voice']) expect(await configState(g, id), id).toBe('enabled');
    expect((await g.raw.delete(`/v1.0/groups/${groupId(g, ROLLOUT)}/members/${userOf(g, 'alice@contoso.com').id}/$ref`)).status).toBe(204);
    const done = await rollbackIn(g, stateDir, first.outcome.runId);
    expect(done.outcome.stillSwitched).toEqual([]);
    for (const id of ['Sms', 'Voice']) expect(await configState(g, id), id).toBe('disabled');
    expect(await lockedOut(g)).toEqual([]);
  });

  it('holds it for a user of the plan the run left out as stale, as for any user outside the run', async () => {
    const { dir } = testDir('lockout-stale');
    const { g } = await planOfUntouched(join(dir, 'all.plan'), { rolloutGroups: [ROLLOUT] });
    // alice's mobile phone changed since the plan: apply leaves her out as stale.
    const phone = userOf(g, 'alice@contoso.com').methods.phone[0];
    expect((await g.raw.patch(`/v1.0/users/alice@contoso.com/authentication/phoneMethods/${phone.id}`, { phoneNumber: '+1 2065550188', phoneType: 'mobile' })).status).toBe(204);
    const { outcome } = await applyFile(g, join(dir, 'all.plan'), join(dir, 'state'), { users: ['alice@contoso.com', 'bob@contoso.com'], skipStale: true });
    expect(outcome.staleUsers.first).toEqual(['alice@contoso.com']);
    expect((await addMember(g, 'alice@contoso.com')).status).toBe(204);
    const back = await rollbackIn(g, join(dir, 'state'), outcome.runId);
    expect(back.outcome.stillSwitchedOthers?.first).toEqual(['alice@contoso.com']);
    for (const id of ['Sms', 'Voice']) expect(await configState(g, id), id).toBe('enabled');
    expect(await lockedOut(g)).toEqual([]);
  });

  it('holds it for the users of a staged rollout the run never touched (enabled by an admin since)', async () => {
    const { dir } = testDir('lockout-no-cutover');
    const { g } = await planOfUntouched(join(dir, 'all.plan'));
    const { outcome } = await applyFile(g, join(dir, 'all.plan'), join(dir, 'state'), { users: ['bob@contoso.com'] });
    expect(outcome.state).toBe('completed');
    const pilot = await g.raw.post('/v1.0/policies/featureRolloutPolicies', { displayName: 'Pilot', feature: 'multiFactorAuthentication', isEnabled: true, isAppliedToOrganization: false });
    expect((await g.raw.post(`/v1.0/policies/featureRolloutPolicies/${pilot.body.id}/appliesTo/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${groupId(g, ROLLOUT)}` })).status).toBe(204);
    expect((await addMember(g, 'alice@contoso.com')).status).toBe(204);
    const back = await rollbackIn(g, join(dir, 'state'), outcome.runId);
    expect(back.outcome.stillSwitchedOthers?.first).toEqual(['alice@contoso.com']);
    expect(back.outcome.stillSwitched.map((x) => x.target).sort()).toEqual(['authenticationMethodConfigurations/Sms', 'authenticationMethodConfigurations/Voice']);
    expect(await lockedOut(g)).toEqual([]);
  });

  it('--leave-switched-without-method sends it all the same, said; --out-of-order does not', async () => {
    const { g, stateDir, runId } = await bobAppliedThenAdded('lockout-out-of-order', ['alice@contoso.com']);
    const held = await rollbackIn(g, stateDir, runId, { outOfOrder: true });
    expect(held.outcome.stillSwitchedOthers?.first).toEqual(['alice@contoso.com']);
    for (const id of ['Sms', 'Voice']) expect(await configState(g, id), id).toBe('enabled');
    const said: string[] = [];
    const back = await rollbackIn(g, stateDir, held.outcome.runId, { leaveSwitchedWithoutMethod: true, log: (l) => said.push(l) });
    expect(back.outcome.stillSwitched).toEqual([]);
    expect(said).toContainEqual(expect.stringMatching(/^Warning: --leave-switched-without-method: 1 user\(s\) outside the run still switched to Entra MFA .*alice@contoso\.com/));
    for (const id of ['Sms', 'Voice']) expect(await configState(g, id), id).toBe('disabled');
    expect(await lockedOut(g)).toEqual(['alice@contoso.com']);
  });

  it("names a member outside the run who relies on a setting held for the run's user alone: in the summary, and in --leave-switched-without-method's warning (a review)", async () => {
    const { g, stateDir, runId } = await bobAppliedThenAdded('lockout-held-for-run', []);
    // An admin attaches another group to the rollout policy: "MFA Migration Wave 1", holding bob (of the run) and alice (a mobile phone alone).
    const policy = (g.emu.snapshot() as Snapshot).featureRolloutPolicies[0].id;
    expect((await g.raw.post(`/v1.0/policies/featureRolloutPolicies/${policy}/appliesTo/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${groupId(g, 'MFA Migration Wave 1')}` })).status).toBe(204);
    const held = (await rollbackIn(g, stateDir, runId)).outcome;
    expect(held.stillSwitchedUsers.map((u) => u.user)).toEqual(['bob@contoso.com']);
    // Sms and voice are held for bob; alice relies on SMS alone: named all the same.
    expect(held.stillSwitchedOthers).toMatchObject({ first: ['alice@contoso.com'], count: 1 });
    expect(held.stillSwitched.find((x) => x.target === 'authenticationMethodConfigurations/Sms')?.reason).toMatch(/hold a method it enables \(bob@contoso\.com\); and 1 user\(s\) outside the run .*\(alice@contoso\.com\)$/);
    const said: string[] = [];
    const back = await rollbackIn(g, stateDir, held.runId, { leaveSwitchedWithoutMethod: true, log: (l) => said.push(l) });
    expect(said).toContainEqual(expect.stringMatching(/^Warning: --leave-switched-without-method: 1 user\(s\) outside the run still switched to Entra MFA .*: alice@contoso\.com$/));
    expect(renderRollbackSummary(back.outcome, stateDir, undefined)).toMatch(/Taken all the same \(--leave-switched-without-method\): .*alice@contoso\.com/);
    expect(await lockedOut(g)).toContain('alice@contoso.com');
  });
});
