import { describe, expect, it } from 'vitest';
import { expectGraphError, inProcess, tenantWithUsers } from './helpers.js';

const FEDERATION_ID = 'dddddddd-0000-0000-0000-000000000001';
const TENANT = {
  tenant: { id: '11111111-2222-3333-4444-555555555555', displayName: 'Fabrikam' },
  users: [
    { userPrincipalName: 'a@fabrikam.com', displayName: 'A' },
    { userPrincipalName: 'b@corp.fabrikam.com', displayName: 'B' },
  ],
  domains: [
    { id: 'fabrikam.onmicrosoft.com', isInitial: true },
    { id: 'fabrikam.com', isDefault: true },
    {
      id: 'corp.fabrikam.com',
      federation: {
        id: FEDERATION_ID,
        displayName: 'Fabrikam AD FS',
        issuerUri: 'http://sts.fabrikam.com/adfs/services/trust',
        passiveSignInUri: 'https://sts.fabrikam.com/adfs/ls/',
        preferredAuthenticationProtocol: 'wsFed',
      },
    },
  ],
};
const FEDERATION = `/v1.0/domains/corp.fabrikam.com/federationConfiguration/${FEDERATION_ID}`;

describe('domains', () => {
  it('lists and gets the tenant file\'s domains, federated ones as authenticationType Federated', async () => {
    const { graph } = inProcess({ tenant: TENANT });
    const list = (await graph.get('/v1.0/domains')).body.value;
    expect(list.map((d: { id: string; authenticationType: string; isDefault: boolean }) => [d.id, d.authenticationType, d.isDefault])).toEqual([
      ['fabrikam.onmicrosoft.com', 'Managed', false],
      ['fabrikam.com', 'Managed', true],
      ['corp.fabrikam.com', 'Federated', false],
    ]);
    expect((await graph.get('/v1.0/domains/CORP.fabrikam.com')).body).toMatchObject({ id: 'corp.fabrikam.com', isVerified: true, isInitial: false });
    expect((await graph.get('/v1.0/domains?$select=id,authenticationType')).body.value[2]).toEqual({ id: 'corp.fabrikam.com', authenticationType: 'Federated' });
    expectGraphError(await graph.get('/v1.0/domains/contoso.com'), 404, 'Request_ResourceNotFound');
    const org = (await graph.get('/v1.0/organization')).body.value[0];
    expect(org.verifiedDomains.map((d: { name: string; type: string }) => `${d.name} ${d.type}`)).toEqual(['fabrikam.onmicrosoft.com Managed', 'fabrikam.com Managed', 'corp.fabrikam.com Federated']);
    expect((await graph.get('/v1.0/organization?$select=id,tenantType')).body.value[0]).toEqual({ id: '11111111-2222-3333-4444-555555555555', tenantType: null });
  });

  it('defaults to the users\' UPN domains, managed, when the tenant file names none', async () => {
    const { graph } = inProcess({ tenant: tenantWithUsers(2) });
    expect((await graph.get('/v1.0/domains')).body.value.map((d: { id: string; isDefault: boolean }) => [d.id, d.isDefault])).toEqual([['example.com', true]]);
    expect((await graph.get('/v1.0/domains/example.com/federationConfiguration')).body.value).toEqual([]);
  });
});

