import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { encodeBase32 } from '../../src/emulator/oath-secret.js';
import { secretFingerprint } from '../../src/model/secret.js';
import { expectGraphError, GraphClient, introspect, start, tenantWithUsers } from './helpers.js';

describe('authentication', () => {
  let emu: RunningEmulator;
  afterEach(() => emu.stop());

  it('answers 401 InvalidAuthenticationToken without a bearer token, and accepts any token by default', async () => {
    ({ emu } = await start());
    const anonymous = new GraphClient(emu.url, null);
    const r = await anonymous.get('/v1.0/users');
    expectGraphError(r, 401, 'InvalidAuthenticationToken');
    expect(r.body.error.message).toBe('Access token is empty.');
    expectGraphError(await anonymous.get('/v1.0/users', { Authorization: 'Basic dXNlcjpwYXNz' }), 401, 'InvalidAuthenticationToken');
    expectGraphError(await anonymous.post('/v1.0/$batch', { requests: [{ id: '1', method: 'GET', url: '/users' }] }), 401, 'InvalidAuthenticationToken');
    expect((await new GraphClient(emu.url, 'anything').get('/v1.0/users')).status).toBe(200);
  });

  it('accepts only the configured token when one is set', async () => {
    ({ emu } = await start({ token: 's3cret-token' }));
    expectGraphError(await new GraphClient(emu.url, 'wrong').get('/v1.0/users'), 401, 'InvalidAuthenticationToken');
    expect((await new GraphClient(emu.url, 's3cret-token').get('/v1.0/users')).status).toBe(200);
    // Introspection needs the token too (identity-token.test.ts has the details).
    expect((await fetch(`${emu.url}/_emulator/state`)).status).toBe(401);
    expect((await fetch(`${emu.url}/_emulator/state`, { headers: { Authorization: 'Bearer s3cret-token' } })).status).toBe(200);
  });

  it('echoes client-request-id and sends a request-id', async () => {
    ({ emu } = await start());
    const r = await new GraphClient(emu.url).get('/v1.0/users/nobody@contoso.com', { 'client-request-id': 'abc-123' });
    expect(r.headers.get('client-request-id')).toBe('abc-123');
    expect(r.body.error.innerError['client-request-id']).toBe('abc-123');
    expect(r.headers.get('request-id')).toBe(r.body.error.innerError['request-id']);
  });
});

