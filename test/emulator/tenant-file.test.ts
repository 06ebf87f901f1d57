import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEmulator, TenantFileError } from '../../src/emulator/index.js';
import { buildState, readTenantFile } from '../../src/emulator/tenant-file.js';

const TENANT = { id: '11111111-2222-3333-4444-555555555555' };
const user = (upn: string, extra: Record<string, unknown> = {}) => ({ userPrincipalName: upn, displayName: upn.split('@')[0], ...extra });
const device = (serial: string, extra: Record<string, unknown> = {}) => ({
  serialNumber: serial,
  manufacturer: 'Contoso',
  model: 'T1',
  secretKey: 'JBSWY3DPEHPK3PXP',
  timeIntervalInSeconds: 30,
  ...extra,
});

function problems(doc: unknown): string[] {
  try {
    buildState(doc, 'tenant.json', 1);
  } catch (err) {
    if (err instanceof TenantFileError) return err.problems;
    throw err;
  }
  return [];
}

describe('tenant file validation', () => {
  it('accepts a minimal tenant and fills in ids, defaults and Graph\'s default policy', () => {
    const state = buildState({ tenant: TENANT, users: [user('a@example.com')] }, 'tenant.json', 1);
    expect(state.users[0]!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(state.users[0]!.props['accountEnabled']).toBe(true);
    expect(state.tenant.size).toBe('S');
    expect(state.policy.authenticationMethodConfigurations.find((c) => c.id === 'Sms')!.state).toBe('disabled');
    // Ids a file leaves out are stable across loads.
    expect(buildState({ tenant: TENANT, users: [user('a@example.com')] }, 'x', 2).users[0]!.id).toBe(state.users[0]!.id);
  });

  it('names the JSON path of shape errors and unknown properties', () => {
    expect(problems({ tenant: { id: 'nope' } })).toEqual(['$.tenant.id: must be a GUID']);
    expect(problems({ tenant: TENANT, users: [user('a@example.com', { colour: 'red' })] })).toEqual(["$.users[0]: unknown property 'colour'"]);
    expect(problems({ tenant: TENANT, users: [user('a@example.com', { methods: { phone: [{ phoneType: 'mobile', phoneNumber: '425-555-0100' }] } })] })[0]).toMatch(
      /^\$\.users\[0\]\.methods\.phone\[0\]\.phoneNumber: must be in Graph's format/,
    );
    expect(problems({ tenant: TENANT, hardwareOathDevices: [device('1', { secretKey: 'abc!' })] })[0]).toMatch(/^\$\.hardwareOathDevices\[0\]\.secretKey: /);
    expect(problems({ tenant: TENANT, hardwareOathDevices: [device('1', { timeIntervalInSeconds: 45 })] })[0]).toMatch(
      /^\$\.hardwareOathDevices\[0\]\.timeIntervalInSeconds/,
    );
  });

  it("enforces Graph's rules on the methods it describes", () => {
    const mobile = { phoneType: 'mobile', phoneNumber: '+1 4255550100' };
    const alt = { phoneType: 'alternateMobile', phoneNumber: '+1 4255550101' };
    expect(problems({ tenant: TENANT, users: [user('a@example.com', { methods: { phone: [alt] } })] })).toEqual([
      '$.users[0].methods.phone: an alternateMobile phone requires a mobile phone',
    ]);
    expect(problems({ tenant: TENANT, users: [user('a@example.com', { methods: { phone: [mobile, mobile] } })] })[0]).toContain('$.users[0].methods.phone[1].phoneType');
    expect(
      problems({ tenant: TENANT, users: [user('a@example.com', { methods: { email: [{ emailAddress: 'a@x.com' }, { emailAddress: 'b@x.com' }] } })] }),
    ).toEqual(['$.users[0].methods.email: a user can have only one email method']);
    const six = Array.from({ length: 6 }, (_, i) => ({ displayName: `Phone ${i}` }));
    expect(problems({ tenant: TENANT, users: [user('a@example.com', { methods: { microsoftAuthenticator: six } })] })[0]).toContain('at most 5');
    expect(problems({ tenant: TENANT, users: [user('a@example.com', { signInPreferences: { userPreferredMethodForSecondaryAuthentication: 'sms' } })] })).toEqual([
      '$.users[0].signInPreferences.userPreferredMethodForSecondaryAuthentication: sms requires a mobile phone method',
    ]);
  });

  it('checks references between users, devices and groups', () => {
    expect(problems({ tenant: TENANT, users: [user('a@example.com'), user('A@example.com')] })).toEqual([
      "$.users[1].userPrincipalName: duplicate userPrincipalName 'A@example.com'",
    ]);
    expect(problems({ tenant: TENANT, users: [user('a@example.com', { methods: { hardwareOath: ['42'] } })] })).toEqual([
      "$.users[0].methods.hardwareOath[0]: no hardware OATH device with id or serial number '42'",
    ]);
    const twice = problems({
      tenant: TENANT,
      users: [user('a@example.com', { methods: { hardwareOath: ['S1'] } }), user('b@example.com', { methods: { hardwareOath: ['S1'] } })],
      hardwareOathDevices: [device('S1')],
    });
    expect(twice).toEqual(["$.users[1].methods.hardwareOath[0]: device 'S1' is already assigned to another user"]);
    expect(problems({ tenant: TENANT, hardwareOathDevices: [device('S1', { status: 'activated' })] })).toEqual([
      "$.hardwareOathDevices[0].status: 'activated' needs the device to be assigned to a user",
    ]);
    expect(problems({ tenant: TENANT, groups: [{ displayName: 'G', members: ['nobody@example.com'] }] })).toEqual([
      "$.groups[0].members[0]: no user (id or userPrincipalName), group or contact (id) 'nobody@example.com'",
    ]);
  });

  it('resolves users by UPN and devices by serial, from either side of an assignment', () => {
    const state = buildState(
      {
        tenant: TENANT,
        users: [user('a@example.com', { methods: { hardwareOath: ['S1'] } }), user('b@example.com')],
        hardwareOathDevices: [device('S1', { status: 'activated' }), device('S2', { assignedTo: { id: 'b@example.com' } })],
        groups: [{ displayName: 'G', members: ['a@example.com', 'B@example.com'] }],
      },
      'x',
      1,
    );
    expect(state.devices.map((d) => [d.serialNumber, d.status, state.findUser(d.assignedTo!)!.userPrincipalName])).toEqual([
      ['S1', 'activated', 'a@example.com'],
      ['S2', 'assigned', 'b@example.com'],
    ]);
    expect(state.groups[0]!.members).toEqual(state.users.map((u) => u.id));
  });

  it('merges policy settings over the defaults and checks them as a PATCH would', () => {
    const state = buildState(
      {
        tenant: TENANT,
        authenticationMethodsPolicy: {
          policyMigrationState: 'migrationComplete',
          authenticationMethodConfigurations: [{ id: 'sms', state: 'enabled' }],
        },
      },
      'x',
      1,
    );
    expect(state.policy.policyMigrationState).toBe('migrationComplete');
    const sms = state.policy.authenticationMethodConfigurations.find((c) => c.id === 'Sms')!;
    expect(sms.state).toBe('enabled');
    expect(sms['includeTargets']).toEqual([{ targetType: 'group', id: 'all_users', isRegistrationRequired: false, isUsableForSignIn: true }]);
    expect(problems({ tenant: TENANT, authenticationMethodsPolicy: { authenticationMethodConfigurations: [{ id: 'Carrier' }] } })[0]).toMatch(
      /^\$\.authenticationMethodsPolicy\.authenticationMethodConfigurations\[0\]\.id: must be one of Fido2, /,
    );
    expect(problems({ tenant: TENANT, authenticationMethodsPolicy: { authenticationMethodConfigurations: [{ id: 'Voice', loud: true }] } })[0]).toContain(
      "The property 'loud' does not exist",
    );
  });

  it('reports an unreadable or non-JSON file by name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tenant-'));
    const missing = join(dir, 'missing.json');
    expect(() => readTenantFile(missing)).toThrow(/missing\.json.*ENOENT/s);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"tenant": ');
    expect(() => readTenantFile(broken)).toThrow(/broken\.json.*not valid JSON/s);
    await expect(startEmulator({ tenant: broken, port: 0 })).rejects.toBeInstanceOf(TenantFileError);
  });
});

