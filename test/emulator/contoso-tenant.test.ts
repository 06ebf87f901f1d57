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

describe('the bundled Contoso tenant: the cutover', () => {
  it('has a federated contoso.com (federatedIdpMfaBehavior accepting the AD FS MFA) and a managed initial domain', async () => {
    const domains = (await graph.get('/v1.0/domains')).body.value;
    expect(domains.map((d: { id: string; authenticationType: string }) => `${d.id} ${d.authenticationType}`)).toEqual(['contoso.onmicrosoft.com Managed', 'contoso.com Federated']);
    const federation = (await graph.get('/v1.0/domains/contoso.com/federationConfiguration')).body.value;
    expect(federation).toEqual([expect.objectContaining({ displayName: 'Contoso AD FS', federatedIdpMfaBehavior: 'acceptIfMfaDoneByFederatedIdp' })]);
  });

  it('has an empty assigned rollout group, a dynamic group, and no rollout policy yet', async () => {
    const groups = (await graph.get('/v1.0/groups?$select=id,displayName,groupTypes,membershipRule')).body.value;
    const rollout = groups.find((g: { displayName: string }) => g.displayName === 'MFA Staged Rollout');
    expect(rollout.groupTypes).toEqual([]);
    expect((await graph.get(`/v1.0/groups/${rollout.id}/members`)).body.value).toEqual([]);
    const sales = groups.find((g: { displayName: string }) => g.displayName === 'Contoso Sales');
    expect(sales).toMatchObject({ groupTypes: ['DynamicMembership'], membershipRule: '(user.department -eq "Sales")' });
    expect((await graph.get('/v1.0/policies/featureRolloutPolicies')).body.value).toEqual([]);
  });

  it('signs in an admin (delegated) whose minted token can do the whole cutover, staged rollout included', async () => {
    const token = (await (await fetch(`${emu.url}/_emulator/token`, { method: 'POST' })).json()) as { access_token: string };
    const admin = graph.as(token.access_token);
    const state = emu.snapshot() as { identity: { userPrincipalName: string } };
    expect(state.identity.userPrincipalName).toBe('admin@contoso.com');
    const created = await admin.post('/v1.0/policies/featureRolloutPolicies', { displayName: 'MFA', feature: 'multiFactorAuthentication', isEnabled: true });
    expect(created.status).toBe(201);
    emu.reset();
  });

  it('keeps phone-only users (their methods after migration would be SMS and voice only)', () => {
    const state = emu.snapshot() as { users: StateUser[] };
    const phoneOnly = state.users.filter((u) => u.methods.phone.length > 0 && u.methods.microsoftAuthenticator.length === 0 && u.methods.hardwareOath.length === 0);
    expect(phoneOnly.map((u) => u.userPrincipalName).sort()).toEqual(['alice@contoso.com', 'igor@contoso.com', 'quinn@contoso.com', 'rupert@contoso.com']);
  });
});
