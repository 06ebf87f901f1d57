import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { outsidersWithoutMethod } from '../../src/apply/federation-outsiders.js';
import { StalePlanError } from '../../src/apply/run-apply.js';
import { SavedPlan } from '../../src/plan/plan-file.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { domainIdAs } from '../helpers/graph-proxies.js';
import { applyFile, planTo, testDir } from '../helpers/migration.js';
import { writes, type Snapshot } from '../helpers/tenant-checks.js';
import { contosoTenant, userId, type ContosoTenant } from '../plan/helpers.js';

/**
 * Apply's re-check of the federation's final step against the tenant users of the domain outside
 * the plan (saved plan 2.16): one who appeared, or lost their method, since the plan would meet
 * Entra MFA with nothing to sign in with once the federation rejects the IdP's MFA.
 */

const MOBILE = '3179e48a-750b-4051-897c-87b9720928f7';
const PILOT = '0b5e8c7e-58a4-4c1e-9d7e-2f4a1c3b9e01';
const STAGED = 'c1454b73-4610-5b76-8c1f-369a14e89526';

/**
 * The Contoso tenant with helpdesk@ given a phone (outside the export, with a method) and admin@ in a
 * group attached to the enabled staged rollout policy (outside the export, switched already).
 */
function tenantOf(): ContosoTenant {
  const tenant = contosoTenant() as ContosoTenant & { featureRolloutPolicies?: unknown[] };
  (tenant.users.find((u) => u.userPrincipalName === 'helpdesk@contoso.com') as { methods?: unknown }).methods = { phone: [{ phoneType: 'mobile', phoneNumber: '+1 4255550190' }] };
  tenant.groups.push({ id: PILOT, displayName: 'Earlier pilot', members: [userId(tenant, 'admin@contoso.com')] });
  tenant.featureRolloutPolicies = [{ displayName: 'Earlier pilot', feature: 'multiFactorAuthentication', isEnabled: true, isAppliedToOrganization: false, appliesTo: [PILOT] }];
  return tenant;
}

/** The whole export's final step, forced for judy and zoe (no cloud method): nothing outside the export refuses it. */
async function finalPlan(g: FakeGraph, dir: string): Promise<string> {
  const file = join(dir, 'final.plan');
  const { plan } = await planTo(g, file, { rolloutGroups: ['MFA Staged Rollout'], federatedMfa: 'reject', forceFederation: true });
  expect(plan.cutover!.federation).toEqual([expect.objectContaining({ domain: 'contoso.com', planned: true, outside_export: 1 })]);
  return file;
}