describe('introspection', () => {
  let emu: RunningEmulator;
  let graph: GraphClient;
  beforeAll(async () => ({ emu, graph } = await start({ requestLogLimit: 5 })));
  afterAll(() => emu.stop());

  it('returns the state in the tenant file shape, secrets as fingerprints', async () => {
    const state = (await introspect(emu, 'state')).body;
    expect(Object.keys(state).sort()).toEqual(['authenticationMethodsPolicy', 'contacts', 'domains', 'featureRolloutPolicies', 'groups', 'hardwareOathDevices', 'identity', 'tenant', 'users']);
    const quinn = state.users.find((u: { userPrincipalName: string }) => u.userPrincipalName === 'quinn@contoso.com');
    expect(quinn.methods.phone.map((p: { phoneType: string }) => p.phoneType)).toEqual(['mobile', 'alternateMobile']);
    expect(quinn.signInPreferences.userPreferredMethodForSecondaryAuthentication).toBe('sms');
    const token = state.hardwareOathDevices.find((d: { serialNumber: string }) => d.serialNumber === '20010011');
    expect(token).toMatchObject({ status: 'activated', assignedTo: { displayName: 'Hana Hayashi' } });
    expect(token.secretFingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(token).not.toHaveProperty('secretKey');
  });

  it('logs requests with secrets redacted and phone numbers masked, bounded and clearable', async () => {
    await introspect(emu, 'requests', { method: 'DELETE' });
    const secret = Buffer.from('0123456789abcdefghij');
    await graph.post('/beta/directory/authenticationMethodDevices/hardwareOathDevices', {
      serialNumber: 'LOG-1',
      manufacturer: 'Contoso',
      model: 'T',
      secretKey: encodeBase32(secret),
      timeIntervalInSeconds: 30,
    });
    await graph.post('/v1.0/$batch', {
      requests: [
        { id: '1', method: 'POST', url: '/users/bob@contoso.com/authentication/phoneMethods', headers: { 'content-type': 'application/json' }, body: { phoneNumber: '+1 4255550102', phoneType: 'mobile' } },
        { id: '2', method: 'GET', url: '/users/bob@contoso.com' },
      ],
    });
    const log = (await introspect(emu, 'requests')).body;
    expect(log).toHaveLength(2);
    expect(log[0]).toMatchObject({ method: 'POST', path: '/beta/directory/authenticationMethodDevices/hardwareOathDevices', status: 201 });
    expect(log[0].time).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(log[0].body.secretKey).toBe(`[redacted fingerprint=${secretFingerprint(secret)}]`);
    expect(JSON.stringify(log)).not.toContain(encodeBase32(secret));
    expect(log[1]).toMatchObject({ method: 'POST', path: '/v1.0/$batch', status: 200, body: null });
    expect(log[1].items).toEqual([
      { time: expect.any(String), method: 'POST', path: '/v1.0/users/bob@contoso.com/authentication/phoneMethods', status: 201, body: { phoneNumber: '+1 ********02', phoneType: 'mobile' } },
      { time: expect.any(String), method: 'GET', path: '/v1.0/users/bob@contoso.com', status: 200, body: null },
    ]);
    // Bounded: only the last 5 are kept.
    for (let i = 0; i < 7; i++) await graph.get(`/v1.0/users?$top=${i + 1}`);
    const bounded = await introspect(emu, 'requests');
    const entries = bounded.body;
    expect(entries.map((e: { path: string }) => e.path)).toEqual([3, 4, 5, 6, 7].map((n) => `/v1.0/users?$top=${n}`));
    expect(bounded.headers.get('x-emulator-dropped')).toBe('4');
    expect((await introspect(emu, 'requests', { method: 'DELETE' })).status).toBe(204);
    expect((await introspect(emu, 'requests')).body).toEqual([]);
  });

  it('resets to the tenant file, or to a tenant document posted to it', async () => {
    await graph.post('/v1.0/users/bob@contoso.com/authentication/emailMethods', { emailAddress: 'bob@example.com' });
    expect((await fetch(`${emu.url}/_emulator/reset`, { method: 'POST' })).status).toBe(204);
    expect((await graph.get('/v1.0/users/bob@contoso.com/authentication/emailMethods')).body.value).toEqual([]);
    const inline = await fetch(`${emu.url}/_emulator/reset`, { method: 'POST', body: JSON.stringify(tenantWithUsers(3)) });
    expect(inline.status).toBe(204);
    expect((await graph.get('/v1.0/users')).body.value).toHaveLength(3);
    const bad = await introspect(emu, 'reset', { method: 'POST', body: JSON.stringify({ tenant: { id: 'x' } }) });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('$.tenant.id');
    // The previous state is kept when a reset is refused.
    expect((await graph.get('/v1.0/users')).body.value).toHaveLength(3);
    await fetch(`${emu.url}/_emulator/reset`, { method: 'POST' });
    expect((await fetch(`${emu.url}/_emulator/nothing`)).status).toBe(404);
  });

  it('generates the same ids for the same seed', async () => {
    const create = async (e: RunningEmulator) =>
      (
        await new GraphClient(e.url).post('/beta/directory/authenticationMethodDevices/hardwareOathDevices', {
          serialNumber: 'S1',
          manufacturer: 'M',
          model: 'X',
          secretKey: 'JBSWY3DPEHPK3PXP',
          timeIntervalInSeconds: 30,
        })
      ).body.id;
    const a = await start({ seed: 99 });
    const b = await start({ seed: 99 });
    const c = await start({ seed: 100 });
    try {
      const [ida, idb, idc] = [await create(a.emu), await create(b.emu), await create(c.emu)];
      expect(ida).toBe(idb);
      expect(ida).not.toBe(idc);
    } finally {
      await Promise.all([a.emu.stop(), b.emu.stop(), c.emu.stop()]);
    }
  });
});
