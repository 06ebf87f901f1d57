import { describe, expect, it } from 'vitest';
import { readCutover, readDomains, readFederatedDomains, readGroups, readRolloutPolicy, setMembership } from '../../src/graph/cutover-reader.js';
import { readTenant } from '../../src/graph/tenant-reader.js';
import { fakeGraph } from '../helpers/graph.js';

const TENANT = '5c0ffee0-0000-4000-8000-000000000001';
const gid = (n: number) => `aaaaaaaa-0000-4000-8000-00000000000${n}`;
const uid = (n: number) => `bbbbbbbb-0000-4000-8000-00000000000${n}`;

/** Two domains (one federated), five users, groups of every kind staged rollout meets, a disabled MFA rollout policy. */
function cutoverTenant(): Record<string, unknown> {
  return {
    tenant: { id: TENANT },
    // Staged rollout has no application permission: an admin signs in (delegated).
    identity: { userPrincipalName: 'u1@fabrikam.com' },
    domains: [
      { id: 'fabrikam.com', isDefault: true, federation: { id: 'f0000000-0000-4000-8000-000000000001', displayName: 'ADFS', issuerUri: 'http://sts.fabrikam.com/adfs/services/trust', passiveSignInUri: 'https://sts.fabrikam.com/adfs/ls/' } },
      { id: 'fabrikam.onmicrosoft.com', isInitial: true },
    ],
    users: [1, 2, 3, 4, 5].map((n) => ({ id: uid(n), userPrincipalName: `u${n}@fabrikam.com`, displayName: `U${n}`, ...(n === 5 ? { userType: 'Guest' } : {}) })),
    contacts: [{ id: 'cccccccc-0000-4000-8000-000000000001', displayName: 'Vendor' }],
    groups: [
      { id: gid(1), displayName: 'Rollout A', members: [uid(1), uid(2)] },
      { id: gid(2), displayName: 'Rollout B', members: [] },
      { id: gid(3), displayName: 'Dynamic', groupTypes: ['DynamicMembership'], membershipRule: '(user.department -eq "x")', members: [uid(3)] },
      { id: gid(4), displayName: 'Nested', members: [gid(1), uid(4), 'cccccccc-0000-4000-8000-000000000001'] },
    ],
    featureRolloutPolicies: [{ displayName: 'MFA', feature: 'multiFactorAuthentication', isEnabled: false, appliesTo: [gid(1)] }],
  };
}

