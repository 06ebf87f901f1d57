import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CutoverRefusedError } from '../../src/app/plan.js';
import { cutoverStale } from '../../src/apply/cutover-preflight.js';
import { StalePlanError } from '../../src/apply/run-apply.js';
import { SavedPlan } from '../../src/plan/plan-file.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { refusing } from '../helpers/graph-proxies.js';
import { applyFile, journalLines, planTo, resumeIn, runDirs, testDir } from '../helpers/migration.js';
import { writes, type Snapshot } from '../helpers/tenant-checks.js';
import { contosoTenant, userId, type ContosoTenant } from '../plan/helpers.js';

/**
 * Found by a helper: helpdesk@ (outside the export, with a phone) in the rollout group the plan
 * attaches; the plan judged the attach safe by that phone. Deleted since, the apply attached the
 * group, switching helpdesk@ with nothing to sign in with, and set the domain's federation after.
 * Apply reads the methods of the members outside the plan whom its staged rollout step switches again.
 */
const ROLLOUT = 'MFA Staged Rollout';
const STAGED = 'c1454b73-4610-5b76-8c1f-369a14e89526';
const MOBILE = '3179e48a-750b-4051-897c-87b9720928f7';
const HELPDESK = 'helpdesk@contoso.com';
const ATTACH = /\/policies\/featureRolloutPolicies\/[^/]+\/appliesTo\/\$ref$/;

/** Contoso with helpdesk@ given a phone and put in the rollout group (more tenant changes by `more`). */
function tenantOf(more: (t: ContosoTenant & { featureRolloutPolicies?: unknown[] }) => void = () => undefined): ContosoTenant {
  const tenant = contosoTenant() as ContosoTenant & { featureRolloutPolicies?: unknown[] };
  (tenant.users.find((u) => u.userPrincipalName === HELPDESK) as { methods?: unknown }).methods = { phone: [{ phoneType: 'mobile', phoneNumber: '+1 4255550190' }] };
  tenant.groups.find((g) => g.id === STAGED)!.members.push(userId(tenant, HELPDESK));
  more(tenant);
  return tenant;
}

