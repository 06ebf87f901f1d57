import { describe, expect, it } from 'vitest';
import { Emulator } from '../../src/emulator/emulator.js';
import { DEFAULT_APPLICATION_PERMISSIONS, mintToken, type SignInIdentity } from '../../src/emulator/identity.js';
import { resolveOptions } from '../../src/emulator/options.js';
import { ROUTE_PERMISSIONS } from '../../src/emulator/permissions.js';
import { expectGraphError, inProcess, introspect, tenantWithUsers, type GraphClient } from './helpers.js';

const DEVICES = '/beta/directory/authenticationMethodDevices/hardwareOathDevices';
const TENANT = tenantWithUsers(2);
const TENANT_ID = (TENANT['tenant'] as { id: string }).id;

/** A client whose token the emulator minted for an application with `roles`. */
function appWith(roles: string[]): GraphClient {
  const { emu, graph } = inProcess({ tenant: { ...TENANT, identity: { roles } } });
  return graph.as(mintToken(emu.state.tenant.id, emu.state.identity));
}

function token(identity: Partial<SignInIdentity>): string {
  return mintToken(TENANT_ID, { appId: '99999999-9999-9999-9999-999999999999', appDisplayName: 'test', roles: [], ...identity });
}

describe('the permission table', () => {
  it('has an entry for every route and method the emulator serves, each with its Graph docs page', () => {
    const emulator = new Emulator(resolveOptions({ tenant: TENANT }));
    const served = emulator.router.routes().flatMap((route) => Object.keys(route.handlers).map((method) => `${method} ${route.pattern}`));
    expect(served.filter((key) => !ROUTE_PERMISSIONS[key])).toEqual([]);
    expect(Object.keys(ROUTE_PERMISSIONS).filter((key) => !served.includes(key))).toEqual([]);
    for (const [key, entry] of Object.entries(ROUTE_PERMISSIONS)) {
      expect(entry.source, key).toMatch(/^https:\/\/learn\.microsoft\.com\/graph\/api\/[a-z0-9-]+\?view=graph-rest-(1\.0|beta)$/);
      expect(entry.delegated.length, key).toBeGreaterThan(0);
    }
  });

  it("grants this tool's default application permissions every route but staged rollout", () => {
    const rolloutOnly = Object.entries(ROUTE_PERMISSIONS).filter(([, e]) => !e.application.some((p) => DEFAULT_APPLICATION_PERMISSIONS.includes(p)));
    expect(rolloutOnly.map(([key]) => key).every((key) => key.includes('policies/featureRolloutPolicies'))).toBe(true);
  });
});

