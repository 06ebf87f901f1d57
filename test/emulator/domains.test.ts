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