const snap = (g: FakeGraph) => g.emu.snapshot() as Snapshot;
const federation = (g: FakeGraph) => (snap(g).domains as Snapshot[]).find((d) => d.id === 'contoso.com').federatedIdpMfaBehavior;
const deletePhone = async (g: FakeGraph, tenant: ContosoTenant, upn = HELPDESK) => expect((await g.raw.delete(`/v1.0/users/${userId(tenant, upn)}/authentication/phoneMethods/${MOBILE}`)).status).toBe(204);
const givePhone = async (g: FakeGraph, tenant: ContosoTenant, upn = HELPDESK) => expect((await g.raw.post(`/v1.0/users/${userId(tenant, upn)}/authentication/phoneMethods`, { phoneNumber: '+1 4255550190', phoneType: 'mobile' })).status).toBe(201);
const methodReads = (g: FakeGraph, from: number, tenant: ContosoTenant, upn = HELPDESK) => g.operations().slice(from).filter((o) => o.path.includes(`/users/${userId(tenant, upn)}/authentication/methods`)).length;
const staleOf = async (p: Promise<unknown>): Promise<string> => {
  const err = await p.then(
    () => expect.unreachable('not refused'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StalePlanError);
  return (err as Error).message;
};

const SAID = (doing: string) =>
  `policy featureRolloutPolicies/multiFactorAuthentication/appliesTo/${STAGED}: 1 member(s) of "${ROLLOUT}" outside the plan have no cloud MFA method since the plan (${HELPDESK}): ${doing} would switch them with nothing to sign in with: give them a method or take them out of the group, and make a new plan`;

describe('a member outside the plan whom the attach switches, with a method when planned and none now', () => {
  it("refuses the apply before any write, even with --skip-stale: the group is not attached, the domain's federation not set (the helper's repro)", async () => {
    const t = testDir('smm-federation');
    const tenant = tenantOf();
    const g = fakeGraph({ tenant });
    const file = join(t.dir, 'final.plan');
    await planTo(g, file, { rolloutGroups: [ROLLOUT], federatedMfa: 'reject', forceFederation: true });
    await deletePhone(g, tenant);
    g.emu.clearRequests();
    expect(await staleOf(applyFile(g, file, join(t.dir, 'state'), { skipStale: true }))).toContain(SAID('attaching the group'));
    expect(writes(g.emu.requests())).toEqual([]);
    expect(snap(g).featureRolloutPolicies ?? []).toEqual([]);
    expect(federation(g)).toBe('acceptIfMfaDoneByFederatedIdp');
  });

  it('without --federated-mfa too (the attach alone would switch them with nothing); with the phone back, the same plan applies', async () => {
    const t = testDir('smm-attach');
    const tenant = tenantOf();
    const g = fakeGraph({ tenant });
    const file = join(t.dir, 'rollout.plan');
    await planTo(g, file, { rolloutGroups: [ROLLOUT] });
    await deletePhone(g, tenant);
    g.emu.clearRequests();
    for (const skipStale of [false, true]) expect(await staleOf(applyFile(g, file, join(t.dir, `s${skipStale}`), { skipStale }))).toContain(SAID('attaching the group'));
    expect(writes(g.emu.requests())).toEqual([]);

    await givePhone(g, tenant);
    const before = g.operations().length;
    const { outcome } = await applyFile(g, file, join(t.dir, 'state'));
    expect(outcome.state).toBe('completed');
    expect(snap(g).featureRolloutPolicies[0].appliesTo).toEqual([STAGED]);
    // Read once, by the pre-flight (the attach is sent right after it: not read again).
    expect(methodReads(g, before, tenant)).toBe(1);
  });

  it('a member who still has a method is not refused: their methods are read once, by the pre-flight', async () => {
    const t = testDir('smm-kept');
    const tenant = tenantOf();
    const g = fakeGraph({ tenant });
    const file = join(t.dir, 'rollout.plan');
    await planTo(g, file, { rolloutGroups: [ROLLOUT] });
    const before = g.operations().length;
    expect((await applyFile(g, file, join(t.dir, 'state'))).outcome.state).toBe('completed');
    expect(methodReads(g, before, tenant)).toBe(1);
    expect(snap(g).featureRolloutPolicies[0].appliesTo).toEqual([STAGED]);
  });

  it('one taken out of the group since is no one the attach switches: not refused for them', async () => {
    const t = testDir('smm-left');
    const tenant = tenantOf();
    const g = fakeGraph({ tenant });
    const file = join(t.dir, 'rollout.plan');
    await planTo(g, file, { rolloutGroups: [ROLLOUT] });
    await deletePhone(g, tenant);
    expect((await g.raw.delete(`/v1.0/groups/${STAGED}/members/${userId(tenant, HELPDESK)}/$ref`)).status).toBe(204);
    expect((await applyFile(g, file, join(t.dir, 'state'))).outcome.state).toBe('completed');
  });

  it('enabling the disabled policy that holds the group: refused the same way, saying so', async () => {
    const t = testDir('smm-enable');
    const tenant = tenantOf((x) => {
      x.featureRolloutPolicies = [{ displayName: 'Staged', feature: 'multiFactorAuthentication', isEnabled: false, isAppliedToOrganization: false, appliesTo: [STAGED] }];
    });
    const g = fakeGraph({ tenant });
    const file = join(t.dir, 'enable.plan');
    const { plan } = await planTo(g, file, { rolloutGroups: [ROLLOUT] });
    expect(plan.cutover_changes.map((c) => [c.target, c.action])).toEqual([['featureRolloutPolicies/multiFactorAuthentication', 'update']]);
    await deletePhone(g, tenant);
    g.emu.clearRequests();
    expect(await staleOf(applyFile(g, file, join(t.dir, 'state'), { skipStale: true }))).toContain(SAID('enabling the staged rollout policy'));
    expect(writes(g.emu.requests())).toEqual([]);
    expect(snap(g).featureRolloutPolicies[0].isEnabled).toBe(false);
  });

  it("a managed domain's member does not count (switched already: the attach changes nothing for them)", async () => {
    const t = testDir('smm-managed');
    const KIM = 'c10d0000-0000-4000-8000-000000000001';
    const kim = 'kim@contoso.onmicrosoft.com';
    const tenant = tenantOf((x) => {
      x.users.push({ id: KIM, userPrincipalName: kim, displayName: 'kim', accountEnabled: true, methods: { phone: [{ phoneType: 'mobile', phoneNumber: '+1 4255550191' }] } } as (typeof x.users)[number]);
      x.groups.find((grp) => grp.id === STAGED)!.members.push(KIM);
    });
    const g = fakeGraph({ tenant });
    const file = join(t.dir, 'rollout.plan');
    await planTo(g, file, { rolloutGroups: [ROLLOUT] });
    const saved = await SavedPlan.open(file);
    expect(saved.header.cutover_seen?.rolloutMembers?.map((m) => m.userPrincipalName)).toContain(kim);
    await deletePhone(g, tenant, kim);
    const before = g.operations().length;
    expect((await applyFile(g, file, join(t.dir, 'state'))).outcome.state).toBe('completed');
    expect(methodReads(g, before, tenant, kim)).toBe(0);
  });

  it('--force-federation does not reach the attach: a member with no method at plan time refuses the plan all the same', async () => {
    const t = testDir('smm-forced');
    const tenant = tenantOf((x) => {
      delete (x.users.find((u) => u.userPrincipalName === HELPDESK) as { methods?: unknown }).methods;
    });
    const g = fakeGraph({ tenant });
    const err = await planTo(g, join(t.dir, 'forced.plan'), { rolloutGroups: [ROLLOUT], federatedMfa: 'reject', forceFederation: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CutoverRefusedError);
    expect((err as CutoverRefusedError).reasons).toContainEqual(expect.stringMatching(/^the rollout group "MFA Staged Rollout": creating the staged rollout policy for it switches 1 member\(s\) .*: helpdesk@contoso\.com\./));
  });

  it('the pre-flight says how far its read of them is (a policy\'s groups may hold 50,000)', async () => {
    const t = testDir('smm-progress');
    const tenant = tenantOf();
    const g = fakeGraph({ tenant });
    const file = join(t.dir, 'rollout.plan');
    await planTo(g, file, { rolloutGroups: [ROLLOUT] });
    await deletePhone(g, tenant);
    const seen: [number, number][] = [];
    const saved = await SavedPlan.open(file);
    const { stale } = await cutoverStale(saved, [], g.client(), [], undefined, 4, (done, total) => seen.push([done, total]));
    expect(stale.map((s) => s.reason)).toContainEqual(expect.stringMatching(/^1 member\(s\) of "MFA Staged Rollout" outside the plan have no cloud MFA method since the plan/));
    expect(seen).toEqual([
      [0, 1],
      [1, 1],
    ]);
  });

  it("a run shows the read's progress from 100 members on, as a step before anything is sent", async () => {
    const t = testDir('smm-many');
    const extra = Array.from({ length: 100 }, (_, i) => `e0000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const tenant = tenantOf((x) => {
      extra.forEach((id, i) => x.users.push({ id, userPrincipalName: `member${i}@contoso.com`, displayName: `member ${i}`, accountEnabled: true, methods: { phone: [{ phoneType: 'mobile', phoneNumber: `+1 42555${String(60000 + i)}` }] } } as (typeof x.users)[number]));
      x.groups.find((grp) => grp.id === STAGED)!.members.push(...extra);
    });
    const g = fakeGraph({ tenant });
    const file = join(t.dir, 'rollout.plan');
    await planTo(g, file, { rolloutGroups: [ROLLOUT] });
    const reading: { what: string; done: number; total: number }[] = [];
    const { outcome } = await applyFile(g, file, join(t.dir, 'state'), { onProgress: (e) => e.phase === 'reading' && e.reading && reading.push(e.reading) });
    expect(outcome.state).toBe('completed');
    expect(reading[0]).toEqual({ what: 'reading again the methods of 101 member(s) outside the plan of the groups its staged rollout step switches', done: 0, total: 101 });
    expect(reading.at(-1)).toMatchObject({ done: 101, total: 101 });
  });
});

describe('between passes of a run', () => {
  it('a resume holds the attach while such a member has no method, naming them; sends it once they have one', async () => {
    const t = testDir('smm-resume');
    const tenant = tenantOf();
    const alice = userId(tenant, 'alice@contoso.com');
    const g = fakeGraph({ tenant });
    const stateDir = join(t.dir, 'state');
    // alice@ in the group too: her writes refused in the first pass hold the attach.
    expect((await g.raw.post(`/v1.0/groups/${STAGED}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${alice}` })).status).toBe(204);
    const file = join(t.dir, 'all.plan');
    await planTo(g, file, { rolloutGroups: [ROLLOUT] });
    const on = { refuse: true };
    const graph = refusing(g, new RegExp(`/users/${alice}/authentication/`), on);
    await applyFile(g, file, stateDir, { batchSize: 10, graph });
    const runDir = runDirs(stateDir)[0]!;
    const attachOp = `cutover/featureRolloutPolicy/appliesTo/${STAGED}`;
    const opRecord = () => journalLines(runDir).filter((l) => l.t === 'ops').flatMap((l) => l.ops).filter((o: Snapshot) => o.op === attachOp).at(-1);
    expect(opRecord()).toMatchObject({ state: 'skipped', error: expect.stringMatching(/^held: 1 member\(s\) of "MFA Staged Rollout" have methods not written yet \(alice@contoso\.com\)/) });

    await deletePhone(g, tenant);
    on.refuse = false;
    g.emu.clearRequests();
    const again = await resumeIn(g, stateDir);
    expect(g.operations().filter((o) => o.method !== 'GET' && o.status < 300 && ATTACH.test(o.path))).toEqual([]);
    expect(opRecord()).toMatchObject({
      state: 'skipped',
      error: `held: 1 member(s) of "${ROLLOUT}" outside the plan have no cloud MFA method since the plan (${HELPDESK}): attaching "${ROLLOUT}" would switch them with nothing to sign in with: give them a method or take them out of the group, and resume, or make a new plan`,
    });
    expect(again.outcome).toMatchObject({ state: 'partial', resumable: true });

    await givePhone(g, tenant);
    const third = await resumeIn(g, stateDir);
    expect(opRecord()).toMatchObject({ state: 'done' });
    expect(third.outcome.state).toBe('completed');
  });
});
