import { describe, expect, it } from 'vitest';
import { EmulatorOptionError, startEmulator } from '../../src/emulator/index.js';
import { DEFAULT_APPLICATION_PERMISSIONS, DEFAULT_DELEGATED_PERMISSIONS, decodeToken } from '../../src/emulator/identity.js';
import { TenantFileError } from '../../src/emulator/tenant-file.js';
import { expectGraphError, GraphClient, inProcess, introspect, tenantWithUsers, type Reply } from './helpers.js';

const TENANT_ID = '11111111-2222-3333-4444-555555555555';

async function mint(emu: { url: string; fetch: typeof fetch }, secret?: string): Promise<Reply> {
  return introspect(emu, 'token', { method: 'POST', ...(secret ? { headers: { Authorization: `Bearer ${secret}` } } : {}) });
}

describe('GET /organization', () => {
  it("answers on v1.0 and beta with the tenant file's id and display name", async () => {
    const { graph } = inProcess({ tenant: { ...tenantWithUsers(1), tenant: { id: TENANT_ID, displayName: 'Fabrikam Ltd' } } });
    for (const version of ['v1.0', 'beta']) {
      const r = await graph.get(`/${version}/organization`);
      expect(r.status).toBe(200);
      expect(r.body.value).toHaveLength(1);
      expect(r.body.value[0]).toMatchObject({ id: TENANT_ID, displayName: 'Fabrikam Ltd' });
    }
    expect((await graph.get('/v1.0/organization?$select=id')).body.value[0].id).toBe(TENANT_ID);
  });

  it('names a tenant without a display name after its first domain', async () => {
    const { graph, emu } = inProcess({ tenant: tenantWithUsers(2) });
    expect((await graph.get('/v1.0/organization')).body.value[0].displayName).toBe('Example');
    expect((emu.snapshot() as { tenant: { displayName: string } }).tenant.displayName).toBe('Example');
    const bundled = inProcess();
    expect((await bundled.graph.get('/v1.0/organization')).body.value[0].displayName).toBe('Contoso');
  });
});

describe('POST /_emulator/token', () => {
  it("mints an unsigned JWT for the tenant's application with every permission this tool needs by default", async () => {
    const { emu, graph } = inProcess({ tenant: tenantWithUsers(1) });
    const r = await mint(emu);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    const token: string = r.body.access_token;
    const [header, , signature] = token.split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ typ: 'JWT', alg: 'none' });
    expect(signature).toBe('');
    const claims = decodeToken(token)!;
    expect(claims).toMatchObject({ tid: TENANT_ID, app_displayname: 'mfa-migrate', idtyp: 'app', aud: 'https://graph.microsoft.com' });
    expect(claims.appid).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims.roles).toEqual([...DEFAULT_APPLICATION_PERMISSIONS]);
    expect(claims.roles).toContain('Policy.ReadWrite.AuthenticationMethod');
    expect(claims.scp).toBeUndefined();
    expect(claims.upn).toBeUndefined();
    expect((claims['exp'] as number) - (claims['iat'] as number)).toBe(3600);
    // The token is accepted, and the app it names is the one the throttling budget is kept for.
    expect((await graph.as(token).get('/v1.0/users')).status).toBe(200);
  });

  it("carries the tenant file's application and roles", async () => {
    const appId = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
    const { emu } = inProcess({ tenant: { ...tenantWithUsers(1), identity: { appId, appDisplayName: 'Migration app', roles: ['User.Read.All'] } } });
    const claims = decodeToken((await mint(emu)).body.access_token)!;
    expect(claims).toMatchObject({ appid: appId, app_displayname: 'Migration app', roles: ['User.Read.All'] });
    expect((emu.snapshot() as { identity: unknown }).identity).toEqual({ appId, appDisplayName: 'Migration app', roles: ['User.Read.All'] });
  });

  it('mints a delegated token (upn, scp, no roles) when the tenant file names a signed-in user', async () => {
    const { emu } = inProcess({ tenant: { ...tenantWithUsers(2), identity: { userPrincipalName: 'U1@example.com' } } });
    const claims = decodeToken((await mint(emu)).body.access_token)!;
    expect(claims).toMatchObject({ upn: 'u1@example.com', idtyp: 'user', scp: DEFAULT_DELEGATED_PERMISSIONS.join(' ') });
    expect(claims.roles).toBeUndefined();
    expect(claims['oid']).toBe((emu.state.findUser('u1@example.com')!).id);
    const scoped = inProcess({ tenant: { ...tenantWithUsers(2), identity: { userPrincipalName: 'u0@example.com', scopes: ['User.Read.All'] } } });
    expect(decodeToken((await mint(scoped.emu)).body.access_token)!.scp).toBe('User.Read.All');
  });

  it('refuses an identity the tenant file gets wrong, naming the JSON path', () => {
    const load = (identity: Record<string, unknown>) => () => inProcess({ tenant: { ...tenantWithUsers(1), identity } });
    expect(load({ userPrincipalName: 'nobody@example.com' })).toThrow(/\$\.identity\.userPrincipalName: no user 'nobody@example.com'/);
    expect(load({ userPrincipalName: 'u0@example.com', roles: ['User.Read.All'] })).toThrow(/\$\.identity\.roles/);
    expect(load({ scopes: ['User.Read.All'] })).toThrow(/\$\.identity\.scopes/);
    expect(load({ appId: 'not-a-guid' })).toThrow(TenantFileError);
    expect(load({ role: [] })).toThrow(/unknown property 'role'/);
  });
});

