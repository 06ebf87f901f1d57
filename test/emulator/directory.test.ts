import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { ALICE, expectGraphError, start, tenantWithUsers, type GraphClient } from './helpers.js';

let emu: RunningEmulator;
let graph: GraphClient;
beforeAll(async () => ({ emu, graph } = await start()));
afterAll(() => emu.stop());

describe('users', () => {
  it('gets a user by UPN case-insensitively and by id, with v1.0 default properties', async () => {
    const byUpn = await graph.get('/v1.0/users/ALICE@Contoso.COM');
    expect(byUpn.status).toBe(200);
    expect(byUpn.body.userPrincipalName).toBe(ALICE);
    expect(byUpn.body['@odata.context']).toBe(`${emu.url}/v1.0/$metadata#users/$entity`);
    // accountEnabled is not among v1.0's default properties: it must be selected.
    expect(byUpn.body).not.toHaveProperty('accountEnabled');
    const byId = await graph.get(`/v1.0/users/${byUpn.body.id}?$select=id,accountEnabled`);
    expect(byId.body).toMatchObject({ id: byUpn.body.id, accountEnabled: true });
    const rupert = await graph.get('/v1.0/users/rupert@contoso.com?$select=accountEnabled');
    expect(rupert.body.accountEnabled).toBe(false);
  });

  it("answers Graph's 404 for an unknown user", async () => {
    const r = await graph.get('/v1.0/users/sybil@contoso.com');
    expectGraphError(r, 404, 'Request_ResourceNotFound');
    expect(r.body.error.message).toBe(
      "Resource 'sybil@contoso.com' does not exist or one of its queried reference-property objects are not present.",
    );
  });

  it('refuses an unknown $select property', async () => {
    const r = await graph.get('/v1.0/users?$select=id,shoeSize');
    expectGraphError(r, 400, 'BadRequest');
    expect(r.body.error.message).toContain("'shoeSize'");
  });

  it('checks $top is 1..999 with Graph\'s message', async () => {
    for (const top of ['1000', '0']) {
      const r = await graph.get(`/v1.0/users?$top=${top}`);
      expectGraphError(r, 400, 'Request_UnsupportedQuery');
      expect(r.body.error.message).toBe(`Invalid page size specified: '${top}'. Must be between 1 and 999 inclusive.`);
    }
    expect((await graph.get('/v1.0/users?$top=999')).status).toBe(200);
  });

  it('filters by userPrincipalName, id, startswith and displayName', async () => {
    const eq = await graph.get("/v1.0/users?$filter=userPrincipalName eq 'NORA.SMITH@contoso.com'");
    expect(eq.body.value.map((u: { userPrincipalName: string }) => u.userPrincipalName)).toEqual(['nora.smith@contoso.com']);
    const id = eq.body.value[0].id;
    const byId = await graph.get(`/v1.0/users?$filter=id eq '${id}'`);
    expect(byId.body.value).toHaveLength(1);
    const prefix = await graph.get("/v1.0/users?$filter=startswith(userPrincipalName,'ra')&$select=userPrincipalName");
    expect(prefix.body.value.map((u: { userPrincipalName: string }) => u.userPrincipalName).sort()).toEqual(['ravi@contoso.com']);
    const name = await graph.get("/v1.0/users?$filter=startswith(displayName,'Qu') or displayName eq 'Igor Ivanovic'");
    expect(name.body.value.map((u: { displayName: string }) => u.displayName).sort()).toEqual(['Igor Ivanovic', 'Quinn Quade']);
    const many = await graph.get("/v1.0/users?$filter=userPrincipalName in ('alice@contoso.com','bob@contoso.com')");
    expect(many.body.value).toHaveLength(2);
  });

  it('finds users by id with `in`, 15 ids at most (a UPN among the ids matches nobody); 16 is refused with Graph\'s message', async () => {
    const listed = await graph.get('/v1.0/users?$select=id,userPrincipalName&$top=20');
    const users = listed.body.value as { id: string; userPrincipalName: string }[];
    const fifteen = users.slice(0, 15);
    const quoted = (xs: string[]) => xs.map((x) => `'${x}'`).join(',');
    const r = await graph.get(`/v1.0/users?$filter=${encodeURIComponent(`id in (${quoted([...fifteen.map((u) => u.id.toUpperCase()), 'not-an-id'])})`)}&$select=id,userPrincipalName`);
    expectGraphError(r, 400, 'BadRequest');
    expect(r.body.error.message).toBe("Too many child clauses specified in search filter expression containing 'OR' operators: 16. Max allowed: 15.");
    const ok = await graph.get(`/v1.0/users?$filter=${encodeURIComponent(`id in (${quoted([...fifteen.slice(0, 13).map((u) => u.id), fifteen[13]!.userPrincipalName, 'not-an-id'])})`)}&$select=id,userPrincipalName`);
    expect(ok.status).toBe(200);
    expect((ok.body.value as { id: string }[]).map((u) => u.id).sort()).toEqual(fifteen.slice(0, 13).map((u) => u.id).sort());
  });

  it("counts the clauses of an `or` against the same 15 as an `in`'s values, an `in` among them adding all of its own", async () => {
    const eqs = (n: number) => Array.from({ length: n }, (_, i) => `userPrincipalName eq 'u${i}@contoso.com'`).join(' or ');
    const list = (n: number) => Array.from({ length: n }, (_, i) => `'v${i}@contoso.com'`).join(',');
    const filtered = (filter: string) => graph.get(`/v1.0/users?$filter=${encodeURIComponent(filter)}`);
    expect((await filtered(eqs(15))).status).toBe(200);
    const sixteen = await filtered(eqs(16));
    expectGraphError(sixteen, 400, 'BadRequest');
    expect(sixteen.body.error.message).toBe("Too many child clauses specified in search filter expression containing 'OR' operators: 16. Max allowed: 15.");
    expect((await filtered(`userPrincipalName in (${list(10)}) or ${eqs(5)}`)).status).toBe(200);
    expect((await filtered(`userPrincipalName in (${list(10)}) or (${eqs(6)})`)).body.error.message).toContain("'OR' operators: 16.");
    // An `and` counts once where it is OR'ed.
    expect((await filtered(`${eqs(14)} or (accountEnabled eq true and userPrincipalName in (${list(10)}))`)).status).toBe(200);
  });

  it('refuses a query option given twice, as OData does, whatever its case', async () => {
    for (const query of ['$top=2&$top=3', '$top=2&$TOP=2', "$filter=accountEnabled eq true&$filter=accountEnabled eq false", '$select=id&$select=displayName']) {
      const r = await graph.get(`/v1.0/users?${query}`);
      expectGraphError(r, 400, 'BadRequest');
      expect(r.body.error.message, query).toMatch(/^Query option '\$\w+' was specified more than once, but it must be specified at most once\.$/i);
    }
    // In a $batch item too.
    const batch = await graph.post('/v1.0/$batch', { requests: [{ id: '1', method: 'GET', url: '/users?$top=2&$top=3' }] });
    expect(batch.body.responses[0].status).toBe(400);
  });

  it('refuses filters on unsupported properties and malformed filters', async () => {
    expectGraphError(await graph.get("/v1.0/users?$filter=shoeSize eq '9'"), 400, 'Request_UnsupportedQuery');
    expectGraphError(await graph.get('/v1.0/users?$filter=userPrincipalName eq alice'), 400, 'BadRequest');
    expectGraphError(await graph.get("/v1.0/users?$filter=userPrincipalName eq 'unterminated"), 400, 'BadRequest');
  });

  it('filters with endswith on userPrincipalName in an advanced query only (ConsistencyLevel: eventual and $count=true), as Graph', async () => {
    const url = (rest: string) => `/v1.0/users?$filter=${encodeURIComponent("endswith(userPrincipalName,'@CONTOSO.com')")}&$select=id,userPrincipalName${rest}`;
    const plain = await graph.get(url(''));
    expectGraphError(plain, 400, 'Request_UnsupportedQuery');
    expect(plain.body.error.message).toBe('Unsupported Query.');
    // The header without $count is no advanced query.
    expectGraphError(await graph.get(url(''), { ConsistencyLevel: 'eventual' }), 400, 'Request_UnsupportedQuery');
    const advanced = await graph.get(url('&$count=true&$top=999'), { ConsistencyLevel: 'eventual' });
    expect(advanced.status).toBe(200);
    const upns = advanced.body.value.map((u: { userPrincipalName: string }) => u.userPrincipalName);
    expect(upns).toContain('admin@contoso.com');
    expect(upns.every((u: string) => u.toLowerCase().endsWith('@contoso.com'))).toBe(true);
    expect(advanced.body['@odata.count']).toBe(upns.length);
    // Only on the properties Graph lets it test.
    const other = await graph.get(`/v1.0/users?$filter=${encodeURIComponent("endswith(displayName,'Admin')")}&$count=true`, { ConsistencyLevel: 'eventual' });
    expectGraphError(other, 400, 'Request_UnsupportedQuery');
  });
});

