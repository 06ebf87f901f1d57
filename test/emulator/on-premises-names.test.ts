import { describe, expect, it } from 'vitest';
import { TenantFileError } from '../../src/emulator/index.js';
import { expectGraphError, inProcess } from './helpers.js';

const tenant = {
  tenant: { id: '11111111-2222-3333-4444-555555555555', size: 'S' },
  users: [
    { userPrincipalName: 'jdoe@example.com', displayName: 'J Doe', onPremisesUserPrincipalName: 'jdoe@corp.local', onPremisesSamAccountName: 'jdoe', onPremisesDomainName: 'corp.example.com' },
    { userPrincipalName: 'jdoe2@example.com', displayName: 'J Doe 2', onPremisesSamAccountName: 'JDOE', onPremisesDomainName: 'emea.example.com' },
    { userPrincipalName: 'cloud@example.com', displayName: 'Cloud only' },
  ],
};

const EVENTUAL = { ConsistencyLevel: 'eventual' };
const q = (filter: string, rest = '') => `/v1.0/users?$filter=${encodeURIComponent(filter)}&$select=userPrincipalName,onPremisesSamAccountName,onPremisesDomainName${rest}`;

describe('users: the synced on-premises names (onPremisesUserPrincipalName, onPremisesSamAccountName, onPremisesDomainName)', () => {
  it('are read from the tenant file and returned on $select only, null for a cloud user', async () => {
    const { graph } = inProcess({ tenant });
    const byDefault = await graph.get('/v1.0/users/jdoe@example.com');
    expect(byDefault.body).not.toHaveProperty('onPremisesSamAccountName');
    const selected = await graph.get('/v1.0/users/jdoe@example.com?$select=onPremisesUserPrincipalName,onPremisesSamAccountName,onPremisesDomainName');
    expect(selected.body).toMatchObject({ onPremisesUserPrincipalName: 'jdoe@corp.local', onPremisesSamAccountName: 'jdoe', onPremisesDomainName: 'corp.example.com' });
    const cloud = await graph.get('/v1.0/users/cloud@example.com?$select=onPremisesSamAccountName,onPremisesDomainName');
    expect(cloud.body).toMatchObject({ onPremisesSamAccountName: null, onPremisesDomainName: null });
  });

  it('filter by onPremisesUserPrincipalName with eq and in by default, case aside', async () => {
    const { graph } = inProcess({ tenant });
    const eq = await graph.get(q("onPremisesUserPrincipalName eq 'JDOE@corp.local'"));
    expect(eq.status).toBe(200);
    expect(eq.body.value.map((u: { userPrincipalName: string }) => u.userPrincipalName)).toEqual(['jdoe@example.com']);
    const inList = await graph.get(q("onPremisesUserPrincipalName in ('nobody@corp.local','jdoe@corp.local')"));
    expect(inList.body.value).toHaveLength(1);
  });

  it('filter by onPremisesSamAccountName only in an advanced query (ConsistencyLevel: eventual and $count=true), as Graph', async () => {
    const { graph } = inProcess({ tenant });
    const plain = await graph.get(q("onPremisesSamAccountName eq 'jdoe'"));
    expectGraphError(plain, 400, 'Request_UnsupportedQuery');
    expect(plain.body.error.message).toBe("Unsupported or invalid query filter clause specified for property 'onPremisesSamAccountName' of resource 'User'.");
    // $count without the header is refused too; the header without $count is not an advanced query.
    expectGraphError(await graph.get(q("onPremisesSamAccountName eq 'jdoe'", '&$count=true')), 400, 'Request_UnsupportedQuery');
    expectGraphError(await graph.get(q("onPremisesSamAccountName eq 'jdoe'"), EVENTUAL), 400, 'Request_UnsupportedQuery');
    const advanced = await graph.get(q("onPremisesSamAccountName in ('jdoe')", '&$count=true'), EVENTUAL);
    expect(advanced.status).toBe(200);
    expect(advanced.body['@odata.count']).toBe(2);
    expect(advanced.body.value.map((u: { onPremisesDomainName: string }) => u.onPremisesDomainName).sort()).toEqual(['corp.example.com', 'emea.example.com']);
  });

  it('inside $batch, the item carrying the header', async () => {
    const { graph } = inProcess({ tenant });
    const url = q("onPremisesSamAccountName in ('jdoe')", '&$count=true').slice('/v1.0'.length);
    const r = await graph.post('/v1.0/$batch', {
      requests: [
        { id: '1', method: 'GET', url, headers: EVENTUAL },
        { id: '2', method: 'GET', url },
      ],
    });
    const byId = Object.fromEntries(r.body.responses.map((x: { id: string; status: number }) => [x.id, x.status]));
    expect(byId).toEqual({ '1': 200, '2': 400 });
  });

  it('a tenant file with an on-premises UPN that is not name@domain is refused', () => {
    expect(() => inProcess({ tenant: { ...tenant, users: [{ userPrincipalName: 'a@example.com', displayName: 'A', onPremisesUserPrincipalName: 'CORP\\a' }] } })).toThrow(TenantFileError);
  });
});
