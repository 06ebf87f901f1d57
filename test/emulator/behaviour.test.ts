import { describe, expect, it } from 'vitest';
import { POLICY_NOT_EFFECTIVE_MESSAGE } from '../../src/emulator/activation-gate.js';
import type { EmulatorOptions } from '../../src/emulator/index.js';
import { contosoSeed } from './contoso-tenant.js';
import { expectGraphError, inProcess, tenantWithUsers, type GraphClient } from './helpers.js';
import { awayFromStepBoundary, DEVICES, methods, newToken, totp } from './oath-helpers.js';

const USER = 'u0@example.com';
const HARDWARE_OATH = '/beta/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/HardwareOath';
const ENABLE = { '@odata.type': '#microsoft.graph.hardwareOathAuthenticationMethodConfiguration', state: 'enabled' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A tenant file's policy with the HardwareOath method enabled (since before the emulator started). */
const ENABLED = { authenticationMethodsPolicy: { authenticationMethodConfigurations: [{ id: 'HardwareOath', state: 'enabled' }] } };

/** A tenant with one user and `n` tokens assigned to them, not yet activated. */
function tenantWithTokens(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const serials = Array.from({ length: n }, (_, i) => `5000000${i}`);
  return {
    ...tenantWithUsers(1),
    hardwareOathDevices: serials.map((s) => ({ ...newToken(s), assignedTo: { id: USER } })),
    ...extra,
  };
}

function activation(graph: GraphClient, emuState: { devices: { id: string; serialNumber: string }[] }, serial: string) {
  const id = emuState.devices.find((d) => d.serialNumber === serial)!.id;
  return graph.post(`${methods(USER)}/${id}/activate`, { verificationCode: totp(contosoSeed(serial)) });
}

describe('behaviour.betaAvailable = false', () => {
  it('answers every beta path as an unknown segment, v1.0 untouched, in $batch items too', async () => {
    for (const options of [{ tenant: { ...tenantWithUsers(1), behaviour: { betaAvailable: false } } }, { tenant: tenantWithUsers(1), behaviour: { betaAvailable: false } }] as EmulatorOptions[]) {
      const { graph } = inProcess(options);
      const r = await graph.get(DEVICES);
      expectGraphError(r, 400, 'BadRequest');
      expect(r.body.error.message).toBe("Resource not found for the segment 'directory'.");
      expect((await graph.get(`/beta/users/${USER}/authentication/signInPreferences`)).body.error.message).toBe("Resource not found for the segment 'users'.");
      expectGraphError(await graph.patch(HARDWARE_OATH, ENABLE), 400, 'BadRequest');
      expect((await graph.get('/v1.0/users')).status).toBe(200);
      expect((await graph.get('/v1.0/policies/authenticationMethodsPolicy')).status).toBe(200);
      const batch = await graph.post('/beta/$batch', { requests: [{ id: '1', method: 'GET', url: '/users' }] });
      expect(batch.status).toBe(200);
      expect(batch.body.responses[0].status).toBe(400);
    }
  });
});

describe('behaviour.hardwareOathPropagationSeconds', () => {
  it('fails activations with a policy error until the delay after HardwareOath is enabled has passed, then succeeds', async () => {
    await awayFromStepBoundary(30);
    // 60 s at time scale 200: 300 ms.
    const { graph, emu } = inProcess({ tenant: tenantWithTokens(2, { behaviour: { hardwareOathPropagationSeconds: 60 } }), timeScale: 200 });
    // Disabled: the policy is not in effect at all.
    const disabled = await activation(graph, emu.state, '50000000');
    expectGraphError(disabled, 400, 'badRequest');
    expect(disabled.body.error.message).toBe(POLICY_NOT_EFFECTIVE_MESSAGE);
    expect((await graph.patch(HARDWARE_OATH, ENABLE)).status).toBe(204);
    expect((await activation(graph, emu.state, '50000000')).body.error?.message).toBe(POLICY_NOT_EFFECTIVE_MESSAGE);
    const devices = await graph.get(DEVICES);
    // A policy refusal is not a failed activation of the token.
    expect(devices.body.value[0].status).toBe('assigned');
    const id = emu.state.devices[1]!.id;
    await graph.delete(`${methods(USER)}/${id}`);
    expect((await graph.post(`${methods(USER)}/assignAndActivate`, { device: { id }, verificationCode: totp(contosoSeed('50000001')) })).body.error.message).toBe(POLICY_NOT_EFFECTIVE_MESSAGE);
    await sleep(320);
    expect((await activation(graph, emu.state, '50000000')).status).toBe(204);
  });

  it('has no delay for a tenant whose HardwareOath was enabled before the emulator started, nor without the switch', async () => {
    const early = inProcess({ tenant: tenantWithTokens(1, { ...ENABLED, behaviour: { hardwareOathPropagationSeconds: 3600 } }) });
    await awayFromStepBoundary(30);
    expect((await activation(early.graph, early.emu.state, '50000000')).status).toBe(204);
    const plain = inProcess({ tenant: tenantWithTokens(1, ENABLED) });
    expect((await activation(plain.graph, plain.emu.state, '50000000')).status).toBe(204);
  });

  it('refuses activations while HardwareOath is disabled even without the switch (the how-to enables it first), and allows them at once when it is enabled', async () => {
    await awayFromStepBoundary(30);
    const { graph, emu } = inProcess({ tenant: tenantWithTokens(2) });
    const refused = await activation(graph, emu.state, '50000000');
    expectGraphError(refused, 400, 'badRequest');
    expect(refused.body.error.message).toBe(POLICY_NOT_EFFECTIVE_MESSAGE);
    // The same refusal for the one-step activations, and the tokens as they were.
    await graph.delete(`${methods(USER)}/${emu.state.devices[1]!.id}`);
    expect((await graph.post(`${methods(USER)}/assignAndActivateBySerialNumber`, { serialNumber: '50000001', verificationCode: totp(contosoSeed('50000001')) })).body.error?.message).toBe(POLICY_NOT_EFFECTIVE_MESSAGE);
    expect((await graph.get(DEVICES)).body.value.map((d: { status: string }) => d.status)).toEqual(['assigned', 'available']);
    expect((await graph.patch(HARDWARE_OATH, ENABLE)).status).toBe(204);
    expect((await activation(graph, emu.state, '50000000')).status).toBe(204);
  });
});

describe('behaviour.hardwareOathEnabledSecondsBeforeStart', () => {
  it('starts the emulator with HardwareOath enabled N seconds ago: the delay left is the rest, and the policy was last modified then', async () => {
    await awayFromStepBoundary(30);
    // Enabled 40 s of a 60 s delay before the start, at time scale 200: 100 ms of it left.
    const before = Date.now();
    const { graph, emu } = inProcess({ tenant: tenantWithTokens(1, { ...ENABLED, behaviour: { hardwareOathPropagationSeconds: 60, hardwareOathEnabledSecondsBeforeStart: 40 } }), timeScale: 200 });
    const policy = (await graph.get('/beta/policies/authenticationMethodsPolicy')).body;
    expect(Date.parse(policy.lastModifiedDateTime)).toBeGreaterThanOrEqual(before - 200 - 5);
    expect(Date.parse(policy.lastModifiedDateTime)).toBeLessThanOrEqual(Date.now() - 200 + 5);
    expect((await activation(graph, emu.state, '50000000')).body.error?.message).toBe(POLICY_NOT_EFFECTIVE_MESSAGE);
    await sleep(120);
    expect((await activation(graph, emu.state, '50000000')).status).toBe(204);
    // Longer ago than the delay: nothing left of it.
    const over = inProcess({ tenant: tenantWithTokens(1, ENABLED), behaviour: { hardwareOathPropagationSeconds: 60, hardwareOathEnabledSecondsBeforeStart: 61 }, timeScale: 200 });
    expect((await activation(over.graph, over.emu.state, '50000000')).status).toBe(204);
  });

  it('needs HardwareOath enabled in the policy, from the tenant file or the options', () => {
    expect(() => inProcess({ tenant: tenantWithTokens(1, { behaviour: { hardwareOathEnabledSecondsBeforeStart: 60 } }) })).toThrow(/\$\.behaviour\.hardwareOathEnabledSecondsBeforeStart: the HardwareOath method is disabled/);
    expect(() => inProcess({ tenant: tenantWithTokens(1), behaviour: { hardwareOathEnabledSecondsBeforeStart: 60 } })).toThrow(/HardwareOath is disabled/);
    expect(() => inProcess({ tenant: tenantWithTokens(1, { ...ENABLED, behaviour: { hardwareOathEnabledSecondsBeforeStart: -1 } }) })).toThrow(/hardwareOathEnabledSecondsBeforeStart/);
  });
});

describe('behaviour.replicationLagSeconds and the default method', () => {
  it('refuses a default method naming a phone just registered or a token just activated until the lag is over; an older method is seen at once', async () => {
    await awayFromStepBoundary(30);
    // 60 s at time scale 200: 300 ms.
    const { graph, emu } = inProcess({ tenant: tenantWithTokens(1, { ...ENABLED, behaviour: { replicationLagSeconds: 60 } }), timeScale: 200 });
    const prefs = `/beta/users/${USER}/authentication/signInPreferences`;
    expect((await graph.post(`/v1.0/users/${USER}/authentication/phoneMethods`, { phoneNumber: '+1 2065550100', phoneType: 'mobile' })).status).toBe(201);
    expectGraphError(await graph.patch(prefs, { userPreferredMethodForSecondaryAuthentication: 'sms' }), 400, 'badRequest');
    expect((await activation(graph, emu.state, '50000000')).status).toBe(204);
    expectGraphError(await graph.patch(prefs, { userPreferredMethodForSecondaryAuthentication: 'oath' }), 400, 'badRequest');
    // The new phone itself is read back at once (only the default-method check lags).
    expect((await graph.get(`/v1.0/users/${USER}/authentication/phoneMethods`)).body.value).toHaveLength(1);
    await sleep(320);
    expect((await graph.patch(prefs, { userPreferredMethodForSecondaryAuthentication: 'sms' })).status).toBe(204);
    expect((await graph.patch(prefs, { userPreferredMethodForSecondaryAuthentication: 'oath' })).status).toBe(204);
    // Without the switch, no lag.
    const plain = inProcess({ tenant: tenantWithUsers(1) });
    expect((await plain.graph.post(`/v1.0/users/${USER}/authentication/phoneMethods`, { phoneNumber: '+1 2065550100', phoneType: 'mobile' })).status).toBe(201);
    expect((await plain.graph.patch(prefs, { userPreferredMethodForSecondaryAuthentication: 'sms' })).status).toBe(204);
  });
});

describe('behaviour.activationRateLimit', () => {
  it('refuses activations past the pace with 429 and a Retry-After, counting every kind of activation', async () => {
    await awayFromStepBoundary(30);
    // 2 activations per 300 s at time scale 1000: a 300 ms window.
    const { graph, emu } = inProcess({ tenant: tenantWithTokens(4, { ...ENABLED, behaviour: { activationRateLimit: { activations: 2, windowSeconds: 300 } } }), timeScale: 1000 });
    expect((await activation(graph, emu.state, '50000000')).status).toBe(204);
    const id = emu.state.devices[1]!.id;
    await graph.delete(`${methods(USER)}/${id}`);
    expect((await graph.post(`${methods(USER)}/assignAndActivate`, { device: { id }, verificationCode: totp(contosoSeed('50000001')) })).status).toBe(204);
    const third = await activation(graph, emu.state, '50000002');
    expectGraphError(third, 429, 'TooManyRequests');
    const retryAfter = Number(third.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(0.3);
    await sleep(retryAfter * 1000 + 5);
    expect((await activation(graph, emu.state, '50000002')).status).toBe(204);
  });

  it('is off by default', async () => {
    await awayFromStepBoundary(30);
    const { graph, emu } = inProcess({ tenant: tenantWithTokens(4, ENABLED) });
    for (const serial of ['50000000', '50000001', '50000002', '50000003']) expect((await activation(graph, emu.state, serial)).status).toBe(204);
  });
});

describe('tenant states a migration meets, set from the tenant file', () => {
  it('policyMigrationState, the system-preferred MFA setting of the policy, and a user\'s isSystemPreferredAuthenticationMethodEnabled', async () => {
    const { graph } = inProcess({
      tenant: {
        ...tenantWithUsers(2),
        users: [
          { userPrincipalName: 'u0@example.com', displayName: 'U0', signInPreferences: { isSystemPreferredAuthenticationMethodEnabled: true } },
          { userPrincipalName: 'u1@example.com', displayName: 'U1' },
        ],
        authenticationMethodsPolicy: {
          policyMigrationState: 'migrationInProgress',
          systemCredentialPreferences: { state: 'enabled', includeTargets: [{ id: 'all_users', targetType: 'group' }], excludeTargets: [] },
        },
      },
    });
    const policy = (await graph.get('/beta/policies/authenticationMethodsPolicy')).body;
    expect(policy.policyMigrationState).toBe('migrationInProgress');
    expect(policy.systemCredentialPreferences.state).toBe('enabled');
    expect((await graph.get('/beta/users/u0@example.com/authentication/signInPreferences')).body.isSystemPreferredAuthenticationMethodEnabled).toBe(true);
    expect((await graph.get('/beta/users/u1@example.com/authentication/signInPreferences')).body.isSystemPreferredAuthenticationMethodEnabled).toBe(false);
    expect(() => inProcess({ tenant: { ...tenantWithUsers(1), authenticationMethodsPolicy: { systemCredentialPreferences: { state: 'on' } } } })).toThrow(/systemCredentialPreferences/);
  });
});

describe('behaviour.maskedPhoneNumbers', () => {
  const PHONES = `/v1.0/users/${USER}/authentication/phoneMethods`;
  const tenant = (behaviour?: Record<string, unknown>) => {
    const t = tenantWithUsers(1);
    const [u] = t.users as Record<string, unknown>[];
    u!.methods = { phone: [ { phoneType: 'mobile', phoneNumber: '+1 4255550101' }, { phoneType: 'office', phoneNumber: '+1 4255550103x1234' } ] };
    return { ...t, ...(behaviour ? { behaviour } : {}) };
  };

  it('reads numbers as an Authentication Administrator sees them (country code, last two digits), from the tenant file or the option, everywhere a phone is read', async () => {
    for (const options of [{ tenant: tenant({ maskedPhoneNumbers: true }) }, { tenant: tenant(), behaviour: { maskedPhoneNumbers: true } }] as EmulatorOptions[]) {
      const { graph, emu } = inProcess(options);
      expect((await graph.get(PHONES)).body.value.map((p: { phoneNumber: string }) => p.phoneNumber)).toEqual(['+1 XXXXXXXX01', '+1 XXXXXXXX03xXXXX']);
      const all = await graph.get(`/beta/users/${USER}/authentication/methods`);
      expect(all.body.value.filter((m: { phoneNumber?: string }) => m.phoneNumber).map((m: { phoneNumber: string }) => m.phoneNumber)).toEqual(['+1 XXXXXXXX01', '+1 XXXXXXXX03xXXXX']);
      expect((await graph.get(`${PHONES}/3179e48a-750b-4051-897c-87b9720928f7`)).body.phoneNumber).toBe('+1 XXXXXXXX01');
      const batch = await graph.post('/v1.0/$batch', { requests: [{ id: '1', method: 'GET', url: `/users/${USER}/authentication/phoneMethods` }] });
      expect(batch.body.responses[0].body.value[0].phoneNumber).toBe('+1 XXXXXXXX01');
      // Writes take real numbers; the state (and /_emulator/state) keeps them.
      expect((await graph.patch(`${PHONES}/3179e48a-750b-4051-897c-87b9720928f7`, { phoneNumber: '+1 4255550199', phoneType: 'mobile' })).status).toBe(204);
      expect(emu.state.users[0]!.phones.mobile!.phoneNumber).toBe('+1 4255550199');
      expect((await graph.get(PHONES)).body.value[0].phoneNumber).toBe('+1 XXXXXXXX99');
    }
  });

  it('is off by default: numbers read as written', async () => {
    const { graph } = inProcess({ tenant: tenant() });
    expect((await graph.get(PHONES)).body.value.map((p: { phoneNumber: string }) => p.phoneNumber)).toEqual(['+1 4255550101', '+1 4255550103x1234']);
  });
});
