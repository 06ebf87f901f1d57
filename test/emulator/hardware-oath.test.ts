import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { encodeBase32 } from '../../src/emulator/oath-secret.js';
import { secretFingerprint } from '../../src/model/secret.js';
import { contosoSeed } from './contoso-tenant.js';
import { expectGraphError, start, type GraphClient } from './helpers.js';
import { awayFromStepBoundary, DEVICES, enableHardwareOath, methods, newToken, totp } from './oath-helpers.js';

let emu: RunningEmulator;
let graph: GraphClient;
beforeAll(async () => ({ emu, graph } = await start()));
afterAll(() => emu.stop());
beforeEach(() => emu.reset());

describe('hardware OATH inventory', () => {
  it('creates a token, returns it without its secret, and finds it by serial number', async () => {
    const r = await graph.post(DEVICES, newToken('20010001'));
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      '@odata.type': '#microsoft.graph.hardwareOathTokenAuthenticationMethodDevice',
      serialNumber: '20010001',
      secretKey: null,
      status: 'available',
      assignedTo: null,
      hashFunction: 'hmacsha1',
      timeIntervalInSeconds: 30,
    });
    const found = await graph.get(`${DEVICES}?$filter=serialNumber eq '20010001'`);
    expect(found.body.value.map((d: { id: string }) => d.id)).toEqual([r.body.id]);
    expect((await graph.get(`${DEVICES}/${r.body.id}`)).body.secretKey).toBeNull();
  });

  it('lets the same serial be created twice (avoiding duplicates is the client\'s job)', async () => {
    await graph.post(DEVICES, newToken('20010002'));
    await graph.post(DEVICES, newToken('20010002'));
    expect((await graph.get(`${DEVICES}?$filter=serialNumber eq '20010002'`)).body.value).toHaveLength(2);
  });

  it('checks required fields, the secret, the interval and the hash function', async () => {
    for (const field of ['serialNumber', 'manufacturer', 'model', 'secretKey', 'timeIntervalInSeconds']) {
      const body: Record<string, unknown> = newToken('20010003');
      delete body[field];
      const r = await graph.post(DEVICES, body);
      expectGraphError(r, 400, 'BadRequest');
      expect(r.body.error.message).toContain(field);
    }
    expectGraphError(await graph.post(DEVICES, newToken('20010003', { secretKey: 'not base32!' })), 400, 'BadRequest');
    expectGraphError(await graph.post(DEVICES, newToken('20010003', { secretKey: 'A'.repeat(129) })), 400, 'BadRequest');
    expect((await graph.post(DEVICES, newToken('20010003', { secretKey: 'A'.repeat(128) }))).status).toBe(201);
    expectGraphError(await graph.post(DEVICES, newToken('20010003', { timeIntervalInSeconds: 45 })), 400, 'BadRequest');
    expectGraphError(await graph.post(DEVICES, newToken('20010003', { hashFunction: 'hmacsha512' })), 400, 'BadRequest');
    expectGraphError(await graph.post(DEVICES, newToken('20010003', { colour: 'black' })), 400, 'BadRequest');
    // Graph's own sample sends the interval as a string.
    expect((await graph.post(DEVICES, newToken('20010004', { timeIntervalInSeconds: '60', hashFunction: 'hmacsha256' }))).body).toMatchObject({
      timeIntervalInSeconds: 60,
      hashFunction: 'hmacsha256',
    });
  });

  it('creates in bulk with a #$delta body by PATCH or POST, all or nothing', async () => {
    const bob = (await graph.get('/v1.0/users/bob@contoso.com')).body.id;
    const body = {
      '@context': '#$delta',
      value: [{ '@contentId': '1', ...newToken('20010005') }, { '@contentId': '2', ...newToken('20010006'), assignTo: { id: bob } }],
    };
    const r = await graph.patch(DEVICES, body);
    expect(r.status).toBe(201);
    expect(r.body.value.map((m: { device: { serialNumber: string; status: string } }) => [m.device.serialNumber, m.device.status])).toEqual([
      ['20010005', 'available'],
      ['20010006', 'assigned'],
    ]);
    expect(r.body.value[1].device.assignedTo).toMatchObject({ id: bob, displayName: 'Bob Brown' });
    const viaPost = await graph.post(DEVICES, { '@context': '#$delta', value: [newToken('20010007')] });
    expect(viaPost.status).toBe(201);
    const bad = await graph.patch(DEVICES, { '@context': '#$delta', value: [newToken('20010008'), newToken('20010009', { timeIntervalInSeconds: 90 })] });
    expectGraphError(bad, 400, 'BadRequest');
    expect(bad.body.error.message).toContain('value[1]');
    expect((await graph.get(`${DEVICES}?$filter=serialNumber eq '20010008'`)).body.value).toEqual([]);
  });

  it('pages the inventory and refuses to delete an assigned token', async () => {
    await graph.patch(DEVICES, { '@context': '#$delta', value: Array.from({ length: 12 }, (_, i) => newToken(`3000${i}`)) });
    const seen: string[] = [];
    let url: string | undefined = `${DEVICES}?$top=5`;
    while (url) {
      const page = await graph.get(url);
      seen.push(...page.body.value.map((d: { serialNumber: string }) => d.serialNumber));
      url = page.body['@odata.nextLink'];
    }
    expect(seen).toHaveLength(14); // 12 new + 2 in the Contoso inventory
    const hanaToken = (await graph.get(`${DEVICES}?$filter=serialNumber eq '20010011'`)).body.value[0];
    expectGraphError(await graph.delete(`${DEVICES}/${hanaToken.id}`), 400, 'badRequest');
    const spare = (await graph.get(`${DEVICES}?$filter=status eq 'available' and serialNumber eq '20019998'`)).body.value[0];
    expect((await graph.delete(`${DEVICES}/${spare.id}`)).status).toBe(204);
    expectGraphError(await graph.get(`${DEVICES}/${spare.id}`), 404, 'Request_ResourceNotFound');
  });

  it('exists only in beta', async () => {
    expectGraphError(await graph.get('/v1.0/directory/authenticationMethodDevices/hardwareOathDevices'), 400, 'BadRequest');
  });
});

