import { beforeEach, describe, expect, it } from 'vitest';
import { POLICY_NOT_EFFECTIVE_MESSAGE } from '../../src/emulator/activation-gate.js';
import { encodeBase32 } from '../../src/emulator/oath-secret.js';
import { contosoSeed } from './contoso-tenant.js';
import { expectGraphError, inProcess, type GraphClient } from './helpers.js';
import { awayFromStepBoundary, DEVICES, enableHardwareOath, methods, newToken, totp } from './oath-helpers.js';
import type { InProcessEmulator } from '../../src/emulator/index.js';

let emu: InProcessEmulator;
let graph: GraphClient;
beforeEach(async () => {
  ({ emu, graph } = inProcess());
  // Contoso's policy has the method disabled, which refuses every activation.
  await enableHardwareOath(graph);
});

const BOB = 'bob@contoso.com';
const CAROL = 'carol@contoso.com';

async function createToken(serial: string, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await graph.post(DEVICES, newToken(serial, extra));
  expect(r.status).toBe(201);
  return r.body.id as string;
}

const device = async (id: string) => (await graph.get(`${DEVICES}/${id}`)).body;

describe('hardwareOathMethods/{id}/deactivate', () => {
  it('answers 204 and leaves the token assigned to the user, no longer activated', async () => {
    await awayFromStepBoundary(30);
    const id = await createToken('30010001');
    expect((await graph.post(methods(BOB), { device: { id } })).status).toBe(201);
    expect((await graph.post(`${methods(BOB)}/${id}/activate`, { verificationCode: totp(contosoSeed('30010001')) })).status).toBe(204);
    expect((await device(id)).status).toBe('activated');
    const r = await graph.post(`${methods(BOB)}/${id}/deactivate`);
    expect(r.status).toBe(204);
    expect(r.body).toBeUndefined();
    expect(await device(id)).toMatchObject({ status: 'assigned', assignedTo: { id: emu.state.findUser(BOB)!.id } });
    expect((await graph.get(methods(BOB))).body.value.map((m: { id: string }) => m.id)).toEqual([id]);
    // It can be activated again.
    expect((await graph.post(`${methods(BOB)}/${id}/activate`, { verificationCode: totp(contosoSeed('30010001')) })).status).toBe(204);
  });

  it("is beta only, takes no body properties and 404s a token that is not the user's", async () => {
    const id = await createToken('30010002');
    await graph.post(methods(BOB), { device: { id } });
    expectGraphError(await graph.post(`/v1.0/users/${BOB}/authentication/hardwareOathMethods/${id}/deactivate`), 400, 'BadRequest');
    expectGraphError(await graph.post(`${methods(BOB)}/${id}/deactivate`, { reason: 'x' }), 400, 'BadRequest');
    expectGraphError(await graph.post(`${methods(CAROL)}/${id}/deactivate`), 404, 'itemNotFound');
    expectGraphError(await graph.get(`${methods(BOB)}/${id}/deactivate`), 405, 'Request_BadRequest');
  });
});

describe('hardwareOathMethods/assignAndActivate', () => {
  it('assigns and activates the device named by id in one request (204)', async () => {
    await awayFromStepBoundary(30);
    const id = await createToken('30020001');
    const r = await graph.post(`${methods(BOB)}/assignAndActivate`, { device: { id }, verificationCode: totp(contosoSeed('30020001')), displayName: 'Bob token' });
    expect(r.status).toBe(204);
    expect(await device(id)).toMatchObject({ status: 'activated', displayName: 'Bob token', assignedTo: { id: emu.state.findUser(BOB)!.id } });
    expect(emu.state.findUser(BOB)!.hardwareOath).toEqual([id]);
  });

  it('changes nothing on a wrong code, and refuses what assigning refuses', async () => {
    const id = await createToken('30020002');
    const wrong = totp(contosoSeed('30020002'), 10);
    expectGraphError(await graph.post(`${methods(BOB)}/assignAndActivate`, { device: { id }, verificationCode: wrong }), 400, 'badRequest');
    expect(await device(id)).toMatchObject({ status: 'available', assignedTo: null });
    expectGraphError(await graph.post(`${methods(BOB)}/assignAndActivate`, { device: { id } }), 400, 'BadRequest');
    expectGraphError(await graph.post(`${methods(BOB)}/assignAndActivate`, { device: { id: '00000000-0000-0000-0000-000000000001' }, verificationCode: '123456' }), 404, 'Request_ResourceNotFound');
    expectGraphError(await graph.post(`${methods(BOB)}/assignAndActivate`, { serialNumber: '30020002', verificationCode: '123456' }), 400, 'BadRequest');
    await graph.post(methods(CAROL), { device: { id } });
    expectGraphError(await graph.post(`${methods(BOB)}/assignAndActivate`, { device: { id }, verificationCode: totp(contosoSeed('30020002')) }), 400, 'badRequest');
    expectGraphError(await graph.post(`${methods(CAROL)}/assignAndActivate`, { device: { id }, verificationCode: totp(contosoSeed('30020002')) }), 409, 'conflict');
    // julia already holds five Authenticator registrations.
    const other = await createToken('30020003');
    expectGraphError(await graph.post(`${methods('julia@contoso.com')}/assignAndActivate`, { device: { id: other }, verificationCode: totp(contosoSeed('30020003')) }), 400, 'badRequest');
  });
});

