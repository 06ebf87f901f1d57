import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cutoverStatus } from '../../src/app/status.js';
import { renderRollbackSummary } from '../../src/cli/views/apply-summary.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import type { PlanRequest } from '../../src/app/plan.js';
import { connectGraph } from '../../src/graph/connect.js';
import { applyFile, CONTOSO, planTo, rollbackIn, testDir, planOfUntouched } from '../helpers/migration.js';
import type { Snapshot } from '../helpers/tenant-checks.js';

/**
 * A lead, reproduced black-box: a first wave (alice alone) enabled SMS and voice and created the staged
 * rollout policy; another operator then applied the final step from another state folder (contoso.com
 * rejects the federated IdP's MFA: every user of it on Entra MFA). The first wave's rollback, no flag
 * given, deleted its staged rollout policy, found no one it still switched, and put the methods policy
 * back: 35 users of contoso.com, on Entra MFA by the federation, were left with no method they could use.
 */
const ROLLOUT = 'MFA Staged Rollout';
const CONFIGS = '/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations';
const BY_FEDERATION = "the federation of contoso.com (it rejects the federated IdP's MFA)";
const IGOR_QUINN = "2 user(s) outside the run would have no method they can use once the rollback's policy undos are sent, this one among them (igor@contoso.com, quinn@contoso.com)";

const configState = async (g: FakeGraph, id: string): Promise<string> => (await g.raw.get(`${CONFIGS}/${id}`)).body.state;
const lockedOut = async (g: FakeGraph) => (await cutoverStatus({ source: CONTOSO, graph: g.client(), concurrency: 4 })).users.filter((u) => u.switched && u.blocked).map((u) => u.user);