describe('paging', () => {
  let big: RunningEmulator;
  let client: GraphClient;
  beforeAll(async () => ({ emu: big, graph: client } = await start({ tenant: tenantWithUsers(250) })));
  afterAll(() => big.stop());

  async function all(first: string): Promise<{ upns: string[]; pages: number }> {
    const upns: string[] = [];
    let url: string | undefined = first;
    let pages = 0;
    while (url) {
      const r = await client.get(url);
      expect(r.status).toBe(200);
      upns.push(...r.body.value.map((u: { userPrincipalName: string }) => u.userPrincipalName));
      url = r.body['@odata.nextLink'];
      pages++;
    }
    return { upns, pages };
  }

  it('pages 100 at a time by default through absolute next links', async () => {
    const first = await client.get('/v1.0/users');
    expect(first.body.value).toHaveLength(100);
    expect(first.body['@odata.nextLink']).toMatch(new RegExp(`^${big.url}/v1.0/users\\?.*\\$skiptoken=`));
    const { upns, pages } = await all('/v1.0/users');
    expect(pages).toBe(3);
    expect(new Set(upns).size).toBe(250);
  });

  it('keeps $top, $select and $filter across pages', async () => {
    const { upns, pages } = await all("/v1.0/users?$top=7&$select=userPrincipalName&$filter=startswith(userPrincipalName,'u1')");
    // u1, u10..u19, u100..u199
    expect(upns).toHaveLength(111);
    expect(pages).toBe(Math.ceil(111 / 7));
    const page = await client.get("/v1.0/users?$top=7&$select=userPrincipalName");
    expect(Object.keys(page.body.value[0]).sort()).toEqual(['id', 'userPrincipalName']);
  });

  it('refuses a next link that was not followed whole, or a made-up token', async () => {
    const first = await client.get('/v1.0/users?$top=5');
    const next = new URL(first.body['@odata.nextLink']);
    const token = next.searchParams.get('$skiptoken')!;
    // Same token, different page size: the link was not followed as given.
    expectGraphError(await client.get(`/v1.0/users?$top=6&$skiptoken=${encodeURIComponent(token)}`), 400, 'Directory_ExpiredPageToken');
    expectGraphError(await client.get(`/v1.0/users?$skiptoken=${encodeURIComponent(token)}`), 400, 'Directory_ExpiredPageToken');
    expectGraphError(await client.get('/v1.0/users?$top=5&$skiptoken=bm90LWEtdG9rZW4.AAAA'), 400, 'Directory_ExpiredPageToken');
    expect((await client.get(next.href)).status).toBe(200);
  });

  it('counts with ConsistencyLevel: eventual only, on the first page only (as Graph does)', async () => {
    expectGraphError(await client.get('/v1.0/users?$count=true&$top=1'), 400, 'Request_UnsupportedQuery');
    const r = await client.get('/v1.0/users?$count=true&$top=100', { ConsistencyLevel: 'eventual' });
    expect(r.body['@odata.count']).toBe(250);
    const second = await client.get(r.body['@odata.nextLink'], { ConsistencyLevel: 'eventual' });
    expect(second.status).toBe(200);
    expect(second.body.value).toHaveLength(100);
    expect(second.body).not.toHaveProperty('@odata.count');
  });
});