describe('domains/{id}/federationConfiguration', () => {
  it('reads the internalDomainFederation, federatedIdpMfaBehavior defaulting to acceptIfMfaDoneByFederatedIdp', async () => {
    const { graph } = inProcess({ tenant: TENANT });
    const list = (await graph.get('/v1.0/domains/corp.fabrikam.com/federationConfiguration')).body.value;
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      '@odata.type': '#microsoft.graph.internalDomainFederation',
      id: FEDERATION_ID,
      displayName: 'Fabrikam AD FS',
      federatedIdpMfaBehavior: 'acceptIfMfaDoneByFederatedIdp',
      preferredAuthenticationProtocol: 'wsFed',
      signOutUri: null,
    });
    expect((await graph.get(FEDERATION)).body.id).toBe(FEDERATION_ID);
    expect((await graph.get('/beta/domains/corp.fabrikam.com/federationConfiguration')).body.value).toHaveLength(1);
    expect((await graph.get('/v1.0/domains/fabrikam.com/federationConfiguration')).body.value).toEqual([]);
    expectGraphError(await graph.get('/v1.0/domains/fabrikam.com/federationConfiguration/x'), 404, 'Request_ResourceNotFound');
  });

  it('sets federatedIdpMfaBehavior by PATCH (204), refusing values and properties the type does not have', async () => {
    const { graph, emu } = inProcess({ tenant: TENANT });
    expect((await graph.patch(FEDERATION, { '@odata.type': '#microsoft.graph.internalDomainFederation', federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp' })).status).toBe(204);
    expect((await graph.get(FEDERATION)).body.federatedIdpMfaBehavior).toBe('rejectMfaByFederatedIdp');
    const state = emu.snapshot() as { domains: { id: string; federatedIdpMfaBehavior: string | null }[] };
    expect(state.domains.map((d) => [d.id, d.federatedIdpMfaBehavior])).toEqual([
      ['fabrikam.onmicrosoft.com', null],
      ['fabrikam.com', null],
      ['corp.fabrikam.com', 'rejectMfaByFederatedIdp'],
    ]);
    expectGraphError(await graph.patch(FEDERATION, { federatedIdpMfaBehavior: 'rejectMfa' }), 400, 'BadRequest');
    expectGraphError(await graph.patch(FEDERATION, { federatedIdpMfaBehavior: null }), 400, 'BadRequest');
    expectGraphError(await graph.patch(FEDERATION, { mfaBehavior: 'rejectMfaByFederatedIdp' }), 400, 'BadRequest');
    expectGraphError(await graph.patch(FEDERATION, { '@odata.type': '#microsoft.graph.samlOrWsFedExternalDomainFederation' }), 400, 'BadRequest');
    expectGraphError(await graph.patch(FEDERATION, { isSignedAuthenticationRequestRequired: 'yes' }), 400, 'BadRequest');
    expect((await graph.patch(FEDERATION, { promptLoginBehavior: 'nativeSupport', signOutUri: 'https://sts.fabrikam.com/adfs/ls/?wa=wsignout1.0' })).status).toBe(204);
    expect((await graph.get(FEDERATION)).body).toMatchObject({ federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp', promptLoginBehavior: 'nativeSupport' });
  });

  it('checks domains in the tenant file', () => {
    const load = (domains: unknown[]) => () => inProcess({ tenant: { ...TENANT, domains } });
    expect(load([{ id: 'fabrikam.com' }])).toThrow(/UPN domain 'corp\.fabrikam\.com' is not a verified domain/);
    expect(load([...TENANT.domains, { id: 'fabrikam.com' }])).toThrow(/duplicate domain/);
    expect(load([...TENANT.domains.slice(0, 2), { id: 'corp.fabrikam.com', federation: { displayName: 'x', issuerUri: 'x', passiveSignInUri: 'x', federatedIdpMfaBehavior: 'never' } }])).toThrow(/federatedIdpMfaBehavior/);
    expect(load([{ id: 'fabrikam.com', isDefault: true }, { id: 'corp.fabrikam.com', isDefault: true }])).toThrow(/only one domain can be the default/);
  });
});

describe('subdomains', () => {
  const ROOT_FEDERATION = 'dddddddd-0000-0000-0000-000000000002';
  const FEDERATED = { displayName: 'Contoso AD FS', issuerUri: 'http://sts.contoso.com/adfs/services/trust', passiveSignInUri: 'https://sts.contoso.com/adfs/ls/' };
  const SUBS = {
    tenant: { id: '11111111-2222-3333-4444-555555555555', displayName: 'Contoso' },
    users: [
      { userPrincipalName: 'a@contoso.com', displayName: 'A' },
      { userPrincipalName: 'b@eu.contoso.com', displayName: 'B' },
    ],
    domains: [
      { id: 'contoso.com', isDefault: true, federation: { id: ROOT_FEDERATION, ...FEDERATED } },
      { id: 'eu.contoso.com' },
      { id: 'x.eu.contoso.com' },
      { id: 'apac.contoso.com', isRoot: true },
    ],
  };

  it("a subdomain of a listed domain is not a root unless promoted: it reads its root's authenticationType, has no federation of its own, and names its root", async () => {
    const { graph } = inProcess({ tenant: SUBS });
    const list = (await graph.get('/v1.0/domains?$select=id,authenticationType,isRoot')).body.value;
    expect(list).toEqual([
      { id: 'contoso.com', authenticationType: 'Federated', isRoot: true },
      { id: 'eu.contoso.com', authenticationType: 'Federated', isRoot: false },
      { id: 'x.eu.contoso.com', authenticationType: 'Federated', isRoot: false },
      // Promoted: its own settings, managed (no federation of its own).
      { id: 'apac.contoso.com', authenticationType: 'Managed', isRoot: true },
    ]);
    expect((await graph.get('/v1.0/domains/eu.contoso.com/federationConfiguration')).body.value).toEqual([]);
    expect((await graph.get('/v1.0/domains/eu.contoso.com/rootDomain')).body).toMatchObject({ id: 'contoso.com', isRoot: true, authenticationType: 'Federated' });
    expect((await graph.get('/v1.0/domains/x.eu.contoso.com/rootDomain?$select=id')).body).toEqual(expect.objectContaining({ id: 'contoso.com' }));
    expectGraphError(await graph.get('/v1.0/domains/contoso.com/rootDomain'), 404, 'Request_ResourceNotFound');
    expectGraphError(await graph.get('/v1.0/domains/apac.contoso.com/rootDomain'), 404, 'Request_ResourceNotFound');
  });

  it("refuses a federation change on a subdomain (400: it takes its root's); the root's applies to it", async () => {
    const { graph, emu } = inProcess({ tenant: SUBS });
    const body = { '@odata.type': '#microsoft.graph.internalDomainFederation', federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp' };
    const refused = await graph.patch(`/v1.0/domains/eu.contoso.com/federationConfiguration/${ROOT_FEDERATION}`, body);
    expectGraphError(refused, 400, 'BadRequest');
    expect(refused.body.error.message).toMatch(/'eu\.contoso\.com' is a subdomain \(isRoot false\) of 'contoso\.com'/);
    expectGraphError(await graph.post('/v1.0/domains/eu.contoso.com/federationConfiguration', { ...FEDERATED }), 400, 'BadRequest');
    expect((await graph.patch(`/v1.0/domains/contoso.com/federationConfiguration/${ROOT_FEDERATION}`, body)).status).toBe(204);
    const state = emu.snapshot() as { domains: { id: string; authenticationType: string; isRoot: boolean; federatedIdpMfaBehavior: string | null }[] };
    expect(state.domains.map((d) => [d.id, d.authenticationType, d.isRoot, d.federatedIdpMfaBehavior])).toEqual([
      ['contoso.com', 'Federated', true, 'rejectMfaByFederatedIdp'],
      ['eu.contoso.com', 'Federated', false, null],
      ['x.eu.contoso.com', 'Federated', false, null],
      ['apac.contoso.com', 'Managed', true, null],
    ]);
  });

  it('checks subdomains in the tenant file: isRoot false needs a parent listed, and a non-root subdomain has no federation of its own', () => {
    const load = (domains: unknown[]) => () => inProcess({ tenant: { ...SUBS, domains } });
    expect(load([SUBS.domains[0], { id: 'eu.contoso.com' }, { id: 'fabrikam.com', isRoot: false }])).toThrow(/\$\.domains\[2\]\.isRoot: 'fabrikam\.com' is a subdomain of no other domain listed/);
    expect(load([SUBS.domains[0], { id: 'eu.contoso.com', isRoot: false, federation: FEDERATED }])).toThrow(/\$\.domains\[1\]\.federation: 'eu\.contoso\.com' is a subdomain \(isRoot false\)/);
    // Given a federation of its own, a subdomain reads as promoted.
    expect(load([SUBS.domains[0], { id: 'eu.contoso.com', federation: FEDERATED }])).not.toThrow();
  });
});