describe('permissions enforced per route', () => {
  it('refuses the hardware OATH inventory read to Policy.Read.AuthenticationMethod, with Graph\'s 403', async () => {
    const app = appWith(['Policy.Read.AuthenticationMethod', 'User.Read.All']);
    const denied = await app.get(DEVICES);
    expectGraphError(denied, 403, 'Authorization_RequestDenied');
    expect(denied.body.error.message).toBe('Insufficient privileges to complete the operation.');
    // The same permission reads the policy.
    expect((await app.get('/v1.0/policies/authenticationMethodsPolicy')).status).toBe(200);
    for (const enough of [['Policy.Read.All'], ['Policy.ReadWrite.AuthenticationMethod']]) {
      expect((await appWith(enough).get(DEVICES)).status, enough[0]).toBe(200);
    }
  });

  it("asks a create that assigns the token (assignTo) for UserAuthenticationMethod.ReadWrite.All besides the inventory's permission, as the Create hardwareOathDevices pages do", async () => {
    const device = (serialNumber: string, assignTo?: string) => ({ serialNumber, manufacturer: 'M', model: 'T', secretKey: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', timeIntervalInSeconds: 30, hashFunction: 'hmacsha1', ...(assignTo ? { assignTo: { id: assignTo } } : {}) });
    const { emu, graph } = inProcess({ tenant: TENANT });
    const u0 = emu.state.findUser('u0@example.com')!.id;
    const as = (roles: string[]) => graph.as(token({ roles }));
    const inventoryOnly = as(['Policy.ReadWrite.AuthenticationMethod']);
    expect((await inventoryOnly.post(DEVICES, device('S-1'))).status).toBe(201);
    expectGraphError(await inventoryOnly.post(DEVICES, device('S-2', u0)), 403, 'Authorization_RequestDenied');
    // The bulk form too, whichever verb, when any of its devices is assigned: nothing is created.
    const bulk = { '@context': '#$delta', value: [{ '@contentId': '1', ...device('S-3') }, { '@contentId': '2', ...device('S-4', u0) }] };
    expectGraphError(await inventoryOnly.patch(DEVICES, bulk), 403, 'Authorization_RequestDenied');
    expectGraphError(await inventoryOnly.post(DEVICES, bulk), 403, 'Authorization_RequestDenied');
    expect(emu.state.devices.map((d) => d.serialNumber)).toEqual(['S-1']);
    // The user-methods permission alone does not create at all; both together assign.
    expectGraphError(await as(['UserAuthenticationMethod.ReadWrite.All']).post(DEVICES, device('S-5', u0)), 403, 'Authorization_RequestDenied');
    const both = ['Policy.ReadWrite.AuthenticationMethod', 'UserAuthenticationMethod.ReadWrite.All'];
    const made = await as(both).post(DEVICES, device('S-6', u0));
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ status: 'assigned', assignedTo: { id: u0 } });
    expect((await as(both).patch(DEVICES, bulk)).status).toBe(201);
    // Signed in as an admin: the same two scopes.
    const admin = (scopes: string[]) => graph.as(token({ user: { userPrincipalName: 'u0@example.com', objectId: u0, scopes } }));
    expectGraphError(await admin(['Policy.ReadWrite.AuthenticationMethod']).post(DEVICES, device('S-7', u0)), 403, 'Authorization_RequestDenied');
    expect((await admin(both).post(DEVICES, device('S-7', u0))).status).toBe(201);
  });

  it('answers a User.ReadBasic.All caller with the basic profile only: what else it selects is left out, without an error', async () => {
    const path = '/v1.0/users/u0@example.com?$select=id,userPrincipalName,accountEnabled,userType';
    const basic = await appWith(['User.ReadBasic.All']).get(path);
    expect(basic.status).toBe(200);
    expect(Object.keys(basic.body).filter((k) => !k.startsWith('@odata'))).toEqual(['id', 'userPrincipalName']);
    const list = await appWith(['User.ReadBasic.All']).get('/v1.0/users?$select=displayName,accountEnabled');
    expect(list.body.value.map((u: Record<string, unknown>) => Object.keys(u).sort())).toEqual([['displayName', 'id'], ['displayName', 'id']]);
    // Any fuller user permission beside it reads everything asked for.
    const full = await appWith(['User.ReadBasic.All', 'Directory.Read.All']).get(path);
    expect(full.body).toMatchObject({ accountEnabled: true, userType: 'Member' });
  });

  it('refuses writes to a read-only grant and reads to a grant for another resource', async () => {
    const reader = appWith(['UserAuthenticationMethod.Read.All', 'User.Read.All']);
    expect((await reader.get('/v1.0/users/u0@example.com/authentication/phoneMethods')).status).toBe(200);
    expectGraphError(await reader.post('/v1.0/users/u0@example.com/authentication/phoneMethods', { phoneType: 'mobile', phoneNumber: '+1 4255550100' }), 403, 'Authorization_RequestDenied');
    expectGraphError(await reader.patch('/v1.0/policies/authenticationMethodsPolicy', { reconfirmationInDays: 30 }), 403, 'Authorization_RequestDenied');
    expectGraphError(await appWith(['User.Read.All']).get('/v1.0/users/u0@example.com/authentication/methods'), 403, 'Authorization_RequestDenied');
    // A granular permission is enough for its own method type and no other.
    const phones = appWith(['UserAuthMethod-Phone.ReadWrite.All']);
    expect((await phones.post('/v1.0/users/u0@example.com/authentication/phoneMethods', { phoneType: 'mobile', phoneNumber: '+1 4255550100' })).status).toBe(201);
    expectGraphError(await phones.post('/v1.0/users/u0@example.com/authentication/emailMethods', { emailAddress: 'a@example.org' }), 403, 'Authorization_RequestDenied');
  });

  it("takes the federation configuration's own permissions, the least privileged in Graph's tables, for its read and PATCH", async () => {
    const federated = {
      tenant: { id: TENANT_ID },
      domains: [{ id: 'example.com', isDefault: true, federation: { id: 'f0000000-0000-4000-8000-000000000001', displayName: 'ADFS', issuerUri: 'http://sts.example.com/adfs/services/trust', passiveSignInUri: 'https://sts.example.com/adfs/ls/' } }],
      users: [{ userPrincipalName: 'u0@example.com', displayName: 'U0' }],
    };
    const as = (roles: string[]) => {
      const { emu, graph } = inProcess({ tenant: { ...federated, identity: { roles } } });
      return graph.as(mintToken(emu.state.tenant.id, emu.state.identity));
    };
    const path = '/v1.0/domains/example.com/federationConfiguration/f0000000-0000-4000-8000-000000000001';
    const body = { '@odata.type': '#microsoft.graph.internalDomainFederation', federatedIdpMfaBehavior: 'rejectMfaByFederatedIdp' };
    const own = as(['Domain-InternalFederation.ReadWrite.All']);
    expect((await own.get('/v1.0/domains/example.com/federationConfiguration')).status).toBe(200);
    expect((await own.patch(path, body)).status).toBe(204);
    expect((await as(['Domain-InternalFederation.Read.All']).get(path)).status).toBe(200);
    expectGraphError(await as(['Domain-InternalFederation.Read.All']).patch(path, body), 403, 'Authorization_RequestDenied');
    expectGraphError(await as(['Domain.Read.All']).patch(path, body), 403, 'Authorization_RequestDenied');
  });

  it('lets the default minted token read and write everything this tool touches', async () => {
    const { emu, graph } = inProcess();
    const app = graph.as((await introspect(emu, 'token', { method: 'POST' })).body.access_token);
    const hana = 'hana@contoso.com';
    for (const path of ['/v1.0/users?$top=2', `/v1.0/users/${hana}`, '/v1.0/groups', '/v1.0/organization', '/v1.0/policies/authenticationMethodsPolicy', `/v1.0/users/${hana}/authentication/methods`, `/beta/users/${hana}/authentication/signInPreferences`, `/beta/users/${hana}/authentication/hardwareOathMethods`, DEVICES]) {
      expect((await app.get(path)).status, path).toBe(200);
    }
    expect((await app.post(`/v1.0/users/${hana}/authentication/phoneMethods`, { phoneType: 'mobile', phoneNumber: '+1 4255550100' })).status).toBe(201);
    expect((await app.patch('/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Sms', { '@odata.type': '#microsoft.graph.smsAuthenticationMethodConfiguration', state: 'enabled' })).status).toBe(204);
  });

  it('keeps a placeholder token (not a JWT) and a JWT without permission claims unscoped: everything allowed', async () => {
    const { graph } = inProcess({ tenant: TENANT });
    expect((await graph.as('mfa-migrate-emulator').get(DEVICES)).status).toBe(200);
    const bare = `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify({ appid: 'x' })).toString('base64url')}.`;
    expect((await graph.as(bare).get(DEVICES)).status).toBe(200);
    // An empty roles claim is a grant of nothing.
    expectGraphError(await graph.as(token({ roles: [] })).get('/v1.0/users'), 403, 'Authorization_RequestDenied');
  });

  it('checks a delegated token against the delegated column, by its scp claim', async () => {
    const { graph } = inProcess({ tenant: TENANT });
    const admin = (scopes: string[]) => graph.as(token({ user: { userPrincipalName: 'u0@example.com', objectId: 'x', scopes } }));
    expect((await admin(['User.Read.All']).get('/v1.0/users')).status).toBe(200);
    expectGraphError(await admin(['User.Read.All']).get(DEVICES), 403, 'Authorization_RequestDenied');
    // Roles in a delegated token grant nothing: scp decides.
    const mixed = mintToken(TENANT_ID, { appId: 'a', appDisplayName: 'a', roles: ['Policy.Read.All'], user: { userPrincipalName: 'u0@example.com', objectId: 'x', scopes: ['User.Read.All'] } });
    expectGraphError(await graph.as(mixed).get(DEVICES), 403, 'Authorization_RequestDenied');
  });

  it('checks each $batch item on its own', async () => {
    const app = appWith(['User.Read.All']);
    const r = await app.post('/beta/$batch', { requests: [{ id: '1', method: 'GET', url: '/users?$top=1' }, { id: '2', method: 'GET', url: '/directory/authenticationMethodDevices/hardwareOathDevices' }] });
    expect(r.status).toBe(200);
    const byId = Object.fromEntries(r.body.responses.map((x: { id: string; status: number }) => [x.id, x]));
    expect(byId['1'].status).toBe(200);
    expect(byId['2'].status).toBe(403);
    expect(byId['2'].body.error.code).toBe('Authorization_RequestDenied');
  });

  it('answers an unknown path 400 before it looks at permissions', async () => {
    expectGraphError(await appWith([]).get('/v1.0/nothing'), 400, 'BadRequest');
  });
});
