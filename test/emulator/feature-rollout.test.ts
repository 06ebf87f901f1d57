import { describe, expect, it } from 'vitest';
import { mintToken } from '../../src/emulator/identity.js';
import { expectGraphError, inProcess, introspect, type GraphClient } from './helpers.js';

const TENANT_ID = '11111111-2222-3333-4444-555555555555';
const POLICIES = '/v1.0/policies/featureRolloutPolicies';
const users = (n: number) => Array.from({ length: n }, (_, i) => ({ userPrincipalName: `u${i}@example.com`, displayName: `User ${i}` }));
const ref = (id: string) => ({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}` });

/** Groups for every rule: fits, too big for a first add, dynamic, nested, with a contact; limits lowered to reach them. */
function rolloutTenant(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tenant: { id: TENANT_ID },
    users: users(8),
    contacts: [{ id: 'cccccccc-0000-0000-0000-000000000001', displayName: 'Vendor contact', mail: 'v@vendor.example' }],
    groups: [
      { id: 'aaaaaaaa-0000-0000-0000-000000000001', displayName: 'Wave 1', members: ['u0@example.com', 'u1@example.com'] },
      { id: 'aaaaaaaa-0000-0000-0000-000000000002', displayName: 'Big', members: ['u2@example.com', 'u3@example.com', 'u4@example.com'] },
      { id: 'aaaaaaaa-0000-0000-0000-000000000003', displayName: 'Dynamic', groupTypes: ['DynamicMembership'], membershipRule: '(user.department -eq "Sales")', members: ['u6@example.com'] },
      { id: 'aaaaaaaa-0000-0000-0000-000000000004', displayName: 'Nested', members: ['aaaaaaaa-0000-0000-0000-000000000001'] },
      { id: 'aaaaaaaa-0000-0000-0000-000000000005', displayName: 'With contact', members: ['cccccccc-0000-0000-0000-000000000001'] },
      { id: 'aaaaaaaa-0000-0000-0000-000000000006', displayName: 'Wave 2', members: ['u7@example.com'] },
      { id: 'aaaaaaaa-0000-0000-0000-000000000007', displayName: 'Wave 3', members: [] },
    ],
    behaviour: { stagedRolloutLimits: { groupsPerFeature: 2, membersPerGroup: 3, membersAtFirstAdd: 2 } },
    ...extra,
  };
}
const G = (n: number) => `aaaaaaaa-0000-0000-0000-00000000000${n}`;

async function createMfaPolicy(graph: GraphClient): Promise<string> {
  const r = await graph.post(POLICIES, { displayName: 'MFA cutover', feature: 'multiFactorAuthentication', isEnabled: true, isAppliedToOrganization: false });
  expect(r.status).toBe(201);
  return r.body.id as string;
}

describe('featureRolloutPolicies: CRUD', () => {
  it('creates, lists (with $filter and $expand), gets, updates and deletes a policy, on v1.0 and beta', async () => {
    const { graph, emu } = inProcess({ tenant: rolloutTenant() });
    const created = await graph.post(POLICIES, { displayName: 'MFA cutover', description: 'Wave by wave', feature: 'multiFactorAuthentication', isEnabled: true, isAppliedToOrganization: false });
    expect(created.status).toBe(201);
    // multiFactorAuthentication comes after unknownFutureValue in stagedFeatureName: Graph answers it only to a request that prefers it.
    expect(created.body).toMatchObject({ displayName: 'MFA cutover', description: 'Wave by wave', feature: 'unknownFutureValue', isEnabled: true, isAppliedToOrganization: false });
    const id = created.body.id;
    expect((await graph.get(`${POLICIES}/${id}`, { Prefer: 'include-unknown-enum-members' })).body.feature).toBe('multiFactorAuthentication');
    expect((await graph.get(`${POLICIES}/${id}`, { Prefer: 'return=minimal, include-unknown-enum-members' })).body.feature).toBe('multiFactorAuthentication');
    expect((await graph.get(`${POLICIES}/${id}`)).body.feature).toBe('unknownFutureValue');
    expect((await graph.post(`${POLICIES}/${id}/appliesTo/$ref`, ref(G(1)))).status).toBe(204);
    const list = (await graph.get(`${POLICIES}?$filter=feature eq 'multiFactorAuthentication'&$expand=appliesTo`)).body.value;
    expect(list).toHaveLength(1);
    expect(list[0].appliesTo).toEqual([{ '@odata.type': '#microsoft.graph.group', id: G(1), displayName: 'Wave 1' }]);
    expect((await graph.get(`${POLICIES}?$filter=feature eq 'seamlessSso'`)).body.value).toEqual([]);
    expect((await graph.get(`/beta/policies/featureRolloutPolicies/${id}`)).body.appliesTo).toBeUndefined();
    expect((await graph.get(`${POLICIES}/${id}?$select=isEnabled`)).body).toMatchObject({ id, isEnabled: true });
    expect((await graph.patch(`${POLICIES}/${id}`, { isEnabled: false, displayName: 'Paused' })).status).toBe(204);
    expect((emu.snapshot() as { featureRolloutPolicies: unknown[] }).featureRolloutPolicies).toEqual([
      { id, displayName: 'Paused', description: 'Wave by wave', feature: 'multiFactorAuthentication', isEnabled: false, isAppliedToOrganization: false, appliesTo: [G(1)] },
    ]);
    expect((await graph.get(`${POLICIES}/${id}/appliesTo`)).body.value.map((o: { id: string }) => o.id)).toEqual([G(1)]);
    expect((await graph.delete(`${POLICIES}/${id}`)).status).toBe(204);
    expectGraphError(await graph.get(`${POLICIES}/${id}`), 404, 'Request_ResourceNotFound');
  });

  it("refuses a bad feature, missing required properties, a second policy for a feature, appliesTo in the body and a feature change", async () => {
    const { graph } = inProcess({ tenant: rolloutTenant() });
    expectGraphError(await graph.post(POLICIES, { displayName: 'x', feature: 'mfa', isEnabled: true }), 400, 'BadRequest');
    expectGraphError(await graph.post(POLICIES, { feature: 'multiFactorAuthentication', isEnabled: true }), 400, 'BadRequest');
    expectGraphError(await graph.post(POLICIES, { displayName: 'x', feature: 'multiFactorAuthentication' }), 400, 'BadRequest');
    expectGraphError(await graph.post(POLICIES, { displayName: 'x', feature: 'multiFactorAuthentication', isEnabled: 'yes' }), 400, 'BadRequest');
    expectGraphError(await graph.post(POLICIES, { displayName: 'x', feature: 'multiFactorAuthentication', isEnabled: true, colour: 'red' }), 400, 'BadRequest');
    expectGraphError(await graph.post(POLICIES, { displayName: 'x', feature: 'multiFactorAuthentication', isEnabled: true, appliesTo: [{ id: G(1) }] }), 400, 'BadRequest');
    const id = await createMfaPolicy(graph);
    expectGraphError(await graph.post(POLICIES, { displayName: 'again', feature: 'multiFactorAuthentication', isEnabled: true }), 409, 'conflict');
    expectGraphError(await graph.patch(`${POLICIES}/${id}`, { feature: 'seamlessSso' }), 400, 'BadRequest');
    expect((await graph.post(POLICIES, { displayName: 'SSO', feature: 'seamlessSso', isEnabled: true })).status).toBe(201);
  });
});

describe('featureRolloutPolicies: appliesTo and staged rollout\'s rules', () => {
  it('adds and removes groups by $ref; refuses users, contacts, unknown objects and duplicates', async () => {
    const { graph, emu } = inProcess({ tenant: rolloutTenant() });
    const id = await createMfaPolicy(graph);
    const add = (objectId: string) => graph.post(`${POLICIES}/${id}/appliesTo/$ref`, ref(objectId));
    expect((await add(G(1))).status).toBe(204);
    expectGraphError(await add(G(1)), 400, 'Request_BadRequest');
    expectGraphError(await add(emu.state.findUser('u0@example.com')!.id), 400, 'Request_BadRequest');
    expectGraphError(await add('cccccccc-0000-0000-0000-000000000001'), 400, 'Request_BadRequest');
    expectGraphError(await add('99999999-9999-9999-9999-999999999999'), 404, 'Request_ResourceNotFound');
    expectGraphError(await graph.post(`${POLICIES}/${id}/appliesTo/$ref`, {}), 400, 'Request_BadRequest');
    expect((await graph.delete(`${POLICIES}/${id}/appliesTo/${G(1)}/$ref`)).status).toBe(204);
    expectGraphError(await graph.delete(`${POLICIES}/${id}/appliesTo/${G(1)}/$ref`), 404, 'Request_ResourceNotFound');
    expect(emu.state.rolloutPolicies[0]!.appliesTo).toEqual([]);
  });

  it('refuses dynamic and nested groups and groups holding contacts, naming why', async () => {
    const { graph } = inProcess({ tenant: rolloutTenant() });
    const id = await createMfaPolicy(graph);
    for (const [n, why] of [[3, /dynamic/], [4, /nested/], [5, /contacts/]] as const) {
      const r = await graph.post(`${POLICIES}/${id}/appliesTo/$ref`, ref(G(n)));
      expectGraphError(r, 400, 'Request_BadRequest');
      expect(r.body.error.message).toMatch(why);
    }
  });

  it('takes a group only while it holds at most the first-add limit of users (200 by default); users are added after that', async () => {
    const { graph, emu } = inProcess({ tenant: rolloutTenant() });
    const id = await createMfaPolicy(graph);
    const big = await graph.post(`${POLICIES}/${id}/appliesTo/$ref`, ref(G(2)));
    expectGraphError(big, 400, 'Request_BadRequest');
    expect(big.body.error.message).toMatch(/more than 2 members.*first added/);
    // Attach while small, then fill: allowed up to the per-group limit (3 here, 50,000 by default).
    expect((await graph.post(`${POLICIES}/${id}/appliesTo/$ref`, ref(G(6)))).status).toBe(204);
    const member = (upn: string) => graph.post(`/v1.0/groups/${G(6)}/members/$ref`, ref(emu.state.findUser(upn)!.id));
    expect((await member('u2@example.com')).status).toBe(204);
    expect((await member('u3@example.com')).status).toBe(204);
    const over = await member('u4@example.com');
    expectGraphError(over, 400, 'Request_BadRequest');
    expect(over.body.error.message).toMatch(/already has 3 members/);
    // A rollout group takes no nested groups or contacts either.
    expectGraphError(await graph.post(`/v1.0/groups/${G(6)}/members/$ref`, ref(G(7))), 400, 'Request_BadRequest');
    expectGraphError(await graph.post(`/v1.0/groups/${G(6)}/members/$ref`, ref('cccccccc-0000-0000-0000-000000000001')), 400, 'Request_BadRequest');
    // A group no rollout uses takes them.
    expect((await graph.post(`/v1.0/groups/${G(7)}/members/$ref`, ref('cccccccc-0000-0000-0000-000000000001'))).status).toBe(204);
  });

  it('takes at most the per-feature group limit (10 by default)', async () => {
    const { graph } = inProcess({ tenant: rolloutTenant() });
    const id = await createMfaPolicy(graph);
    expect((await graph.post(`${POLICIES}/${id}/appliesTo/$ref`, ref(G(1)))).status).toBe(204);
    expect((await graph.post(`${POLICIES}/${id}/appliesTo/$ref`, ref(G(6)))).status).toBe(204);
    const third = await graph.post(`${POLICIES}/${id}/appliesTo/$ref`, ref(G(7)));
    expectGraphError(third, 400, 'Request_BadRequest');
    expect(third.body.error.message).toMatch(/at most 2 groups per feature/);
  });
});

describe('featureRolloutPolicies in the tenant file', () => {
  it('loads policies with appliesTo by group id or name, checked by the same rules', async () => {
    const { graph, emu } = inProcess({
      tenant: rolloutTenant({ featureRolloutPolicies: [{ displayName: 'MFA', feature: 'multiFactorAuthentication', isEnabled: true, appliesTo: ['Wave 1', G(2)] }] }),
    });
    // The first-add limit is the API's: a file describes groups that may have grown since.
    expect(emu.state.rolloutPolicies[0]!.appliesTo).toEqual([G(1), G(2)]);
    expect((await graph.get(POLICIES)).body.value[0]).toMatchObject({ displayName: 'MFA', isAppliedToOrganization: false });
    const bad = (policies: unknown[]) => () => inProcess({ tenant: rolloutTenant({ featureRolloutPolicies: policies }) });
    expect(bad([{ displayName: 'x', feature: 'multiFactorAuthentication', isEnabled: true, appliesTo: ['Dynamic'] }])).toThrow(/appliesTo\[0\]: .*dynamic/);
    expect(bad([{ displayName: 'x', feature: 'multiFactorAuthentication', isEnabled: true, appliesTo: ['Nope'] }])).toThrow(/no group with id or display name 'Nope'/);
    expect(bad([{ displayName: 'x', feature: 'multiFactorAuthentication', isEnabled: true, appliesTo: ['Wave 1', 'Wave 2', 'Wave 3'] }])).toThrow(/at most 2 groups per feature/);
    expect(bad([{ displayName: 'x', feature: 'mfa', isEnabled: true }])).toThrow(/feature/);
    expect(bad([{ displayName: 'x', feature: 'seamlessSso', isEnabled: true }, { displayName: 'y', feature: 'seamlessSso', isEnabled: false }])).toThrow(/second policy/);
  });
});

describe('featureRolloutPolicies and permissions', () => {
  it('has no application permission: an app token is refused, a delegated admin with Policy.ReadWrite.HybridAuthentication is not', async () => {
    const { graph } = inProcess({ tenant: rolloutTenant({ identity: {} }) });
    const app = graph.as(mintToken(TENANT_ID, { appId: 'a', appDisplayName: 'a', roles: ['Directory.ReadWrite.All', 'Policy.ReadWrite.HybridAuthentication'] }));
    expectGraphError(await app.get(POLICIES), 403, 'Authorization_RequestDenied');
    const admin = graph.as(mintToken(TENANT_ID, { appId: 'a', appDisplayName: 'a', roles: [], user: { userPrincipalName: 'u0@example.com', objectId: 'x', scopes: ['Policy.ReadWrite.HybridAuthentication'] } }));
    expect((await admin.post(POLICIES, { displayName: 'MFA', feature: 'multiFactorAuthentication', isEnabled: true })).status).toBe(201);
    const reader = graph.as(mintToken(TENANT_ID, { appId: 'a', appDisplayName: 'a', roles: [], user: { userPrincipalName: 'u0@example.com', objectId: 'x', scopes: ['Policy.Read.HybridAuthentication'] } }));
    expect((await reader.get(POLICIES)).status).toBe(200);
    expectGraphError(await reader.post(POLICIES, { displayName: 'SSO', feature: 'seamlessSso', isEnabled: true }), 403, 'Authorization_RequestDenied');
  });

  it('is open to the token minted for a delegated tenant identity', async () => {
    const { emu, graph } = inProcess({ tenant: rolloutTenant({ identity: { userPrincipalName: 'u0@example.com' } }) });
    const admin = graph.as((await introspect(emu, 'token', { method: 'POST' })).body.access_token);
    const id = (await admin.post(POLICIES, { displayName: 'MFA', feature: 'multiFactorAuthentication', isEnabled: true })).body.id;
    expect((await admin.post(`${POLICIES}/${id}/appliesTo/$ref`, ref(G(1)))).status).toBe(204);
    expect((await admin.post(`/v1.0/groups/${G(7)}/members/$ref`, ref(emu.state.findUser('u1@example.com')!.id))).status).toBe(204);
  });
});