describe("a user's hardware OATH tokens", () => {
  // Contoso's policy has the method disabled, which refuses every activation.
  beforeEach(() => enableHardwareOath(graph));
  async function createToken(serial: string, extra: Record<string, unknown> = {}): Promise<string> {
    const r = await graph.post(DEVICES, newToken(serial, extra));
    expect(r.status).toBe(201);
    return r.body.id;
  }

  it('assigns, activates with a valid code, and moves available -> assigned -> activated', async () => {
    const id = await createToken('20010001');
    const assigned = await graph.post(methods('grace@contoso.com'), { device: { id } });
    expect(assigned.status).toBe(201);
    expect(assigned.body).toMatchObject({ '@odata.type': '#microsoft.graph.hardwareOathAuthenticationMethod', id, device: { status: 'assigned' } });
    const code = totp(contosoSeed('20010001'));
    expect((await graph.post(`${methods('grace@contoso.com')}/${id}/activate`, { verificationCode: code, displayName: "Grace's token" })).status).toBe(204);
    const device = (await graph.get(`${DEVICES}/${id}`)).body;
    expect(device).toMatchObject({ status: 'activated', displayName: "Grace's token", assignedTo: { displayName: 'Grace Green' } });
    const list = await graph.get(methods('grace@contoso.com'));
    expect(list.body.value.map((m: { id: string }) => m.id)).toEqual([id]);
  });

  it('accepts a code one step early or late, but not two', async () => {
    const seed = contosoSeed('20010002', 32);
    const id = await createToken('20010002', { secretKey: encodeBase32(seed), hashFunction: 'hmacsha256', timeIntervalInSeconds: 60 });
    await graph.post(methods('heidi@contoso.com'), { device: { id } });
    const activate = (code: string) => graph.post(`${methods('heidi@contoso.com')}/${id}/activate`, { verificationCode: code });
    await awayFromStepBoundary(60);
    // Codes computed with SHA-1 or for the wrong period do not match a SHA-256/60 s token.
    expectGraphError(await activate(totp(seed, 5, 60, 'sha1')), 400, 'badRequest');
    expect((await graph.get(`${DEVICES}/${id}`)).body.status).toBe('failedActivation');
    expectGraphError(await activate(totp(seed, -2, 60, 'sha256')), 400, 'badRequest');
    expect((await activate(totp(seed, 1, 60, 'sha256'))).status).toBe(204);
    expect((await graph.get(`${DEVICES}/${id}`)).body.status).toBe('activated');
    expect((await activate(totp(seed, -1, 60, 'sha256'))).status).toBe(204);
  });

  it('activates tokens with 10-byte seeds (below otplib\'s default minimum)', async () => {
    const seed = contosoSeed('20010006', 10);
    const id = await createToken('20010006', { secretKey: encodeBase32(seed) });
    await graph.post(methods('chen@contoso.com'), { device: { id } });
    expect((await graph.post(`${methods('chen@contoso.com')}/${id}/activate`, { verificationCode: totp(seed) })).status).toBe(204);
  });

  it('assigns a token to one user only', async () => {
    const id = await createToken('20010003');
    await graph.post(methods('ivan@contoso.com'), { device: { id } });
    expectGraphError(await graph.post(methods('judy@contoso.com'), { device: { id } }), 400, 'badRequest');
    expectGraphError(await graph.post(methods('ivan@contoso.com'), { device: { id } }), 409, 'conflict');
    expectGraphError(await graph.post(methods('judy@contoso.com'), { device: { id: '00000000-0000-0000-0000-000000000042' } }), 404, 'Request_ResourceNotFound');
    expectGraphError(await graph.post(methods('judy@contoso.com'), { deviceId: id }), 400, 'BadRequest');
    // Activating through another user's path does not find it.
    expectGraphError(await graph.post(`${methods('judy@contoso.com')}/${id}/activate`, { verificationCode: '123456' }), 404, 'itemNotFound');
  });

  it('caps OATH tokens plus Authenticator registrations at five', async () => {
    // julia already has five Authenticator registrations.
    const id = await createToken('20010012');
    const r = await graph.post(methods('julia@contoso.com'), { device: { id } });
    expectGraphError(r, 400, 'badRequest');
    expect(r.body.error.message).toContain('5');
    const julia = (await graph.get('/v1.0/users/julia@contoso.com')).body.id;
    expectGraphError(await graph.post(DEVICES, newToken('20010013', { assignTo: { id: julia } })), 400, 'badRequest');
    expect((await graph.get(`${DEVICES}?$filter=serialNumber eq '20010013'`)).body.value).toEqual([]);
    // After removing one registration there is room.
    const auths = (await graph.get('/v1.0/users/julia@contoso.com/authentication/microsoftAuthenticatorMethods')).body.value;
    await graph.delete(`/v1.0/users/julia@contoso.com/authentication/microsoftAuthenticatorMethods/${auths[0].id}`);
    expect((await graph.post(methods('julia@contoso.com'), { device: { id } })).status).toBe(201);
  });

  it('does not assign tokens to guests', async () => {
    emu.reset({
      tenant: { id: '11111111-2222-3333-4444-555555555555' },
      users: [{ userPrincipalName: 'visitor@example.com', displayName: 'Visitor', userType: 'Guest' }],
      hardwareOathDevices: [{ id: '0b8a3a1e-0000-4000-8000-000000000001', serialNumber: 'G1', manufacturer: 'M', model: 'X', secretKey: 'JBSWY3DPEHPK3PXP', timeIntervalInSeconds: 30 }],
    });
    const r = await graph.post(methods('visitor@example.com'), { device: { id: '0b8a3a1e-0000-4000-8000-000000000001' } });
    expectGraphError(r, 400, 'badRequest');
    expect(r.body.error.message).toContain('guest');
  });

  it('unassigns back to the inventory on DELETE', async () => {
    const hana = (await graph.get(methods('hana@contoso.com'))).body.value[0];
    expect(hana.device).toMatchObject({ serialNumber: '20010011', status: 'activated', secretKey: null });
    expect((await graph.delete(`${methods('hana@contoso.com')}/${hana.id}`)).status).toBe(204);
    expect((await graph.get(methods('hana@contoso.com'))).body.value).toEqual([]);
    expect((await graph.get(`${DEVICES}/${hana.id}`)).body).toMatchObject({ status: 'available', assignedTo: null });
  });

  it('keeps secrets write-only everywhere, the introspection state showing only a fingerprint', async () => {
    const id = await createToken('20010001');
    const state = (await graph.get(`${emu.url.replace(/\/$/, '')}/_emulator/state`)).body;
    const device = state.hardwareOathDevices.find((d: { id: string }) => d.id === id);
    expect(device).not.toHaveProperty('secretKey');
    expect(device.secretFingerprint).toBe(secretFingerprint(contosoSeed('20010001')));
    expect(JSON.stringify(state)).not.toContain(encodeBase32(contosoSeed('20010001')));
  });
});