const staleOf = async (g: FakeGraph, file: string, dir: string) => {
  const err = await applyFile(g, file, join(dir, 'state'), { skipStale: true }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(StalePlanError);
  return (err as StalePlanError).message;
};

const federation = (g: FakeGraph) => ((g.emu.snapshot() as Snapshot).domains as Snapshot[]).find((d) => d.id === 'contoso.com').federatedIdpMfaBehavior;

describe('apply reads the tenant users of the domain outside the plan again', () => {
  it('a plan made while they all had a method (or were switched) applies: the federation is set, their methods read once before anything is written and once right before it', async () => {
    const t = testDir('fed-out-ok');
    const tenant = tenantOf();
    const g = fakeGraph({ tenant });
    const file = await finalPlan(g, t.dir);
    const before = g.operations().length;
    const { outcome } = await applyFile(g, file, join(t.dir, 'state'));
    expect(outcome.state).toBe('completed');
    expect(outcome.federationDone).toEqual(['contoso.com']);
    expect(federation(g)).toBe('rejectMfaByFederatedIdp');
    const applied = g.operations().slice(before);
    const methodReads = (upn: string) => applied.filter((o) => o.path.includes(`/users/${userId(tenant, upn)}/authentication/methods`)).length;
    // helpdesk@: the pre-flight and the federation step; admin@ (switched by the pilot group) and the plan's users: not by this check.
    expect(methodReads('helpdesk@contoso.com')).toBe(2);
    expect(methodReads('admin@contoso.com')).toBe(0);
    expect(applied.filter((o) => decodeURIComponent(o.path).includes("endswith(userPrincipalName,'@contoso.com')"))).toHaveLength(2);
  });

  it('one the plan read with a method who has none now makes the plan stale before anything is written, even with --skip-stale', async () => {
    const t = testDir('fed-out-lost');
    const tenant = tenantOf();
    const g = fakeGraph({ tenant });
    const file = await finalPlan(g, t.dir);
    expect((await g.raw.delete(`/v1.0/users/${userId(tenant, 'helpdesk@contoso.com')}/authentication/phoneMethods/${MOBILE}`)).status).toBe(204);
    const message = await staleOf(g, file, t.dir);
    expect(message).toContain(
      "domains/contoso.com/federationConfiguration: 1 tenant user(s) of contoso.com outside the plan, enabled and not switched by staged rollout, would meet Entra MFA with nothing to sign in with once its federation rejects the IdP's MFA: 1 the plan read with a method, with none they can use now (helpdesk@contoso.com) (since the plan): give them a method, or disable the accounts no one uses, and make a new plan",
    );
    // Nothing written but the test's own delete.
    expect(writes(g.emu.requests())).toEqual([expect.objectContaining({ method: 'DELETE' })]);
    expect(federation(g)).toBe('acceptIfMfaDoneByFederatedIdp');
  });

  it('one who appeared since with no method (taken out of the group that switched them) makes it stale too', async () => {
    const t = testDir('fed-out-appeared');
    const tenant = tenantOf();
    const g = fakeGraph({ tenant });
    const file = await finalPlan(g, t.dir);
    expect((await g.raw.delete(`/v1.0/groups/${PILOT}/members/${userId(tenant, 'admin@contoso.com')}/$ref`)).status).toBe(204);
    expect(await staleOf(g, file, t.dir)).toMatch(/: 1 not among those the plan read, with no cloud MFA method \(admin@contoso\.com\) \(since the plan\)/);
  });

  it('a domain whose id Graph answers mixed case is checked all the same: one who lost their method makes the plan stale', async () => {
    const t = testDir('fed-out-case');
    const tenant = tenantOf();
    const g = domainIdAs(fakeGraph({ tenant }), 'Contoso.com');
    const listed = await g.client().read<{ value: { id: string }[] }>({ method: 'GET', version: 'v1.0', path: '/domains?$select=id' });
    expect(listed.body?.value.map((d) => d.id)).toContain('Contoso.com');
    const file = await finalPlan(g, t.dir);
    expect((await g.raw.delete(`/v1.0/users/${userId(tenant, 'helpdesk@contoso.com')}/authentication/phoneMethods/${MOBILE}`)).status).toBe(204);
    expect(await staleOf(g, file, t.dir)).toMatch(/1 tenant user\(s\) of contoso\.com outside the plan, .*: 1 the plan read with a method, with none they can use now \(helpdesk@contoso\.com\)/i);
    // The plan lower-cases the domain it reads, so the run above names it so; called with the domain as Graph spells it, the same users are found, under that name.
    const saved = await SavedPlan.open(file);
    expect([...(await outsidersWithoutMethod(g.client(), saved, ['Contoso.com'], 4, 'now')).keys()]).toEqual(['Contoso.com']);
  });

  it("a member of the group the plan attaches is judged switched by it before the run, and right before the change once it is attached: not read by the federation's check either time (the attach's own check reads them, once)", async () => {
    const t = testDir('fed-out-attached');
    const tenant = tenantOf();
    tenant.groups.find((g) => g.id === STAGED)!.members.push(userId(tenant, 'helpdesk@contoso.com'));
    const g = fakeGraph({ tenant });
    const file = join(t.dir, 'final.plan');
    const { plan } = await planTo(g, file, { rolloutGroups: ['MFA Staged Rollout'], federatedMfa: 'reject', forceFederation: true });
    // helpdesk@ is switched by the plan's attach: not among the users outside the export it counts.
    expect(plan.cutover!.federation).toEqual([expect.objectContaining({ domain: 'contoso.com', planned: true, outside_export: 0 })]);
    const before = g.operations().length;
    const { outcome } = await applyFile(g, file, join(t.dir, 'state'));
    expect(outcome.federationDone).toEqual(['contoso.com']);
    // Read by the pre-flight's check of the members outside the plan the attach switches (switched-members-methods.ts), not by the federation's.
    expect(g.operations().slice(before).filter((o) => o.path.includes(`/users/${userId(tenant, 'helpdesk@contoso.com')}/authentication/methods`))).toHaveLength(1);
  });

  it('right before the change, a member of a group the plan attaches that is not attached (its step not done) is no one staged rollout switches: one with no method skips it', async () => {
    const t = testDir('fed-out-unattached');
    const tenant = tenantOf();
    const helpdesk = userId(tenant, 'helpdesk@contoso.com');
    tenant.groups.find((g) => g.id === STAGED)!.members.push(helpdesk);
    const g = fakeGraph({ tenant });
    const file = join(t.dir, 'final.plan');
    await planTo(g, file, { rolloutGroups: ['MFA Staged Rollout'], federatedMfa: 'reject', forceFederation: true });
    const saved = await SavedPlan.open(file);
    expect((await g.raw.delete(`/v1.0/users/${helpdesk}/authentication/phoneMethods/${MOBILE}`)).status).toBe(204);
    const client = g.client();
    // Before the run the attach is still to come (what makes her switching safe is the attach's own check).
    expect(await outsidersWithoutMethod(client, saved, ['contoso.com'], 4, 'planned')).toEqual(new Map());
    // Right before the change the policy is as it is: the group not attached, so the federation would move her to Entra MFA with nothing.
    expect(await outsidersWithoutMethod(client, saved, ['contoso.com'], 4, 'now')).toEqual(new Map([['contoso.com', { appeared: ['helpdesk@contoso.com'], lost: [] }]]));
  });

  it('users the plan named with no method under --force-federation are accepted as planned, not read again', async () => {
    const t = testDir('fed-out-forced');
    const tenant = contosoTenant();
    const g = fakeGraph({ tenant });
    const file = join(t.dir, 'forced.plan');
    await planTo(g, file, { rolloutGroups: ['MFA Staged Rollout'], federatedMfa: 'reject', forceFederation: true });
    const saved = await SavedPlan.open(file);
    // Apply's client: the policy's target groups, when it has some, are asked with checkMemberGroups (a POST that reads).
    const client = g.client();
    const before = g.operations().length;
    expect(await outsidersWithoutMethod(client, saved, ['contoso.com'], 4, 'planned')).toEqual(new Map());
    expect(g.operations().slice(before).filter((o) => /\/authentication\/methods/.test(o.path))).toEqual([]);
    // A domain the run does not change is not read.
    expect(await outsidersWithoutMethod(client, saved, ['fabrikam.com'], 4, 'planned')).toEqual(new Map());
  });
});