describe('groups', () => {
  const groupId = async (name: string): Promise<string> => {
    const r = await graph.get(`/v1.0/groups?$filter=displayName eq '${name}'&$select=id,displayName`);
    expect(r.body.value).toHaveLength(1);
    return r.body.value[0].id;
  };

  it('resolves a group by displayName and lists direct members', async () => {
    const wave1 = await groupId('MFA Migration Wave 1');
    const members = await graph.get(`/v1.0/groups/${wave1}/members?$select=id,userPrincipalName`);
    expect(members.status).toBe(200);
    expect(members.body.value.every((m: Record<string, string>) => m['@odata.type'] === '#microsoft.graph.user')).toBe(true);
    expect(members.body.value.map((m: { userPrincipalName: string }) => m.userPrincipalName)).toContain(ALICE);
  });

  it('lists transitive members through a nested group, the nested group included', async () => {
    const all = await groupId('MFA Migration All');
    const direct = await graph.get(`/v1.0/groups/${all}/members`);
    expect(direct.body.value.some((m: Record<string, string>) => m['@odata.type'] === '#microsoft.graph.group')).toBe(true);
    expect(direct.body.value.some((m: { userPrincipalName?: string }) => m.userPrincipalName === ALICE)).toBe(false);
    const transitive = await graph.get(`/v1.0/groups/${all}/transitiveMembers`);
    const upns = transitive.body.value.map((m: { userPrincipalName?: string }) => m.userPrincipalName).filter(Boolean);
    expect(upns).toContain(ALICE);
    expect(upns).toContain('quinn@contoso.com');
    expect(new Set(upns).size).toBe(upns.length);
    expect(transitive.body.value.some((m: { displayName: string }) => m.displayName === 'MFA Migration Wave 1')).toBe(true);
  });

  it('adds and removes members by $ref with Graph\'s errors', async () => {
    const wave1 = await groupId('MFA Migration Wave 1');
    const dave = (await graph.get('/v1.0/users/dave@contoso.com')).body.id;
    const add = await graph.post(`/v1.0/groups/${wave1}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${dave}` });
    expect(add.status).toBe(204);
    const again = await graph.post(`/v1.0/groups/${wave1}/members/$ref`, { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${dave}` });
    expectGraphError(again, 400, 'Request_BadRequest');
    expect(again.body.error.message).toContain('already exist');
    const ghost = await graph.post(`/v1.0/groups/${wave1}/members/$ref`, {
      '@odata.id': 'https://graph.microsoft.com/v1.0/directoryObjects/00000000-0000-0000-0000-000000000001',
    });
    expectGraphError(ghost, 404, 'Request_ResourceNotFound');
    expect((await graph.delete(`/v1.0/groups/${wave1}/members/${dave}/$ref`)).status).toBe(204);
    expectGraphError(await graph.delete(`/v1.0/groups/${wave1}/members/${dave}/$ref`), 404, 'Request_ResourceNotFound');
    const members = await graph.get(`/v1.0/groups/${wave1}/members`);
    expect(members.body.value.some((m: { id: string }) => m.id === dave)).toBe(false);
  });

  it('answers 404 for an unknown group', async () => {
    expectGraphError(await graph.get('/v1.0/groups/00000000-0000-0000-0000-000000000009/members'), 404, 'Request_ResourceNotFound');
  });
});

describe('organization', () => {
  it("returns the tenant's id, name and domains", async () => {
    const r = await graph.get('/v1.0/organization');
    expect(r.body.value).toEqual([
      expect.objectContaining({
        id: emu.state.tenant.id,
        displayName: 'Contoso',
        verifiedDomains: [
          expect.objectContaining({ name: 'contoso.onmicrosoft.com', isDefault: false, isInitial: true, type: 'Managed' }),
          expect.objectContaining({ name: 'contoso.com', isDefault: true, type: 'Federated' }),
        ],
      }),
    ]);
  });
});

describe('routing', () => {
  it('answers Graph\'s 400 for an unknown segment and 405 for a method a resource does not have', async () => {
    const unknown = await graph.get('/v1.0/users/alice@contoso.com/authentication/fooMethods');
    expectGraphError(unknown, 400, 'BadRequest');
    expect(unknown.body.error.message).toBe("Resource not found for the segment 'fooMethods'.");
    const top = await graph.get('/v1.0/widgets');
    expect(top.body.error.message).toBe("Resource not found for the segment 'widgets'.");
    const post = await graph.post('/v1.0/users/alice@contoso.com/authentication/softwareOathMethods', { secretKey: 'JBSWY3DPEHPK3PXP' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    expectGraphError(await graph.get('/v2.0/users'), 400, 'BadRequest');
  });

  it('matches path segments case-insensitively and serves beta-only resources only on beta', async () => {
    expect((await graph.get('/v1.0/Users/alice@contoso.com/Authentication/PhoneMethods')).status).toBe(200);
    expectGraphError(await graph.get('/v1.0/users/alice@contoso.com/authentication/signInPreferences'), 400, 'BadRequest');
    expect((await graph.get('/beta/users/alice@contoso.com/authentication/signInPreferences')).status).toBe(200);
  });

  it('refuses a body that is not JSON', async () => {
    expectGraphError(await graph.call('POST', '/v1.0/users/alice@contoso.com/authentication/emailMethods', '{not json'), 400, 'BadRequest');
  });
});