describe('tenant file: policy targets', () => {
  it('refuses targets naming groups or users the tenant does not have, and passkey profiles the FIDO2 configuration lacks', () => {
    const policy = (p: Record<string, unknown>) => problems({ tenant: TENANT, users: [user('a@example.com')], groups: [{ id: 'aaaaaaaa-0000-0000-0000-000000000001', displayName: 'G' }], authenticationMethodsPolicy: p });
    expect(policy({ registrationEnforcement: { authenticationMethodsRegistrationCampaign: { includeTargets: [{ id: 'aaaaaaaa-0000-0000-0000-000000000001', targetType: 'group' }] } } })).toEqual([]);
    expect(policy({ registrationEnforcement: { authenticationMethodsRegistrationCampaign: { includeTargets: [{ id: 'G', targetType: 'group' }] } } })).toEqual([
      "$.authenticationMethodsPolicy.registrationEnforcement.authenticationMethodsRegistrationCampaign.includeTargets[0]: no group 'G' in the tenant",
    ]);
    expect(policy({ authenticationMethodConfigurations: [{ id: 'Fido2', includeTargets: [{ id: 'all_users', targetType: 'group', allowedPasskeyProfiles: ['x'] }] }] })).toEqual([
      "$.authenticationMethodsPolicy.authenticationMethodConfigurations(Fido2).includeTargets[0].allowedPasskeyProfiles: no passkey profile 'x'",
    ]);
    expect(policy({ authenticationMethodConfigurations: [{ id: 'Sms', excludeTargets: [{ id: 'bbbbbbbb-0000-0000-0000-000000000001', targetType: 'group' }] }] })).toHaveLength(1);
  });
});

/** A lead of an earlier session: the emulator held users Graph refuses to make, which a plan then matched and apply wrote to. */
describe('a userPrincipalName Graph refuses is refused here too', () => {
  it.each([
    ['a,b@example.com', '","'],
    ['a;b@example.com', '";"'],
    ['m\u00fcller@example.com', '"\u00fc" (not ASCII'],
    ['a&b@example.com', '"&"'],
    ['dot.@example.com', 'a period stands just before the @'],
    [`${'a'.repeat(65)}@example.com`, '65 characters stand before the @'],
  ])('%s', (upn, why) => {
    const said = problems({ tenant: TENANT, users: [user(upn)] });
    expect(said).toHaveLength(1);
    expect(said[0]).toContain(`$.users[0].userPrincipalName: ${JSON.stringify(upn)}: `);
    expect(said[0]).toContain(why);
    expect(said[0]).toMatch(/Graph refuses such a user \(400 Request_BadRequest: Property userPrincipalName is invalid\.\)$/);
  });

  it("what Graph takes is taken: $ first, ' ! # ^ ~ _ - . inside, upper case", () => {
    expect(problems({ tenant: TENANT, users: ["$admin@example.com", "o'brien@example.com", 'a!b#c^d~e_f-g.h@example.com', 'Upper.Case@example.com'].map((u) => user(u)) })).toEqual([]);
  });
});
