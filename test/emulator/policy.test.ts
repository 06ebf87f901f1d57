import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { expectGraphError, start, type GraphClient } from './helpers.js';

let emu: RunningEmulator;
let graph: GraphClient;
beforeAll(async () => ({ emu, graph } = await start()));
afterAll(() => emu.stop());

const POLICY = '/v1.0/policies/authenticationMethodsPolicy';
const CONFIGS = `${POLICY}/authenticationMethodConfigurations`;

describe('authentication methods policy', () => {
  it("returns Graph's defaults with the configurations expanded", async () => {
    const r = await graph.get(POLICY);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: 'authenticationMethodsPolicy', policyMigrationState: 'preMigration' });
    expect(r.body.registrationEnforcement.authenticationMethodsRegistrationCampaign.includeTargets[0]).toEqual({
      id: 'all_users',
      targetType: 'group',
      targetedAuthenticationMethod: 'microsoftAuthenticator',
    });
    const byId = Object.fromEntries(r.body.authenticationMethodConfigurations.map((c: { id: string }) => [c.id, c]));
    expect(Object.keys(byId).sort()).toEqual(
      ['Email', 'Fido2', 'HardwareOath', 'MicrosoftAuthenticator', 'Sms', 'SoftwareOath', 'TemporaryAccessPass', 'Voice', 'X509Certificate'].sort(),
    );
    expect(byId.Sms).toMatchObject({ '@odata.type': '#microsoft.graph.smsAuthenticationMethodConfiguration', state: 'disabled' });
    expect(byId.Voice).toMatchObject({ state: 'disabled', isOfficePhoneAllowed: false });
    expect(byId.HardwareOath.state).toBe('disabled');
    expect(byId.MicrosoftAuthenticator).toMatchObject({ state: 'enabled', includeTargets: [{ id: 'all_users', authenticationMode: 'any' }] });
    expect(r.body.reportSuspiciousActivitySettings.state).toBe('default');
    expect(r.body.systemCredentialPreferences.state).toBe('default');
  });

  it('gets a configuration by id case-insensitively', async () => {
    const r = await graph.get(`${CONFIGS}/hardwareoath`);
    expect(r.status).toBe(200);
    expect(r.body.id).toBe('HardwareOath');
    expectGraphError(await graph.get(`${CONFIGS}/Carrier`), 404, 'Request_ResourceNotFound');
  });

  it('updates a configuration with @odata.type and answers 204', async () => {
    const r = await graph.patch(`${CONFIGS}/voice`, {
      '@odata.type': '#microsoft.graph.voiceAuthenticationMethodConfiguration',
      state: 'enabled',
      // Graph's own sample sends the boolean as a string.
      isOfficePhoneAllowed: 'true',
    });
    expect(r.status).toBe(204);
    expect(r.body).toBeUndefined();
    const after = await graph.get(`${CONFIGS}/Voice`);
    expect(after.body).toMatchObject({ state: 'enabled', isOfficePhoneAllowed: true, includeTargets: [{ id: 'all_users' }] });
  });

  it('refuses a PATCH without @odata.type', async () => {
    const r = await graph.patch(`${CONFIGS}/Sms`, { state: 'enabled' });
    expectGraphError(r, 400, 'BadRequest');
    expect((await graph.get(`${CONFIGS}/Sms`)).body.state).toBe('disabled');
  });

  it('refuses unknown properties and bad values', async () => {
    const unknown = await graph.patch(`${CONFIGS}/Sms`, { '@odata.type': '#microsoft.graph.smsAuthenticationMethodConfiguration', colour: 'blue' });
    expectGraphError(unknown, 400, 'BadRequest');
    expect(unknown.body.error.message).toContain("The property 'colour' does not exist on type 'microsoft.graph.smsAuthenticationMethodConfiguration'");
    const badState = await graph.patch(`${CONFIGS}/Sms`, { '@odata.type': '#microsoft.graph.smsAuthenticationMethodConfiguration', state: 'on' });
    expectGraphError(badState, 400, 'BadRequest');
    const wrongType = await graph.patch(`${CONFIGS}/Sms`, { '@odata.type': '#microsoft.graph.voiceAuthenticationMethodConfiguration', state: 'enabled' });
    expectGraphError(wrongType, 400, 'BadRequest');
  });

  it("refuses toggling number matching with Graph's message", async () => {
    const r = await graph.patch(`${CONFIGS}/MicrosoftAuthenticator`, {
      '@odata.type': '#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration',
      featureSettings: { numberMatchingRequiredState: { state: 'enabled', includeTarget: { targetType: 'group', id: 'all_users' } } },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toBe(
      "Persistance of policy failed with error: Microsoft Authenticator's number matching feature can no longer be toggled as part of featureSettings.",
    );
  });

  it('merges nested settings and replaces target lists', async () => {
    const r = await graph.patch(`${CONFIGS}/MicrosoftAuthenticator`, {
      '@odata.type': '#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration',
      isSoftwareOathEnabled: true,
      featureSettings: { displayAppInformationRequiredState: { state: 'enabled' } },
      includeTargets: [{ id: 'b7ab3b4e-0000-4000-8000-000000000001', targetType: 'group', isRegistrationRequired: false, authenticationMode: 'push' }],
    });
    expect(r.status).toBe(204);
    const after = (await graph.get(`${CONFIGS}/MicrosoftAuthenticator`)).body;
    expect(after.isSoftwareOathEnabled).toBe(true);
    expect(after.featureSettings.displayAppInformationRequiredState).toMatchObject({ state: 'enabled', includeTarget: { id: 'all_users' } });
    expect(after.featureSettings.displayLocationInformationRequiredState.state).toBe('default');
    expect(after.includeTargets).toEqual([
      { id: 'b7ab3b4e-0000-4000-8000-000000000001', targetType: 'group', isRegistrationRequired: false, authenticationMode: 'push' },
    ]);
  });

  it('resets a configuration to its default on DELETE', async () => {
    await graph.patch(`${CONFIGS}/Email`, { '@odata.type': '#microsoft.graph.emailAuthenticationMethodConfiguration', state: 'disabled' });
    expect((await graph.delete(`${CONFIGS}/Email`)).status).toBe(204);
    expect((await graph.get(`${CONFIGS}/Email`)).body.state).toBe('enabled');
  });

  it('updates the policy itself and refuses unknown or invalid settings', async () => {
    const r = await graph.patch(POLICY, {
      policyMigrationState: 'migrationInProgress',
      registrationEnforcement: { authenticationMethodsRegistrationCampaign: { snoozeDurationInDays: 3, state: 'enabled' } },
    });
    expect(r.status).toBe(200);
    expect(r.body.policyMigrationState).toBe('migrationInProgress');
    expect(r.body.registrationEnforcement.authenticationMethodsRegistrationCampaign).toMatchObject({
      snoozeDurationInDays: 3,
      state: 'enabled',
      includeTargets: [{ id: 'all_users' }],
    });
    expectGraphError(await graph.patch(POLICY, { policyMigrationState: 'done' }), 400, 'BadRequest');
    expectGraphError(
      await graph.patch(POLICY, { registrationEnforcement: { authenticationMethodsRegistrationCampaign: { snoozeDurationInDays: 15 } } }),
      400,
      'BadRequest',
    );
    expectGraphError(await graph.patch(POLICY, { mood: 'calm' }), 400, 'BadRequest');
    // Beta-only setting is refused on v1.0 and accepted on beta.
    expectGraphError(await graph.patch(POLICY, { microsoftAuthenticatorPlatformSettings: { enforceAppPIN: {} } }), 400, 'BadRequest');
    expect((await graph.patch('/beta/policies/authenticationMethodsPolicy', { microsoftAuthenticatorPlatformSettings: { enforceAppPIN: {} } })).status).toBe(200);
  });
});