describe('--token: a shared secret', () => {
  const SECRET = 's3cret-token';

  it('is needed to mint tokens, and minted tokens are accepted besides it; other tokens are not', async () => {
    const { emu, graph } = inProcess({ token: SECRET });
    expectGraphError(await mint(emu), 401, 'InvalidAuthenticationToken');
    expectGraphError(await mint(emu, 'wrong'), 401, 'InvalidAuthenticationToken');
    const minted: string = (await mint(emu, SECRET)).body.access_token;
    expect((await graph.as(minted).get('/v1.0/users?$top=1')).status).toBe(200);
    expect((await graph.as(SECRET).get('/v1.0/users?$top=1')).status).toBe(200);
    // A JWT with the same shape that this emulator did not mint is refused.
    const forged = minted.replace(/\.([^.]+)\./, (_, p: string) => `.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), roles: ['Directory.ReadWrite.All'] })).toString('base64url')}.`);
    expectGraphError(await graph.as(forged).get('/v1.0/users'), 401, 'InvalidAuthenticationToken');
    expectGraphError(await graph.as('test-token').get('/v1.0/users'), 401, 'InvalidAuthenticationToken');
  });

  it('is needed by every /_emulator endpoint (state, requests, reset)', async () => {
    const { emu } = inProcess({ token: SECRET });
    for (const [path, method] of [['state', 'GET'], ['requests', 'GET'], ['requests', 'DELETE'], ['reset', 'POST']] as const) {
      expectGraphError(await introspect(emu, path, { method }), 401, 'InvalidAuthenticationToken');
      const ok = await introspect(emu, path, { method, headers: { Authorization: `Bearer ${SECRET}` } });
      expect(ok.status, `${method} ${path}`).toBeLessThan(300);
    }
    // A minted token is a Graph credential, not the key to the emulator itself.
    const minted: string = (await mint(emu, SECRET)).body.access_token;
    expectGraphError(await introspect(emu, 'reset', { method: 'POST', headers: { Authorization: `Bearer ${minted}` } }), 401, 'InvalidAuthenticationToken');
  });

  it('without --token, any bearer token and the /_emulator endpoints stay open (loopback only)', async () => {
    const { emu, graph } = inProcess();
    expect((await graph.as('anything').get('/v1.0/users?$top=1')).status).toBe(200);
    expect((await introspect(emu, 'state')).status).toBe(200);
    expect((await mint(emu)).status).toBe(200);
  });
});

describe('emulator --host (issue 17 item 18)', () => {
  it('refuses a non-loopback address without --token', async () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com']) {
      await expect(startEmulator({ host, port: 0 })).rejects.toThrow(EmulatorOptionError);
      await expect(startEmulator({ host, port: 0 })).rejects.toThrow(/not a loopback address: give --token/);
    }
  });

  it('serves a non-loopback address with --token, and loopback addresses without one', async () => {
    const open = await startEmulator({ host: '0.0.0.0', port: 0, token: 'x', throttle: 'off' });
    try {
      const graph = new GraphClient(`http://127.0.0.1:${open.port}`, 'x');
      expect((await graph.get('/v1.0/organization')).status).toBe(200);
      expectGraphError(await graph.as('y').get('/v1.0/organization'), 401, 'InvalidAuthenticationToken');
    } finally {
      await open.stop();
    }
    for (const host of ['127.0.0.1', 'localhost', '127.0.0.2']) {
      const emu = await startEmulator({ host, port: 0 });
      await emu.stop();
    }
  });
});
