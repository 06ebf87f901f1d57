import { describe, expect, it } from 'vitest';
import { encodeBase32 } from '../../src/emulator/oath-secret.js';
import { secretFingerprint } from '../../src/model/secret.js';
import { contosoSeed } from './contoso-tenant.js';
import { expectGraphError, inProcess } from './helpers.js';
import { awayFromStepBoundary, DEVICES, HARDWARE_OATH_ENABLED, methods, newToken, totp } from './oath-helpers.js';

const TENANT_ID = '11111111-2222-3333-4444-555555555555';
const ANA = 'ana@example.com';

/** Ana holds a token the inventory does not list (uploaded through the admin center's CSV route), and one it does. */
function legacyTenant(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tenant: { id: TENANT_ID },
    users: [
      {
        userPrincipalName: ANA,
        displayName: 'Ana',
        methods: { hardwareOath: [{ serialNumber: 'LEGACY-1', manufacturer: 'Feitian', model: 'c100', secretKey: encodeBase32(contosoSeed('LEGACY-1')) }, 'INV-1'] },
      },
      { userPrincipalName: 'ben@example.com', displayName: 'Ben' },
    ],
    hardwareOathDevices: [newToken('INV-1'), newToken('INV-2')],
    ...extra,
  };
}

describe('a legacy token: held by its user, missing from the inventory', () => {
  it("is in the user's hardwareOathMethods with device.serialNumber, and not in the inventory", async () => {
    const { graph, emu } = inProcess({ tenant: legacyTenant() });
    const mine = (await graph.get(methods(ANA))).body.value;
    expect(mine.map((m: { device: { serialNumber: string } }) => m.device.serialNumber).sort()).toEqual(['INV-1', 'LEGACY-1']);
    const legacy = mine.find((m: { device: { serialNumber: string } }) => m.device.serialNumber === 'LEGACY-1');
    expect(legacy).toMatchObject({ '@odata.type': '#microsoft.graph.hardwareOathAuthenticationMethod', device: { status: 'activated', manufacturer: 'Feitian', secretKey: null } });
    const inventory = (await graph.get(DEVICES)).body.value.map((d: { serialNumber: string }) => d.serialNumber).sort();
    expect(inventory).toEqual(['INV-1', 'INV-2']);
    expect((await graph.get(`${DEVICES}?$filter=serialNumber eq 'LEGACY-1'`)).body.value).toEqual([]);
    expectGraphError(await graph.get(`${DEVICES}/${legacy.id}`), 404, 'Request_ResourceNotFound');
    expectGraphError(await graph.post(`/beta/users/ben@example.com/authentication/hardwareOathMethods/assignAndActivateBySerialNumber`, { serialNumber: 'LEGACY-1', verificationCode: '123456' }), 404, 'Request_ResourceNotFound');
    // The methods list (beta) shows it too; the state marks it.
    expect((await graph.get(`/beta/users/${ANA}/authentication/methods`)).body.value.filter((m: { '@odata.type': string }) => m['@odata.type'] === '#microsoft.graph.hardwareOathAuthenticationMethod')).toHaveLength(2);
    const state = emu.snapshot() as { hardwareOathDevices: { serialNumber: string; inInventory: boolean; secretFingerprint: string }[] };
    expect(state.hardwareOathDevices.find((d) => d.serialNumber === 'LEGACY-1')).toMatchObject({ inInventory: false, secretFingerprint: secretFingerprint(contosoSeed('LEGACY-1')) });
    expect(state.hardwareOathDevices.find((d) => d.serialNumber === 'INV-1')!.inInventory).toBe(true);
  });

  it('can be created again in the inventory with the same serial (as Graph allows), and deleting the method removes it', async () => {
    const { graph, emu } = inProcess({ tenant: legacyTenant() });
    const created = await graph.post(DEVICES, newToken('LEGACY-1'));
    expect(created.status).toBe(201);
    expect(emu.state.devices.filter((d) => d.serialNumber === 'LEGACY-1')).toHaveLength(2);
    const legacyId = emu.state.devices.find((d) => d.serialNumber === 'LEGACY-1' && !d.inInventory)!.id;
    expect((await graph.delete(`${methods(ANA)}/${legacyId}`)).status).toBe(204);
    expect(emu.state.findDevice(legacyId)).toBeUndefined();
    expect((await graph.get(methods(ANA))).body.value.map((m: { device: { serialNumber: string } }) => m.device.serialNumber)).toEqual(['INV-1']);
  });

  it('deactivates and activates with its seed when the tenant file gives one; without a seed no code activates it', async () => {
    await awayFromStepBoundary(30);
    const { graph, emu } = inProcess({ tenant: legacyTenant(HARDWARE_OATH_ENABLED) });
    const id = emu.state.devices.find((d) => d.serialNumber === 'LEGACY-1')!.id;
    expect((await graph.post(`${methods(ANA)}/${id}/deactivate`)).status).toBe(204);
    expect((await graph.post(`${methods(ANA)}/${id}/activate`, { verificationCode: totp(contosoSeed('LEGACY-1')) })).status).toBe(204);
    const seedless = inProcess({ tenant: { tenant: { id: TENANT_ID }, users: [{ userPrincipalName: ANA, displayName: 'Ana', methods: { hardwareOath: [{ serialNumber: 'OLD', status: 'assigned' }] } }], ...HARDWARE_OATH_ENABLED } });
    const old = seedless.emu.state.devices[0]!;
    expect(old).toMatchObject({ inInventory: false, status: 'assigned', secret: null });
    const refused = await seedless.graph.post(`${methods(ANA)}/${old.id}/activate`, { verificationCode: '123456' });
    expectGraphError(refused, 400, 'badRequest');
    expect(refused.body.error.message).toMatch(/verification code is not valid/);
  });

  it('counts toward the five-device limit and is checked by the tenant file', () => {
    const six = Array.from({ length: 6 }, (_, i) => ({ serialNumber: `L${i}` }));
    expect(() => inProcess({ tenant: { tenant: { id: TENANT_ID }, users: [{ userPrincipalName: ANA, displayName: 'Ana', methods: { hardwareOath: six } }] } })).toThrow(/at most 5 OATH tokens/);
    expect(() => inProcess({ tenant: { tenant: { id: TENANT_ID }, users: [{ userPrincipalName: ANA, displayName: 'Ana', methods: { hardwareOath: [{ serialNumber: 'L', status: 'available' }] } }] } })).toThrow(/users\[0\]\.methods\.hardwareOath\[0\]/);
    expect(() => inProcess({ tenant: { tenant: { id: TENANT_ID }, users: [{ userPrincipalName: ANA, displayName: 'Ana', methods: { hardwareOath: [{ serial: 'L' }] } }] } })).toThrow(/hardwareOath\[0\]/);
  });
});

