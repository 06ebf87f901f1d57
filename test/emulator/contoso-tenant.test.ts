import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { packageRoot } from '../../src/io/package-root.js';
import { secretFingerprint } from '../../src/model/secret.js';
import { contosoSeed, contosoTenantText } from './contoso-tenant.js';
import { start, type GraphClient } from './helpers.js';

let emu: RunningEmulator;
let graph: GraphClient;
beforeAll(async () => ({ emu, graph } = await start()));
afterAll(() => emu.stop());

interface StateUser {
  userPrincipalName: string;
  accountEnabled: boolean;
  methods: { phone: { phoneType: string; phoneNumber: string }[]; microsoftAuthenticator: unknown[]; hardwareOath: string[] };
  signInPreferences: { userPreferredMethodForSecondaryAuthentication: string | null };
}

describe('the bundled Contoso tenant (fixtures/contoso/tenant.json)', () => {
  it('is what test/emulator/contoso-tenant.ts generates from users.csv', () => {
    expect(readFileSync(join(packageRoot(), 'fixtures', 'contoso', 'tenant.json'), 'utf8')).toBe(contosoTenantText());
  });

  it('holds every exported user but sybil, with lower-case UPNs, and a couple of tenant-only users', async () => {
    const csv = readFileSync(join(packageRoot(), 'fixtures', 'contoso', 'users.csv'), 'utf8').trim().split('\n').slice(1);
    const exported = csv.map((line) => line.split(',')[0]!.toLowerCase());
    const state = emu.snapshot() as { users: StateUser[]; tenant: { size: string } };
    const upns = state.users.map((u) => u.userPrincipalName);
    for (const upn of exported) {
      if (upn === 'sybil@contoso.com') expect(upns).not.toContain(upn);
      else expect(upns).toContain(upn);
    }
    expect(upns).toContain('nora.smith@contoso.com');
    expect(upns.every((u) => u === u.toLowerCase())).toBe(true);
    expect(upns.filter((u) => !exported.includes(u)).length).toBeGreaterThanOrEqual(2);
    expect(state.users.filter((u) => !u.accountEnabled).map((u) => u.userPrincipalName).sort()).toEqual(['ravi@contoso.com', 'rupert@contoso.com']);
    expect(state.tenant.size).toBe('S');
  });

  it('matches the "tenant before migration" column of CASES.md', () => {
    const state = emu.snapshot() as { users: StateUser[]; hardwareOathDevices: Record<string, unknown>[] };
    const u = (name: string) => state.users.find((x) => x.userPrincipalName === `${name}@contoso.com`)!;
    const phones = (name: string) => u(name).methods.phone.map((p) => `${p.phoneType} ${p.phoneNumber}`);
    expect(phones('alice')).toEqual(['mobile +1 4255550101']);
    expect(u('niaj').methods.microsoftAuthenticator).toHaveLength(1);
    expect(phones('rupert')).toHaveLength(1);
    expect(phones('igor')).toEqual(['mobile +1 4255550999']);
    expect(u('julia').methods.microsoftAuthenticator).toHaveLength(5);
    expect(phones('quinn')).toEqual(['mobile +1 4255550139', 'alternateMobile +1 4255550940']);
    expect(u('quinn').signInPreferences.userPreferredMethodForSecondaryAuthentication).toBe('sms');
    for (const name of ['bob', 'carol', 'grace', 'olivia', 'peggy', 'zoe', 'priya']) {
      const m = u(name).methods;
      expect(m.phone.length + m.microsoftAuthenticator.length + m.hardwareOath.length).toBe(0);
    }
    const hana = state.hardwareOathDevices.find((d) => d['serialNumber'] === '20010011')!;
    expect(hana).toMatchObject({ status: 'activated', hashFunction: 'hmacsha1', timeIntervalInSeconds: 30, assignedTo: { displayName: 'Hana Hayashi' } });
    expect(hana['secretFingerprint']).toBe(secretFingerprint(contosoSeed('20010011')));
    expect(u('hana').methods.hardwareOath).toEqual([hana['id']]);
    expect(state.hardwareOathDevices.filter((d) => d['status'] === 'available' && d['assignedTo'] === null)).toHaveLength(1);
  });

  it('has the migration groups, Wave 1 nested in All', async () => {
    const groups = (await graph.get('/v1.0/groups?$select=id,displayName')).body.value;
    const wave1 = groups.find((g: { displayName: string }) => g.displayName === 'MFA Migration Wave 1');
    const all = groups.find((g: { displayName: string }) => g.displayName === 'MFA Migration All');
    const allMembers = (await graph.get(`/v1.0/groups/${all.id}/members?$select=id`)).body.value.map((m: { id: string }) => m.id);
    expect(allMembers).toContain(wave1.id);
    const wave1Members = (await graph.get(`/v1.0/groups/${wave1.id}/members`)).body.value;
    expect(wave1Members.length).toBeGreaterThanOrEqual(3);
  });
});