/** Sets contoso.com's federation to reject the federated IdP's MFA, as an admin or another state folder's final step does. */
async function rejectSince(g: FakeGraph): Promise<void> {
  const domain = (g.emu.snapshot() as Snapshot).domains.find((d: Snapshot) => d.id === 'contoso.com');
  const res = await g.raw.patch(`/v1.0/domains/contoso.com/federationConfiguration/${domain.federation.id}`, { federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp' });
  expect(res.status).toBeLessThan(300);
}

/** The Contoso plan with a rollout group, applied to `users` alone (SMS and voice enabled, the rollout policy created); then contoso.com made to reject. */
async function waveThenFederation(name: string, users: string[]) {
  const { dir } = testDir(name);
  const { g } = await planOfUntouched(join(dir, 'all.plan'), { rolloutGroups: [ROLLOUT] });
  const { outcome } = await applyFile(g, join(dir, 'all.plan'), join(dir, 'state'), { users });
  expect(outcome.state).toBe('completed');
  for (const id of ['Sms', 'Voice']) expect(await configState(g, id), id).toBe('enabled');
  await rejectSince(g);
  // Those of the domain with no method the policy lets them use already (not migrated yet): the rollback's to leave as they are.
  const before = await lockedOut(g);
  return { g, stateDir: join(dir, 'state'), runId: outcome.runId, before };
}

describe("rollback's undo of the methods policy with users of a domain rejecting the federated IdP's MFA (since the run, or before)", () => {
  it("holds the undos the run's own user still needs (alice: her own mobile phone) and those users of the domain outside the run need (hana: a token; igor and quinn: SMS alone, held for alice already), naming the federation; --leave-switched-without-method takes them, naming every one it leaves with nothing", async () => {
    const { g, stateDir, runId, before } = await waveThenFederation('federation-held', ['alice@contoso.com']);
    const o = (await rollbackIn(g, stateDir, runId)).outcome;
    expect(o.state).toBe('partial');
    for (const id of ['Sms', 'Voice', 'HardwareOath']) expect(await configState(g, id), id).toBe('enabled');
    expect(o.stillSwitchedUsers).toEqual([{ user: 'alice@contoso.com', by: BY_FEDERATION }]);
    expect(o.stillSwitchedOthers).toEqual({ first: ["hana@contoso.com", "igor@contoso.com", "quinn@contoso.com"], count: 3, by: [BY_FEDERATION], unread: 0 });
    expect(o.stillSwitched).toEqual([
      { target: 'authenticationMethodConfigurations/HardwareOath', reason: `still switched to Entra MFA by ${BY_FEDERATION}: 1 user(s) outside the run would have no method they can use once the rollback's policy undos are sent, this one among them (hana@contoso.com)` },
      // Held for alice, and igor and quinn (SMS only, outside the run) rely on it alone: named too.
      { target: 'authenticationMethodConfigurations/Sms', reason: `still switched to Entra MFA by ${BY_FEDERATION}: 1 user(s) hold a method it enables (alice@contoso.com); and ${IGOR_QUINN}` },
      { target: 'authenticationMethodConfigurations/Voice', reason: `still switched to Entra MFA by ${BY_FEDERATION}: 1 user(s) hold a method it enables (alice@contoso.com); and ${IGOR_QUINN}` },
    ]);
    // No one the federation switched lost a method to the rollback.
    expect((await lockedOut(g)).sort()).toEqual(before.sort());
    const summary = renderRollbackSummary(o, stateDir, undefined, undefined, undefined, { again: `mfa-migrate rollback ${o.runId}`, leave: `mfa-migrate rollback ${o.runId} --leave-switched-without-method` });
    expect(summary).toContain(`Left in place: 1 user(s) of the run are still switched to Entra MFA by ${BY_FEDERATION}: alice@contoso.com; 3 user(s) outside the run are still switched to Entra MFA by ${BY_FEDERATION} and would have no method they can use: hana@contoso.com, igor@contoso.com, quinn@contoso.com.`);
    expect(summary).toContain("Once they are not (the domain's federation put back to accept the federated IdP's MFA; or, outside the run, with another method they can use), finish with");

    const said: string[] = [];
    const taken = await rollbackIn(g, stateDir, o.runId, { leaveSwitchedWithoutMethod: true, log: (l) => said.push(l) });
    expect(taken.outcome.stillSwitched).toEqual([]);
    expect(renderRollbackSummary(taken.outcome, stateDir, undefined)).toMatch(/Taken all the same \(--leave-switched-without-method\): .*3 user\(s\) outside the run .*hana@contoso\.com, igor@contoso\.com, quinn@contoso\.com/);
    expect(said).toContainEqual(expect.stringMatching(/^Warning: --leave-switched-without-method: 3 user\(s\) outside the run still switched to Entra MFA \(by the federation of contoso\.com .*: hana@contoso\.com, igor@contoso\.com, quinn@contoso\.com$/));
    for (const id of ['Sms', 'Voice', 'HardwareOath']) expect(await configState(g, id), id).toBe('disabled');
    // Everyone it named, and no one it did not, is left with nothing (alice, of the run, by the first warning).
    const now = await lockedOut(g);
    expect(now.filter((u) => !before.includes(u)).sort()).toEqual(['alice@contoso.com', 'hana@contoso.com', 'igor@contoso.com', 'quinn@contoso.com']);
  });

  it("a domain rejecting already when the plan read it is judged the same: the undos its users need stay (named, exit 3), leaving no user of it who could sign in without a method (before: turned off, exit 0, four users of it outside the run locked out)", async () => {
    const g = fakeGraph();
    const { dir } = testDir('federation-before');
    await rejectSince(g);
    await planTo(g, join(dir, 'all.plan'), { rolloutGroups: [ROLLOUT] });
    const { outcome } = await applyFile(g, join(dir, 'all.plan'), join(dir, 'state'), { users: ['niaj@contoso.com'] });
    expect(outcome.state).toBe('completed');
    const before = await lockedOut(g);
    const o = (await rollbackIn(g, join(dir, 'state'), outcome.runId)).outcome;
    expect(o.state).toBe('partial');
    expect(o.stillSwitchedUsers).toEqual([{ user: 'niaj@contoso.com', by: BY_FEDERATION }]);
    expect(o.stillSwitched.map((x) => x.target)).toEqual(['phoneMethods/mobile', 'authenticationMethodConfigurations/HardwareOath', 'authenticationMethodConfigurations/Sms', 'authenticationMethodConfigurations/Voice']);
    for (const id of ['Sms', 'Voice', 'HardwareOath']) expect(await configState(g, id), id).toBe('enabled');
    expect((await lockedOut(g)).sort()).toEqual(before.sort());
  });
});

const NIAJ = '9e5966d4-89a7-50b5-acaa-03fb97b912a4';
const NIAJ_AUTHENTICATOR = '899768c6-741e-5349-aeaa-844114d8e7e4';

describe("rollback of a run with no method configuration to put back, under a domain rejecting the federated IdP's MFA since before its plan", () => {
  /**
   * The method configurations set as the plan would set them before it reads the tenant (the run has none
   * to put back: SMS enabled already, as an admin left it), contoso.com rejecting; niaj's run adds her
   * mobile phone (her default stays her Authenticator, so the rollback deletes the phone).
   */
  async function configuredBeforeRun(name: string, over: Partial<PlanRequest>) {
    const { dir } = testDir(name);
    const { g, plan: first } = await planOfUntouched(join(dir, 'first.plan'), over);
    const configs = new Map<string, Record<string, unknown>>();
    for (const c of first.policy_changes) {
      if (c.target.startsWith('authenticationMethodConfigurations/')) configs.set(c.target, { ...configs.get(c.target), [c.property]: c.after });
    }
    for (const [target, props] of configs) {
      const id = target.split('/')[1]!;
      const type = `#microsoft.graph.${id[0]!.toLowerCase()}${id.slice(1)}AuthenticationMethodConfiguration`;
      expect((await g.raw.patch(`${CONFIGS.replace('v1.0', 'beta')}/${id}`, { '@odata.type': type, ...props })).status, id).toBeLessThan(300);
    }
    await rejectSince(g);
    const { plan } = await planTo(g, join(dir, 'all.plan'), over);
    expect(plan.policy_changes.filter((c) => c.target.startsWith('authenticationMethodConfigurations/'))).toEqual([]);
    const { outcome } = await applyFile(g, join(dir, 'all.plan'), join(dir, 'state'), { users: ['niaj@contoso.com'] });
    expect(outcome.state).toBe('completed');
    // Her Authenticator lost since (a new handset): the phone the run gave her is all she has left.
    expect((await g.raw.delete(`/v1.0/users/${NIAJ}/authentication/microsoftAuthenticatorMethods/${NIAJ_AUTHENTICATOR}`)).status).toBe(204);
    return { g, stateDir: join(dir, 'state'), runId: outcome.runId, before: await lockedOut(g) };
  }

  const runs: [string, Partial<PlanRequest>][] = [
    ['the staged rollout policy it created', { rolloutGroups: [ROLLOUT] }],
    // The final step planned over a domain rejecting already: no federation to put back, no staged rollout touched.
    ['the final step planned, the domain rejecting already', { federatedMfa: 'reject', forceFederation: true }],
    // A plan without cutover options reads no domain: the rejection cannot be told set since (it was refused, saying so falsely).
    ['a plan that read no domain (no cutover option)', {}],
  ];
  for (const [what, over] of runs) {
    it(`holds the phone the run gave its user of the domain (named, exit 3; before: deleted, exit 0, niaj left with no method), a run with ${what}; --leave-switched-without-method takes it, naming her`, async () => {
      const { g, stateDir, runId, before } = await configuredBeforeRun(`federation-no-config-${runs.findIndex((r) => r[1] === over)}`, over);
      const o = (await rollbackIn(g, stateDir, runId)).outcome;
      expect(o.state).toBe('partial');
      expect(o.stillSwitchedUsers).toEqual([{ user: 'niaj@contoso.com', by: BY_FEDERATION }]);
      expect(o.stillSwitched).toEqual([{ user: 'niaj@contoso.com', target: 'phoneMethods/mobile', reason: `still switched to Entra MFA by ${BY_FEDERATION}` }]);
      expect((await lockedOut(g)).sort()).toEqual(before.sort());

      const said: string[] = [];
      const taken = await rollbackIn(g, stateDir, o.runId, { leaveSwitchedWithoutMethod: true, log: (l) => said.push(l) });
      expect(taken.outcome.state).toBe('completed');
      expect(said).toContainEqual(`Warning: --leave-switched-without-method: 1 user(s) of the run still switched to Entra MFA lose the methods this rollback takes, and may be left with nothing to sign in with: niaj@contoso.com (by ${BY_FEDERATION})`);
      expect((await lockedOut(g)).filter((u) => !before.includes(u))).toEqual(['niaj@contoso.com']);
    });
  }

  it("without the permission to read the domains (403), says so and takes the run's users' methods, as the check since the run does", async () => {
    const { g, stateDir, runId } = await configuredBeforeRun('federation-no-config-403', { rolloutGroups: [ROLLOUT] });
    // The domains' read refused (no Domain.Read.All); the rest answered by the fake Graph.
    const fetch: typeof g.emu.fetch = async (input, init) =>
      (init?.method ?? 'GET') === 'GET' && /\/domains(\?|$|\/)/.test(String(input instanceof Request ? input.url : input))
        ? new Response(JSON.stringify({ error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' } }), { status: 403, headers: { 'content-type': 'application/json' } })
        : g.emu.fetch(input, init);
    const said: string[] = [];
    const o = (await rollbackIn(g, stateDir, runId, { connect: () => connectGraph({ graphUrl: g.emu.url, fetch, readOnly: false, concurrency: 4, retry: { capMs: 300 } }), log: (l) => said.push(l) })).outcome;
    expect(o.state).toBe('completed');
    expect(await lockedOut(g)).toContain('niaj@contoso.com');
    expect(said).toContainEqual(expect.stringMatching(/^Warning: the domains' federation could not be read \(.*\): the run's users' methods are taken without checking that the users of a domain rejecting the federated IdP's MFA keep a method they can use$/));
  });

});

describe("rollback of a run that never touched the staged rollout, a staged rollout for the whole organisation enabled since, under a domain rejecting the federated IdP's MFA", () => {
  it("with method configurations to put back, still holds the phone the run gave its user of the domain", async () => {
    const g = fakeGraph();
    const { dir } = testDir('federation-org-rollout');
    await rejectSince(g);
    await planTo(g, join(dir, 'all.plan'), { federatedMfa: 'reject', forceFederation: true });
    const { outcome } = await applyFile(g, join(dir, 'all.plan'), join(dir, 'state'), { users: ['niaj@contoso.com'] });
    expect(outcome.state).toBe('completed');
    expect((await g.raw.delete(`/v1.0/users/${NIAJ}/authentication/microsoftAuthenticatorMethods/${NIAJ_AUTHENTICATOR}`)).status).toBe(204);
    // An admin's staged rollout policy for the whole organisation, enabled since.
    const res = await g.raw.post('/v1.0/policies/featureRolloutPolicies', { displayName: 'Admin rollout', feature: 'multiFactorAuthentication', isEnabled: true, isAppliedToOrganization: true });
    expect(res.status).toBeLessThan(300);
    const before = await lockedOut(g);
    const o = (await rollbackIn(g, join(dir, 'state'), outcome.runId)).outcome;
    expect(o.state).toBe('partial');
    expect(o.stillSwitchedUsers).toEqual([{ user: 'niaj@contoso.com', by: BY_FEDERATION }]);
    expect(o.stillSwitched.map((x) => x.target)).toContain('phoneMethods/mobile');
    // She is the run's: not counted again among those outside it.
    expect(o.stillSwitchedOthers?.first ?? []).not.toContain('niaj@contoso.com');
    expect((await lockedOut(g)).sort()).toEqual(before.sort());
  });
});