describe('the inventory item shape switch', () => {
  it("'device' (default): flat device objects in lists and Gets", async () => {
    const { graph } = inProcess({ tenant: legacyTenant() });
    const item = (await graph.get(DEVICES)).body.value[0];
    expect(item).toMatchObject({ '@odata.type': '#microsoft.graph.hardwareOathTokenAuthenticationMethodDevice', serialNumber: 'INV-1' });
    expect((await graph.get(`${DEVICES}/${item.id}`)).body.serialNumber).toBe('INV-1');
  });

  it("'method': list items as hardwareOathAuthenticationMethod with the device under device, a Get wrapped in value", async () => {
    for (const setting of [{ tenant: legacyTenant({ behaviour: { inventoryShape: 'method' } }) }, { tenant: legacyTenant(), behaviour: { inventoryShape: 'method' as const } }]) {
      const { graph } = inProcess(setting);
      const list = (await graph.get(DEVICES)).body.value;
      expect(list.map((i: { device: { serialNumber: string } }) => i.device.serialNumber)).toEqual(['INV-1', 'INV-2']);
      const item = list[0];
      expect(item['@odata.type']).toBe('#microsoft.graph.hardwareOathAuthenticationMethod');
      expect(item.serialNumber).toBeUndefined();
      expect(item.device).toMatchObject({ id: item.id, serialNumber: 'INV-1', status: 'assigned', assignedTo: { displayName: 'Ana' }, secretKey: null });
      expect(item.device['@odata.type']).toBeUndefined();
      const got = (await graph.get(`${DEVICES}/${item.id}`)).body;
      expect(got.serialNumber).toBeUndefined();
      expect(got.value).toMatchObject({ '@odata.type': '#microsoft.graph.hardwareOathTokenAuthenticationMethodDevice', id: item.id, serialNumber: 'INV-1' });
      // $filter and $select still apply (to the device).
      const filtered = (await graph.get(`${DEVICES}?$filter=serialNumber eq 'INV-2'&$select=serialNumber,status`)).body.value;
      expect(filtered).toEqual([{ '@odata.type': '#microsoft.graph.hardwareOathAuthenticationMethod', id: expect.any(String), device: { id: expect.any(String), serialNumber: 'INV-2', status: 'available' } }]);
    }
  });

  it('is refused when misspelt in the tenant file', () => {
    expect(() => inProcess({ tenant: legacyTenant({ behaviour: { inventoryShape: 'flat' } }) })).toThrow(/\$\.behaviour\.inventoryShape/);
  });
});
