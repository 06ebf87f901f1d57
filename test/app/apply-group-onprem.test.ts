import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, contosoRequest, planTo, testDir } from '../helpers/migration.js';
import { ALICE, BOB, BOB_SYNCED, JDOE, MARY, ONPREM_GROUP, onPremisesExport, onPremisesGroupTenant } from '../helpers/onprem-tenant.js';

const phones = async (g: FakeGraph, id: string) => ((await g.raw.get(`/v1.0/users/${id}/authentication/phoneMethods`)).body.value as { phoneNumber: string }[]).map((p) => p.phoneNumber);

/** A saved plan of the whole export, CORP\jdoe and mary matched by on-premises name, sam1 ambiguous. */
async function wholePlan(dir: string): Promise<{ g: FakeGraph; file: string }> {
  const g = fakeGraph({ tenant: onPremisesGroupTenant() });
  const file = join(dir, 'all.plan');
  const { plan } = await planTo(g, file, contosoRequest(onPremisesExport(dir), []));
  expect(plan.users.map((u) => [u.user, u.user_id])).toEqual([
    ['CORP\\jdoe', JDOE],
    ['mary', MARY],
    ['sam1', null],
    ['alice@contoso.com', ALICE],
    ['bob@contoso.com', BOB],
  ]);
  return { g, file };
}

describe('apply PLANFILE --group / --users with users matched by an on-premises name', () => {
  it('--group selects the members the plan matched by DOMAIN\\sam or a bare sAMAccountName, not only those whose username is a UPN', async () => {
    const t = testDir('apply-group-onprem');
    const { g, file } = await wholePlan(t.dir);
    const applied = await applyFile(g, file, join(t.dir, 'state'), { group: ONPREM_GROUP });
    expect(applied.results.map((r) => `${r.user} ${r.outcome}`)).toEqual(['CORP\\jdoe done', 'mary done', 'alice@contoso.com done']);
    expect(await phones(g, JDOE)).toEqual(['+1 4255550201']);
    expect(await phones(g, MARY)).toEqual(['+1 4255550202']);
    expect(await phones(g, BOB)).not.toContain('+1 4255550192');
  });

  it('plan --group and its apply never write to bob@contoso.com: a member has it as on-premises UPN, but it is the UPN of bob, who is no member', async () => {
    const t = testDir('plan-group-outside');
    const g = fakeGraph({ tenant: onPremisesGroupTenant() });
    const notes: string[] = [];
    const file = join(t.dir, 'wave.plan');
    const { plan } = await planTo(g, file, { ...contosoRequest(onPremisesExport(t.dir), []), group: ONPREM_GROUP, log: (l) => notes.push(l) });
    expect(plan.users.map((u) => u.user)).toEqual(['CORP\\jdoe', 'mary', 'sam1', 'alice@contoso.com']);
    expect(notes).toEqual([expect.stringMatching(/^Note: --group "Wave CORP": 1 export user\(s\) left out of the scope, matched to a tenant user who is not a member: bob@contoso\.com \(matched to bob@contoso\.com, not to the member bob1234@contoso\.onmicrosoft\.com whose on-premises name it is\)/)]);
    const applied = await applyFile(g, file, join(t.dir, 'state'), { group: ONPREM_GROUP });
    // sam1, matched to nobody, is no member's: apply PLANFILE --group selects by the plan's matches.
    expect(applied.results.map((r) => `${r.user} ${r.outcome}`)).toEqual(['CORP\\jdoe done', 'mary done', 'alice@contoso.com done']);
    expect(await phones(g, BOB)).not.toContain('+1 4255550192');
    expect(await phones(g, BOB_SYNCED)).toEqual([]);
  });

  it('--users FILE --group: a user the file names by on-premises name and the group holds is applied', async () => {
    const t = testDir('apply-group-onprem-users');
    const { g, file } = await wholePlan(t.dir);
    const applied = await applyFile(g, file, join(t.dir, 'state'), { users: ['corp\\jdoe', 'bob@contoso.com'], group: ONPREM_GROUP });
    expect(applied.results.map((r) => `${r.user} ${r.outcome}`)).toEqual(['CORP\\jdoe done']);
    expect(await phones(g, JDOE)).toEqual(['+1 4255550201']);
    expect(await phones(g, MARY)).toEqual([]);
  });

  it('--users FILE selects users by the on-premises name the export has, case aside', async () => {
    const t = testDir('apply-onprem-users');
    const { g, file } = await wholePlan(t.dir);
    const applied = await applyFile(g, file, join(t.dir, 'state'), { users: ['CORP\\JDOE', 'mary'] });
    expect(applied.results.map((r) => `${r.user} ${r.outcome}`)).toEqual(['CORP\\jdoe done', 'mary done']);
  });
});

describe('apply PLANFILE --group selecting none of the plan users', () => {
  it('is refused before anything is sent: a run of nobody would still write the plan\'s tenant-wide policy and use the plan up (a review)', async () => {
    const t = testDir('apply-group-empty');
    const tenant = onPremisesGroupTenant();
    tenant.groups.push({ id: 'c0ffee00-0000-4000-8000-0000000000e0', displayName: 'Empty', members: [] });
    const g = fakeGraph({ tenant });
    const file = join(t.dir, 'all.plan');
    const { plan } = await planTo(g, file, contosoRequest(onPremisesExport(t.dir), []));
    expect(plan.policy_changes.length).toBeGreaterThan(0);
    const policyBefore = JSON.stringify(g.emu.snapshot().policy);
    const state = join(t.dir, 'state');
    await expect(applyFile(g, file, state, { group: 'Empty' })).rejects.toThrow(/^--group "Empty" holds none of the plan's users: nothing was sent/);
    await expect(applyFile(g, file, state, { users: ['bob@contoso.com'], group: ONPREM_GROUP })).rejects.toThrow(/^--group "Wave CORP" holds none of the plan's users named by --users: nothing was sent/);
    expect(JSON.stringify(g.emu.snapshot().policy)).toBe(policyBefore);
    // The plan is not used up: applied whole, it goes through.
    expect((await applyFile(g, file, state)).outcome.state).toBe('completed');
  });
});