describe('hardwareOathMethods/assignAndActivateBySerialNumber', () => {
  it("is refused in the stock Contoso tenant, whose policy has HardwareOath disabled, with the policy's refusal: nothing assigned or activated (a Graph-contract review saw 204)", async () => {
    await awayFromStepBoundary(30);
    const stock = inProcess();
    const r = await stock.graph.post(`${methods(BOB)}/assignAndActivateBySerialNumber`, { serialNumber: '20019998', verificationCode: totp(contosoSeed('20019998')) });
    expectGraphError(r, 400, 'badRequest');
    expect(r.body.error.message).toBe(POLICY_NOT_EFFECTIVE_MESSAGE);
    expect(stock.emu.state.devices.find((d) => d.serialNumber === '20019998')).toMatchObject({ status: 'available', assignedTo: null });
  });

  it('finds the inventory token by serial, assigns and activates it (204)', async () => {
    await awayFromStepBoundary(30);
    const id = await createToken('30030001');
    const r = await graph.post(`${methods(BOB)}/assignAndActivateBySerialNumber`, { serialNumber: '30030001', verificationCode: totp(contosoSeed('30030001')), displayName: 'Bob' });
    expect(r.status).toBe(204);
    expect(await device(id)).toMatchObject({ status: 'activated', displayName: 'Bob', assignedTo: { id: emu.state.findUser(BOB)!.id } });
  });

  it('404s an unknown serial, and takes the one available token when serials repeat', async () => {
    await awayFromStepBoundary(30);
    expectGraphError(await graph.post(`${methods(BOB)}/assignAndActivateBySerialNumber`, { serialNumber: 'NOPE', verificationCode: '123456' }), 404, 'Request_ResourceNotFound');
    expectGraphError(await graph.post(`${methods(BOB)}/assignAndActivateBySerialNumber`, { verificationCode: '123456' }), 400, 'BadRequest');
    const first = await createToken('30030002');
    const second = await createToken('30030002', { secretKey: encodeBase32(contosoSeed('other')) });
    const code = totp(contosoSeed('30030002'));
    // Two available tokens with that serial: ambiguous.
    expectGraphError(await graph.post(`${methods(BOB)}/assignAndActivateBySerialNumber`, { serialNumber: '30030002', verificationCode: code }), 400, 'BadRequest');
    await graph.post(methods(CAROL), { device: { id: second } });
    expect((await graph.post(`${methods(BOB)}/assignAndActivateBySerialNumber`, { serialNumber: '30030002', verificationCode: code })).status).toBe(204);
    expect((await device(first)).status).toBe('activated');
    expect((await device(second)).status).toBe('assigned');
  });
});

describe('hardware token details', () => {
  it('takes hash function names in any case (the admin center writes HMACSHA1)', async () => {
    const r = await graph.post(DEVICES, newToken('30040001', { hashFunction: 'HMACSHA256' }));
    expect(r.status).toBe(201);
    expect(r.body.hashFunction).toBe('hmacsha256');
    const bulk = await graph.patch(DEVICES, { '@context': '#$delta', value: [newToken('30040002', { hashFunction: 'HmacSha1' })] });
    expect(bulk.status).toBe(201);
    expect(bulk.body.value[0].device.hashFunction).toBe('hmacsha1');
    expectGraphError(await graph.post(DEVICES, newToken('30040003', { hashFunction: 'HMACSHA512' })), 400, 'BadRequest');
    expectGraphError(await graph.post(DEVICES, newToken('30040004', { hashFunction: 1 })), 400, 'BadRequest');
    const tenant = inProcess({
      tenant: { tenant: { id: '11111111-2222-3333-4444-555555555555' }, hardwareOathDevices: [{ ...newToken('1'), hashFunction: 'HMACSHA1' }] },
    });
    expect(tenant.emu.state.devices[0]!.hashFunction).toBe('hmacsha1');
  });

  it('refuses a request body over 4 MB with 413, so a bulk create must be split', async () => {
    const many = Array.from({ length: 12_000 }, (_, i) => newToken(`4${String(i).padStart(7, '0')}`, { displayName: 'x'.repeat(300) }));
    const body = JSON.stringify({ '@context': '#$delta', value: many });
    expect(body.length).toBeGreaterThan(4 * 1024 * 1024);
    const r = await graph.call('PATCH', DEVICES, body);
    expectGraphError(r, 413, 'RequestEntityTooLarge');
    expect(emu.state.devices.filter((d) => d.serialNumber.startsWith('4'))).toHaveLength(0);
    const half = JSON.stringify({ '@context': '#$delta', value: many.slice(0, 2000) });
    expect((await graph.call('PATCH', DEVICES, half)).status).toBe(201);
  });
});