describe('the cutover reader', () => {
  it('reads the MFA rollout policy with its groups, the named groups by kind and direct member, and the federated domains', async () => {
    const g = fakeGraph({ tenant: cutoverTenant() });
    const client = g.client({ readOnly: true });
    const read = await readCutover(client, { rolloutGroups: ['Rollout B', gid(4)], rollout: true, campaignGroup: 'Dynamic', federation: true });
    expect(read.rolloutGroups).toEqual([{ id: gid(2), displayName: 'Rollout B' }, { id: gid(4), displayName: 'Nested' }]);
    expect(read.campaignGroup).toEqual({ id: gid(3), displayName: 'Dynamic' });
    expect(read.cutover.rolloutPolicy).toMatchObject({ displayName: 'MFA', isEnabled: false, isAppliedToOrganization: false, appliesTo: [gid(1)] });
    // Named, then attached, then the campaign group; each once.
    expect(read.cutover.groups).toEqual([
      { id: gid(2), displayName: 'Rollout B', dynamic: false, users: 0, groups: 0, contacts: 0 },
      { id: gid(4), displayName: 'Nested', dynamic: false, users: 1, groups: 1, contacts: 1 },
      { id: gid(1), displayName: 'Rollout A', dynamic: false, users: 2, groups: 0, contacts: 0 },
      { id: gid(3), displayName: 'Dynamic', dynamic: true, users: 1, groups: 0, contacts: 0 },
    ]);
    expect(read.cutover.federatedDomains).toEqual([{ id: 'fabrikam.com', federationId: 'f0000000-0000-4000-8000-000000000001', federatedIdpMfaBehavior: 'acceptIfMfaDoneByFederatedIdp' }]);
    // The managed ones by name: Entra does their users' MFA already.
    expect(read.cutover.managedDomains).toEqual(['fabrikam.onmicrosoft.com']);
    expect(Object.fromEntries(read.memberOf)).toEqual({ [uid(1)]: [gid(1)], [uid(2)]: [gid(1)], [uid(3)]: [gid(3)], [uid(4)]: [gid(4)] });

    // Set on the users read: an empty list says "read, in none of them".
    const tenant = await readTenant(client, { upns: ['u1@fabrikam.com', 'u5@fabrikam.com'], serials: [], policy: false, organization: false, concurrency: 2 });
    setMembership(tenant.users.values(), read.memberOf);
    expect(tenant.users.get('u1@fabrikam.com')!.memberOf).toEqual([gid(1)]);
    expect(tenant.users.get('u5@fabrikam.com')).toMatchObject({ memberOf: [], userType: 'Guest' });
    // Reads only.
    expect(g.operations().every((o) => o.method === 'GET')).toBe(true);
  });

  it('finds no policy in a tenant without one, leaves out a group deleted since, and reads only the domains asked for', async () => {
    const g = fakeGraph({ tenant: { ...cutoverTenant(), featureRolloutPolicies: [{ displayName: 'SSO', feature: 'seamlessSso', isEnabled: true }] } });
    const client = g.client({ readOnly: true });
    expect(await readRolloutPolicy(client)).toBeNull();
    const { groups } = await readGroups(client, [gid(1), 'dddddddd-0000-4000-8000-000000000009']);
    expect(groups.map((x) => x.displayName)).toEqual(['Rollout A']);
    expect(await readFederatedDomains(client, ['fabrikam.onmicrosoft.com'])).toEqual([]);
    expect((await readFederatedDomains(client, ['FABRIKAM.COM'])).map((d) => d.id)).toEqual(['fabrikam.com']);
    expect(await readDomains(client, ['Fabrikam.onmicrosoft.com'])).toEqual({ federated: [], managed: ['fabrikam.onmicrosoft.com'] });
    // Not asked for the domains: none read, so none counts managed.
    expect((await readCutover(client, { rolloutGroups: [], rollout: false, federation: false })).cutover.managedDomains).toBeUndefined();
  });

  it('reads the root of only the subdomains that can belong to the domains asked for, and every subdomain of their roots', async () => {
    const tenant = cutoverTenant();
    const contoso = { id: 'contoso.com', federation: { id: 'f0000000-0000-4000-8000-000000000002', displayName: 'ADFS', issuerUri: 'http://sts.contoso.com/adfs/services/trust', passiveSignInUri: 'https://sts.contoso.com/adfs/ls/' } };
    const subs = ['eu.fabrikam.com', 'x.eu.fabrikam.com', 'us.contoso.com'].map((id) => ({ id }));
    const g = fakeGraph({ tenant: { ...tenant, domains: [...(tenant['domains'] as unknown[]), contoso, ...subs] } });
    const client = g.client({ readOnly: true });
    const rootReads = (): string[] => g.operations().filter((o) => o.path.includes('/rootDomain')).map((o) => decodeURIComponent(o.path.split('/')[3]!)).sort();

    g.emu.clearRequests();
    expect((await readDomains(client, ['contoso.com'])).federated).toEqual([expect.objectContaining({ id: 'contoso.com', subdomains: ['us.contoso.com'] })]);
    expect(rootReads()).toEqual(['us.contoso.com']);

    // A subdomain asked for: its root, with the root's every subdomain (its users count as the root's).
    g.emu.clearRequests();
    expect((await readDomains(client, ['EU.fabrikam.com'])).federated).toEqual([expect.objectContaining({ id: 'fabrikam.com', subdomains: ['eu.fabrikam.com', 'x.eu.fabrikam.com'] })]);
    expect(rootReads()).toEqual(['eu.fabrikam.com', 'x.eu.fabrikam.com']);

    // All of them: every subdomain's root.
    g.emu.clearRequests();
    expect((await readDomains(client)).federated.map((d) => [d.id, d.subdomains])).toEqual([
      ['fabrikam.com', ['eu.fabrikam.com', 'x.eu.fabrikam.com']],
      ['contoso.com', ['us.contoso.com']],
    ]);
    expect(rootReads()).toEqual(['eu.fabrikam.com', 'us.contoso.com', 'x.eu.fabrikam.com']);
  });

  it('an app-only sign-in is refused by Graph: the admin is told to sign in as an admin with the delegated permission', async () => {
    const { identity: _i, ...appOnly } = cutoverTenant();
    const g = fakeGraph({ tenant: appOnly });
    await expect(readRolloutPolicy(g.client({ readOnly: true }))).rejects.toThrow(/staged rollout needs an admin signed in .*no application permission.*Policy\.Read\.HybridAuthentication to read it/);
  });

  it('reads the policy and its groups with the read-only delegated permission (the list takes $expand; a GET by id would need ReadWrite)', async () => {
    const tenant = cutoverTenant();
    const g = fakeGraph({ tenant: { ...tenant, identity: { ...(tenant['identity'] as object), scopes: ['Policy.Read.HybridAuthentication', 'User.Read'] } } });
    g.emu.clearRequests();
    expect(await readRolloutPolicy(g.client({ readOnly: true }))).toMatchObject({ displayName: 'MFA', appliesTo: [gid(1)] });
    expect(g.operations().map((o) => `${o.method} ${o.path} ${o.status}`)).toEqual(['GET /v1.0/policies/featureRolloutPolicies?$expand=appliesTo 200']);
  });

  it('an unknown or ambiguous group name is the admin\'s to settle, naming the option', async () => {
    const g = fakeGraph({ tenant: { ...cutoverTenant(), groups: [...(cutoverTenant().groups as unknown[]), { id: gid(5), displayName: 'Rollout A', members: [] }] } });
    const client = g.client({ readOnly: true });
    // Saying what to do, as the refusal of a dynamic group does (a black-box review: only "no group is named").
    await expect(readCutover(client, { rolloutGroups: ['Nope'], rollout: true, federation: false })).rejects.toThrow(
      '--rollout-group "Nope": no group is named "Nope": create an assigned (not dynamic) security group of that name, empty, for staged rollout, or give the object id of the group to use',
    );
    await expect(readCutover(client, { rolloutGroups: ['Rollout A'], rollout: true, federation: false })).rejects.toThrow(/--rollout-group "Rollout A": 2 groups are named/);
    await expect(readCutover(client, { rolloutGroups: [], rollout: false, campaignGroup: 'SMS users', federation: false })).rejects.toThrow(
      '--campaign-group "SMS users": no group is named "SMS users": create an assigned (not dynamic) security group of that name for the Authenticator registration campaign, or give the object id of the group to use',
    );
  });
});
